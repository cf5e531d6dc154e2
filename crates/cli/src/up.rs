//! `heraldctl up`: the whole system in this process (`herald-stack`) on the
//! embedded default: SQLite, master key and tokens under the data dir, NATS
//! at `--nats-url` or a `nats-server -js` started here when none answers.
//! `--demo` registers an account that writes to Herald's own log and
//! delivers a first alert to it.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_stack::{RoleTokens, Stack, StackOptions};
use serde_json::json;

use crate::client::{self, Failure};
use crate::{Global, actions};

#[derive(Args)]
pub struct UpArgs {
    /// Also register an account that writes to Herald's log, and deliver a
    /// sample alert to it.
    #[arg(long)]
    demo: bool,
    /// Where the database, master key, tokens and NATS store live.
    #[arg(long, default_value = "./herald-data")]
    data_dir: PathBuf,
    #[arg(long, env = "HERALD_REGISTRY_ADDR", default_value = "127.0.0.1:50051")]
    registry_addr: SocketAddr,
    #[arg(
        long,
        env = "HERALD_REGISTRY_HTTP_ADDR",
        default_value = "127.0.0.1:8081"
    )]
    registry_http_addr: SocketAddr,
    #[arg(
        long,
        env = "HERALD_INGEST_GRPC_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    ingest_grpc_addr: SocketAddr,
    #[arg(
        long,
        env = "HERALD_INGEST_HTTP_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    ingest_http_addr: SocketAddr,
}

const DEMO_ACCOUNT: &str = "demo-log";
/// The demo needs no vendor: its type writes to Herald's own log.
const DEMO_TYPE: &str = herald_connectors::server_log::spec::ID;

