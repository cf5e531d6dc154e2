//! `herald-bench registry`: GetAccount and ResolveAccount under concurrent
//! callers against an in-process registry on a fresh SQLite database (or
//! `--database-url`). A gRPC health check under the same load is the
//! baseline: the ratio says what the registry adds to bare tonic on this
//! machine, which matters more than absolute figures on a shared, noisy one.

use std::time::{Duration, Instant};

use anyhow::bail;
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, account_registry_client::AccountRegistryClient};
use herald_registry::auth::Tokens;
use herald_registry::secret_box::SecretBox;
use herald_registry::{Server, Settings};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const ADMIN: &str = "bench-admin-token-000000";
const PRODUCER: &str = "bench-producer-token-000";
const SERVICE: &str = "bench-service-token-0000";

struct Options {
    callers: usize,
    seconds: u64,
    accounts: usize,
    connections: usize,
    database_url: Option<String>,
}

fn parse_options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        callers: 64,
        seconds: 10,
        accounts: 1000,
        connections: 4,
        database_url: None,
    };
    crate::flags(args, |flag, value| {
        match flag {
            "--callers" => o.callers = value.parse()?,
            "--seconds" => o.seconds = value.parse()?,
            "--accounts" => o.accounts = value.parse()?,
            "--connections" => o.connections = value.parse()?,
            "--database-url" => o.database_url = Some(value.to_owned()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if o.callers == 0 || o.accounts == 0 || o.connections == 0 {
        bail!("--callers, --accounts and --connections must be at least 1");
    }
    Ok(o)
}

pub async fn main(args: Vec<String>) -> anyhow::Result<()> {
    let o = parse_options(&args)?;
    let dir = tempfile::tempdir()?;
    let database_url = o
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/registry.db", dir.path().display()));
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        http_listen: None,
        database_url,
        master_key: herald_catalog::Secret::new(SecretBox::generate_key()),
        tokens: Tokens::new(ADMIN, PRODUCER, SERVICE)?,
        config: herald_config::HeraldConfig::default(),
        nats_url: None,
        subject_prefix: "herald".into(),
        metrics_addr: None,
        tls: None,
        execute: Default::default(),
        history: Default::default(),
    };
    let server = Server::start(settings.clone()).await?;
    let mut channels = Vec::new();
    for _ in 0..o.connections {
        channels.push(
            Endpoint::from_shared(server.url())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }

    let mut admin = AccountRegistryClient::new(channels[0].clone());
    for i in 0..o.accounts {
        let secrets = serde_json::json!({"webhookUrl": format!("https://hooks.slack.com/services/T0/B0/{i:08}")});
        let account = v1::Account {
            id: format!("bench-{i:06}"),
            connector_type: "slack".into(),
            name: format!("bench {i}"),
            secrets: secrets.as_object().map(json_to_struct),
            ..Default::default()
        };
        admin
            .put_account(authed(
                ADMIN,
                v1::PutAccountRequest {
                    account: Some(account),
                },
            ))
            .await?;
    }

    println!(
        "herald-bench registry: {} callers over {} connections, {} s per phase, {} accounts, {} store, {} cores",
        o.callers,
        o.connections,
        o.seconds,
        o.accounts,
        if settings.database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let baseline = phase("health Check (baseline)", &o, &channels, Call::Health).await?;
    let get = phase("GetAccount", &o, &channels, Call::Get).await?;
    let resolve = phase("ResolveAccount", &o, &channels, Call::Resolve).await?;
    println!(
        "ratio to baseline: GetAccount {:.2}, ResolveAccount {:.2}",
        get / baseline,
        resolve / baseline
    );
    server.stop().await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Call {
    Health,
    Get,
    Resolve,
}

/// Runs one kind of call from `callers` tasks for the configured time and
/// prints calls/s and latency percentiles; returns calls/s.
async fn phase(label: &str, o: &Options, channels: &[Channel], call: Call) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let accounts = o.accounts;
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.callers)
        .map(|caller| {
            let channel = channels[caller % channels.len()].clone();
            tokio::spawn(async move {
                let mut registry = AccountRegistryClient::new(channel.clone());
                let mut health = HealthClient::new(channel);
                let mut latencies_us: Vec<u32> = Vec::new();
                let mut n = caller;
                while Instant::now() < deadline {
                    let id = format!("bench-{:06}", n % accounts);
                    n += 7919;
                    let t = Instant::now();
                    match call {
                        Call::Health => {
                            health
                                .check(HealthCheckRequest {
                                    service: String::new(),
                                })
                                .await?;
                        }
                        Call::Get => {
                            registry
                                .get_account(authed(PRODUCER, v1::GetAccountRequest { id }))
                                .await?;
                        }
                        Call::Resolve => {
                            registry
                                .resolve_account(authed(SERVICE, v1::ResolveAccountRequest { id }))
                                .await?;
                        }
                    }
                    latencies_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                }
                Ok::<_, tonic::Status>(latencies_us)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let rate = all.len() as f64 / elapsed;
    println!(
        "{label:<26} {rate:>9.0} calls/s   p50 {:>6} us   p99 {:>6} us   ({} calls)",
        pct(0.50),
        pct(0.99),
        all.len()
    );
    Ok(rate)
}

fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}").parse().expect("ASCII token");
    request.metadata_mut().insert("authorization", value);
    request
}
