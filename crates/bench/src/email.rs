//! `herald-bench email`: alerts from a producer (gRPC `Submit`) through
//! ingest, JetStream and the email connector into Postfix's `smtp-sink`
//! (Debian package `postfix`), all on this machine, with at most
//! `--connections` SMTP connections. A mail counts as delivered when its
//! `delivered` result is published, i.e. after the sink's 250 to the
//! message; latency runs from acceptance (Submit returned) to then.
//!
//! The baseline, measured first in the same run, is the email connector
//! alone: the same mails over the same number of connections, without
//! ingest, JetStream or the registry.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use herald_proto::v1::{ActionResult, ActionState};
use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use herald_worker::http::{Outbound, OutboundSettings};
use herald_worker::{Account, Connector, Delivery, Outcome};
use prost::Message as _;

use crate::pipeline::{Arrivals, Options, produce};

/// Postfix's `smtp-sink` on a port of its own; killed on drop.
struct SmtpSink {
    child: Child,
    port: u16,
}

impl SmtpSink {
    fn start() -> anyhow::Result<SmtpSink> {
        let binary = ["/usr/sbin/smtp-sink", "smtp-sink"]
            .into_iter()
            .find(|b| Command::new(b).arg("-h").output().is_ok())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "smtp-sink not found: run scripts/setup.sh (Debian package postfix)"
                )
            })?;
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
        for _ in 0..5 {
            let port = herald_test_support::free_port();
            let mut command = Command::new(binary);
            if root {
                command.args(["-u", "nobody"]);
            }
            // -m: sessions served at once; the sink is one event-driven process.
            let mut child = command
                .args(["-m", "256", &format!("127.0.0.1:{port}"), "256"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(SmtpSink { child, port });
                }
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        anyhow::bail!("smtp-sink did not start")
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(port: u16, connections: usize) -> serde_json::Value {
    serde_json::json!({
        "service": "other", "host": "127.0.0.1", "port": port, "hasAuth": false, "ignoreTls": true,
        "from": "Herald <alerts@example.com>", "maxConnections": connections,
    })
}

fn params(i: usize) -> serde_json::Value {
    serde_json::json!({
        "to": ["On call <oncall@example.com>"],
        "subject": format!("Disk full on host-{i}"),
        "message": format!("**Disk full** on host-{i}: 97% used.\n\n- mount: /var\n- since: 5 minutes\n\n{i}"),
    })
}

pub async fn main(args: Vec<String>) -> anyhow::Result<()> {
    let mut o = Options::new(50_000);
    let mut connections = 16;
    crate::flags(&args, |flag, value| match flag {
        "--connections" => {
            connections = value.parse()?;
            Ok(true)
        }
        _ => o.set(flag, value),
    })?;
    o.check()?;
    anyhow::ensure!(
        (1..=100).contains(&connections),
        "--connections must be 1..100"
    );
    let sink = SmtpSink::start()?;
    let nats = NatsServer::start();
    println!(
        "herald-bench email: {}, {connections} SMTP connections to smtp-sink",
        o.describe("mails")
    );
    let baseline = match o.baseline {
        true => Some(connector_alone(&o, sink.port, connections).await?),
        false => None,
    };
    let herald = herald_pipeline(&nats, &o, sink.port, connections).await?;
    if let (Some(baseline), 0) = (baseline, o.rate) {
        println!("ratio to baseline: {:.2}", herald / baseline);
    }
    Ok(())
}

/// The email connector delivering straight from memory, `o.concurrency`
/// at once over at most `connections` connections.
async fn connector_alone(o: &Options, port: u16, connections: usize) -> anyhow::Result<f64> {
    let email = Arc::new(herald_connectors::email::Email::default());
    // The SMTP sink is on loopback, which `*` alone does not reach.
    let http = Outbound::new(
        OutboundSettings::default(),
        herald_catalog::Policy::default().with_loopback(),
    )?;
    let account = Arc::new(Account {
        id: "bench".into(),
        connector_type: "email".into(),
        name: "bench".into(),
        version: 1,
        config: config(port, connections)
            .as_object()
            .cloned()
            .unwrap_or_default(),
        secrets: Default::default(),
    });
    let arrivals = Arrivals::new(o.actions);
    let next = Arc::new(AtomicUsize::new(0));
    let first = arrivals.now();
    let tasks: Vec<_> = (0..o.concurrency.min(o.actions))
        .map(|_| {
            let (email, http, account, arrivals, next, n) = (
                email.clone(),
                http.clone(),
                account.clone(),
                arrivals.clone(),
                next.clone(),
                o.actions,
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, anyhow::Error>(());
                    }
                    arrivals.accepted[i].store(arrivals.now(), Ordering::Relaxed);
                    let delivery = Delivery {
                        action_id: format!("bench-{i}"),
                        attempt: 1,
                        params: params(i).as_object().cloned().unwrap_or_default(),
                        account: account.clone(),
                    };
                    match email.deliver(&delivery, &http).await {
                        Outcome::Delivered { .. } => arrivals.arrive(i),
                        other => anyhow::bail!("mail {i} not delivered: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(arrivals.report_as("baseline (connector)", "mails", o.actions, first))
}

/// Which action is which: action ids come back from Submit, results may
/// come back first.
#[derive(Default)]
struct Correlator {
    /// (action id -> number, delivered results not matched yet: id -> when)
    state: Mutex<(HashMap<String, usize>, HashMap<String, u64>)>,
}

async fn herald_pipeline(
    nats: &NatsServer,
    o: &Options,
    port: u16,
    connections: usize,
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut options = StackOptions::new(nats.url(), dir.path());
    // The SMTP sink is on loopback, which `*` alone does not reach.
    options.config.policy = herald_catalog::Policy::default().with_loopback();
    let concurrency = o.concurrency;
    options.worker = Box::new(move |w| w.concurrency = concurrency);
    let stack = Stack::start(options).await?;
    stack
        .put_account(
            "bench",
            "email",
            config(port, connections),
            serde_json::json!({}),
        )
        .await?;
    let arrivals = Arrivals::new(o.actions);
    let correlator = Arc::new(Correlator::default());

    let client = async_nats::connect(nats.url()).await?;
    let mut results = client.subscribe("herald.result.email").await?;
    let listening = tokio::spawn({
        let (arrivals, correlator) = (arrivals.clone(), correlator.clone());
        async move {
            while let Some(message) = results.next().await {
                let Ok(result) = ActionResult::decode(message.payload) else {
                    continue;
                };
                if result.state != ActionState::Delivered as i32 {
                    eprintln!("not delivered: {} {}", result.action_id, result.error);
                    continue;
                }
                let at = arrivals.now();
                let mut state = correlator.state.lock().expect("correlator lock");
                match state.0.get(&result.action_id) {
                    Some(&i) => arrivals.arrive_at(i, at),
                    None => {
                        state.1.insert(result.action_id, at);
                    }
                }
            }
        }
    });
    let submitted: crate::pipeline::Submitted = {
        let (arrivals, correlator) = (arrivals.clone(), correlator.clone());
        Arc::new(move |i, id| {
            let mut state = correlator.state.lock().expect("correlator lock");
            match state.1.remove(id) {
                Some(at) => arrivals.arrive_at(i, at),
                None => {
                    state.0.insert(id.to_owned(), i);
                }
            }
        })
    };
    let first_submit =
        produce(&stack, o, &arrivals, "bench", params, Some(submitted), None).await?;
    arrivals
        .wait_all(o.actions, Duration::from_secs(600))
        .await?;
    listening.abort();
    let rate = arrivals.report_as("herald email", "mails", o.actions, first_submit);
    stack.stop().await?;
    Ok(rate)
}