pub async fn run(g: &Global, args: UpArgs) -> Result<(), Failure> {
    let _telemetry = herald_telemetry::init_with("heraldctl", "warn,herald::server_log=info")
        .map_err(|e| Failure::usage(e.to_string()))?;
    // Listening from here on: a SIGTERM sent as soon as the ready line is
    // printed must stop Herald cleanly, not kill it.
    let shutdown = herald_telemetry::shutdown_signal();

    let dir = &args.data_dir;
    let fail = |what: &str, e: &dyn std::fmt::Display| Failure::herald(format!("{what}: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| fail(&dir.display().to_string(), &e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail(&dir.display().to_string(), &e))?;
    let master_key = match std::env::var("HERALD_MASTER_KEY") {
        Ok(key) if !key.is_empty() => key,
        _ => read_or_create(&dir.join("master.key"), || {
            println!(
                "generated {} (keep it: without it, stored secrets are lost)",
                dir.join("master.key").display()
            );
            herald_registry::secret_box::SecretBox::generate_key()
        })?,
    };
    let tokens = tokens(dir)?;
    let config = herald_config::from_env().map_err(|e| Failure::usage(e.to_string()))?;
    let nats = Nats::connect_or_start(&g.nats_url, dir).await?;

    let mut options = StackOptions::new(nats.url.clone(), dir);
    options.config = config;
    if args.demo {
        // A demo delivers to receivers on this machine (a webhook to a
        // local listener, an SMTP sink), which `*` alone does not reach.
        options.config.policy = options.config.policy.with_loopback();
        println!(
            "demo: policy.allowed_hosts also lists {}",
            herald_catalog::policy::LOOPBACK_HOSTS.join(", ")
        );
    }
    options.master_key = Some(master_key);
    options.tokens = Some(tokens.clone());
    options.registry_addr = args.registry_addr;
    options.registry_http_addr = args.registry_http_addr;
    options.ingest_grpc_addr = args.ingest_grpc_addr;
    options.ingest_http_addr = args.ingest_http_addr;
    // Plain loopback unless HERALD_TLS_CERT_FILE and HERALD_TLS_KEY_FILE
    // are set; the parts then call each other with --ca-file and, when
    // HERALD_TLS_CLIENT_CA_FILE asks for them, --client-cert/--client-key.
    options.tls = herald_tls::ServerTls::from_env().map_err(|e| Failure::usage(e.to_string()))?;
    options.client_tls = client::client_tls(g)?;
    let stack = Stack::start(options)
        .await
        .map_err(|e| fail("cannot start Herald", &herald_telemetry::chain(&e)))?;

    println!("Herald is up; data in {}", dir.display());
    println!("  registry gRPC  {}", stack.registry_url());
    println!("  registry REST  {}", stack.registry_http_url());
    // The console is served by the registry's REST listener; sign in with
    // the admin or producer token below.
    println!("  console        {}/", stack.registry_http_url());
    println!("  ingest gRPC    {}", stack.ingest.grpc_url());
    println!("  ingest HTTP    {}", stack.ingest.http_url());
    println!(
        "  NATS           {}{}",
        nats.url,
        if nats.child.is_some() {
            " (nats-server started here)"
        } else {
            ""
        }
    );
    println!("  tokens (also in {}):", dir.join("tokens.env").display());
    println!("    HERALD_ADMIN_TOKEN={}", tokens.admin);
    println!("    HERALD_PRODUCER_TOKEN={}", tokens.producer);
    println!("    HERALD_SERVICE_TOKEN={}", tokens.service);
    println!(
        "  for heraldctl elsewhere: export HERALD_TOKEN={} HERALD_REGISTRY_URL={} HERALD_INGEST_URL={} HERALD_NATS_URL={}",
        tokens.admin,
        stack.registry_url(),
        stack.ingest.grpc_url(),
        nats.url
    );

    let result = if args.demo {
        demo(g, &stack, &tokens.admin).await
    } else {
        Ok(())
    };
    if result.is_ok() {
        println!("Ctrl-C stops Herald.");
        let _ = std::io::stdout().flush();
        shutdown.await;
        println!("stopping");
    }
    stack.stop().await.map_err(|e| fail("stopping", &e))?;
    nats.stop().await;
    result
}

async fn demo(g: &Global, stack: &Stack, admin: &str) -> Result<(), Failure> {
    stack
        .put_account(DEMO_ACCOUNT, DEMO_TYPE, json!({}), json!({}))
        .await
        .map_err(|e| Failure::herald(format!("demo account: {}", herald_telemetry::chain(&e))))?;
    println!("demo: registered account {DEMO_ACCOUNT} ({DEMO_TYPE})");
    let local = Global {
        ingest_url: stack.ingest.grpc_url(),
        token: Some(admin.to_owned()),
        ..g.clone()
    };
    let mut ingest = client::ingest(&local).await?;
    let context = json!({"host": "db-1", "used": 97});
    let submitted = actions::submit(
        &mut ingest,
        v1::SubmitRequest {
            context: context.as_object().map(json_to_struct),
            actions: vec![v1::ActionSpec {
                account_id: DEMO_ACCOUNT.into(),
                params: json!({"message": "Demo alert: disk {{context.used}}% full on {{context.host}}", "level": "warn"})
                    .as_object()
                    .map(json_to_struct),
            }],
            ..Default::default()
        },
    )
    .await?;
    let action_id = &submitted[0].action_id;
    println!("demo: sent a sample alert, action {action_id}");
    let status = actions::wait(&mut ingest, action_id, Duration::from_secs(30)).await?;
    actions::report(g.output, &status)?;
    println!(
        "demo: the alert was {}",
        actions::state_name(status.state())
    );
    Ok(())
}

/// The file's trimmed content, or `make()` written to it with mode 0600.
fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> Result<String, Failure> {
    let fail = |e: std::io::Error| Failure::herald(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        _ => {
            let value = make();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(fail)?;
            file.write_all(format!("{value}\n").as_bytes())
                .map_err(fail)?;
            Ok(value)
        }
    }
}

/// `tokens.env` (`NAME=value` lines, ready for `. herald-data/tokens.env`), made on first start.
fn tokens(dir: &Path) -> Result<RoleTokens, Failure> {
    let generated = RoleTokens::generate();
    let text = read_or_create(&dir.join("tokens.env"), || {
        format!(
            "HERALD_ADMIN_TOKEN={}\nHERALD_PRODUCER_TOKEN={}\nHERALD_SERVICE_TOKEN={}",
            generated.admin, generated.producer, generated.service
        )
    })?;
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{}: {name} missing",
                    dir.join("tokens.env").display()
                ))
            })
    };
    Ok(RoleTokens {
        admin: get("HERALD_ADMIN_TOKEN")?,
        producer: get("HERALD_PRODUCER_TOKEN")?,
        service: get("HERALD_SERVICE_TOKEN")?,
    })
}

/// The NATS server in use, and the one started here (stopped on exit).
struct Nats {
    url: String,
    child: Option<tokio::process::Child>,
}

impl Nats {
    async fn connect_or_start(url: &str, dir: &Path) -> Result<Nats, Failure> {
        if answers(url).await {
            return Ok(Nats {
                url: url.to_owned(),
                child: None,
            });
        }
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
            .unwrap_or(4222);
        let binary = ["nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|b| std::process::Command::new(b).arg("--version").output().is_ok())
            .ok_or_else(|| Failure::herald(format!(
                "no NATS answers at {url} and nats-server is not installed (scripts/setup.sh installs it)"
            )))?;
        let store = dir.join("nats");
        let log = dir.join("nats-server.log");
        let child = tokio::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&store)
            .arg("-l")
            .arg(&log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::herald(format!("cannot start {binary}: {e}")))?;
        let url = format!("nats://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers(&url).await {
            if Instant::now() > deadline {
                return Err(Failure::herald(format!(
                    "nats-server did not answer at {url} within 10 s; see {}",
                    log.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Nats {
            url,
            child: Some(child),
        })
    }

    async fn stop(self) {
        if let Some(mut child) = self.child {
            // SIGTERM lets it close its store cleanly.
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .arg(pid.to_string())
                    .status();
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

async fn answers(url: &str) -> bool {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(url)
        .await
        .is_ok()
}
