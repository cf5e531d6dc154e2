//! `herald-bench pipeline`: actions from a producer (gRPC `Submit`) through
//! ingest, JetStream and the chat worker to an HTTP receiver, all on this
//! machine (nats-server in its own process; registry, ingest, worker,
//! producer and receiver in this one). Prints throughput and the latency
//! from acceptance (Submit returned) to arrival at the receiver.
//!
//! The baseline, measured first in the same run, is the bare minimum such
//! a pipeline does: publish to JetStream, consume, POST, ack.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_nats::jetstream::{self, AckKind};
use axum::extract::State;
use futures::StreamExt;
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ingest_client::IngestClient};
use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use tokio::sync::Semaphore;

pub(crate) struct Options {
    pub(crate) actions: usize,
    /// Offered actions/s; 0 = as fast as the producers can submit.
    pub(crate) rate: usize,
    pub(crate) per_event: usize,
    pub(crate) producers: usize,
    pub(crate) concurrency: usize,
    /// `--baseline false` skips the bare pipeline (to profile Herald alone).
    pub(crate) baseline: bool,
    /// `--lifecycle true` also runs events about alerts (see
    /// [`lifecycle_alert`]) and prints their throughput beside the plain one.
    pub(crate) lifecycle: bool,
    /// `--history-off true` also runs the plain pipeline without the
    /// registry's delivery history and prints the ratio of on to off.
    pub(crate) history_off: bool,
}

/// What the receiver saw, indexed by action number.
pub(crate) struct Arrivals {
    pub(crate) start: Instant,
    /// Nanoseconds after `start` when Submit returned for the action.
    pub(crate) accepted: Vec<AtomicU64>,
    /// Nanoseconds after `start` of the first arrival.
    pub(crate) arrived: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
    distinct: AtomicUsize,
}

impl Arrivals {
    pub(crate) fn new(n: usize) -> Arc<Arrivals> {
        let zeros = |n| (0..n).map(|_| AtomicU64::new(0)).collect();
        Arc::new(Arrivals {
            start: Instant::now(),
            accepted: zeros(n),
            arrived: zeros(n),
            count: (0..n).map(|_| AtomicU32::new(0)).collect(),
            distinct: AtomicUsize::new(0),
        })
    }

    pub(crate) fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    pub(crate) fn arrive(&self, index: usize) {
        self.arrive_at(index, self.now());
    }

    /// `arrive`, for an arrival seen at `at` (nanoseconds after `start`).
    pub(crate) fn arrive_at(&self, index: usize, at: u64) {
        if let Some(count) = self.count.get(index)
            && count.fetch_add(1, Ordering::Relaxed) == 0
        {
            self.arrived[index].store(at, Ordering::Relaxed);
            self.distinct.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until `n` distinct actions arrived, with a progress bar on a
    /// terminal (stderr; none when redirected, so figures stay clean).
    pub(crate) async fn wait_all(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let bar = indicatif::ProgressBar::new(n as u64).with_style(
            indicatif::ProgressStyle::with_template("delivered {bar:40} {pos}/{len}")
                .expect("a valid template"),
        );
        while self.distinct.load(Ordering::Relaxed) < n {
            bar.set_position(self.distinct.load(Ordering::Relaxed) as u64);
            if Instant::now() > deadline {
                anyhow::bail!(
                    "only {} of {n} arrived within {timeout:?}",
                    self.distinct.load(Ordering::Relaxed)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bar.finish_and_clear();
        Ok(())
    }

    /// Throughput and latency percentiles, printed as one line.
    pub(crate) fn report(&self, label: &str, n: usize, first_submit: u64) -> f64 {
        self.report_as(label, "actions", n, first_submit)
    }

    /// `report` with the unit counted (`actions`, `mails`).
    pub(crate) fn report_as(&self, label: &str, unit: &str, n: usize, first_submit: u64) -> f64 {
        let last = self
            .arrived
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let elapsed = (last.saturating_sub(first_submit)) as f64 / 1e9;
        let mut latencies: Vec<u64> = (0..n)
            .map(|i| {
                self.arrived[i]
                    .load(Ordering::Relaxed)
                    .saturating_sub(self.accepted[i].load(Ordering::Relaxed))
                    / 1000
            })
            .collect();
        latencies.sort_unstable();
        let twice = self
            .count
            .iter()
            .filter(|c| c.load(Ordering::Relaxed) > 1)
            .count();
        let rate = n as f64 / elapsed;
        println!(
            "{label:<24} {rate:>8.0} {unit}/s   latency p50 {:>6.1} ms  p90 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms   ({n} {unit}, {twice} twice)",
            crate::percentile(&latencies, 0.5) as f64 / 1000.0,
            crate::percentile(&latencies, 0.9) as f64 / 1000.0,
            crate::percentile(&latencies, 0.99) as f64 / 1000.0,
            latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
        );
        rate
    }
}

/// An HTTP receiver that records which action each POST carries (the
/// action number is the whole message text).
async fn receiver(arrivals: Arc<Arrivals>) -> anyhow::Result<String> {
    async fn hook(State(arrivals): State<Arc<Arrivals>>, body: axum::body::Bytes) -> &'static str {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Some(index) = v
                .get("text")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<usize>().ok())
        {
            arrivals.arrive(index);
        }
        "1"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

impl Options {
    /// The defaults, with `actions` actions.
    pub(crate) fn new(actions: usize) -> Options {
        Options {
            actions,
            rate: 0,
            per_event: 10,
            producers: 16,
            concurrency: 256,
            baseline: true,
            lifecycle: false,
            history_off: false,
        }
    }

    /// Takes one of the shared flags; false for any other.
    pub(crate) fn set(&mut self, flag: &str, value: &str) -> anyhow::Result<bool> {
        match flag {
            "--actions" => self.actions = value.parse()?,
            "--rate" => self.rate = value.parse()?,
            "--per-event" => self.per_event = value.parse()?,
            "--producers" => self.producers = value.parse()?,
            "--concurrency" => self.concurrency = value.parse()?,
            "--baseline" => self.baseline = value.parse()?,
            "--lifecycle" => self.lifecycle = value.parse()?,
            "--history-off" => self.history_off = value.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(crate) fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.actions > 0 && (1..=100).contains(&self.per_event) && self.producers > 0,
            "bad options"
        );
        Ok(())
    }

    /// The run's settings, for the first line printed.
    pub(crate) fn describe(&self, unit: &str) -> String {
        format!(
            "{} {unit}, {} per event, {} producers, offered {}, worker concurrency {}, {} cores",
            self.actions,
            self.per_event,
            self.producers,
            if self.rate == 0 {
                "as fast as possible".to_owned()
            } else {
                format!("{}/s", self.rate)
            },
            self.concurrency,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        )
    }
}

pub async fn main(args: Vec<String>) -> anyhow::Result<()> {
    let mut o = Options::new(100_000);
    crate::flags(&args, |flag, value| o.set(flag, value))?;
    o.check()?;
    let nats = NatsServer::start();
    println!("herald-bench pipeline: {}", o.describe("actions"));
    let baseline = match o.baseline {
        false => None,
        true => Some(bare_pipeline(&nats, &o).await?),
    };
    let herald = herald_pipeline(&nats, &o, false, true).await?;
    if let (Some(baseline), 0) = (baseline, o.rate) {
        println!("ratio to baseline: {:.2}", herald / baseline);
    }
    if o.lifecycle {
        let lifecycle = herald_pipeline(&nats, &o, true, true).await?;
        if o.rate == 0 {
            println!("lifecycle ratio to plain: {:.2}", lifecycle / herald);
        }
    }
    if o.history_off {
        let without = herald_pipeline(&nats, &o, false, false).await?;
        if o.rate == 0 {
            println!("history on / off: {:.2}", herald / without);
        }
    }
    Ok(())
}

/// The alert of event `event` in lifecycle mode: of every ten events, eight
/// fire a new alert, one repeats the alert of an event a hundred before
/// (suppressed: within the repeat interval) and one resolves another's
/// (sent, following what that one opened). A hundred events back is far
/// enough that the earlier event has been taken by the time this one is.
fn lifecycle_alert(event: usize) -> v1::Alert {
    let (of, status) = match event % 10 {
        7 if event >= 100 => (event - 100, v1::AlertStatus::Firing),
        8 if event >= 100 => (event - 100, v1::AlertStatus::Resolved),
        _ => (event, v1::AlertStatus::Firing),
    };
    v1::Alert {
        key: format!("bench-alert-{of}"),
        status: status as i32,
        severity: "critical".into(),
        summary: format!("bench alert {of}"),
        ..Default::default()
    }
}

async fn herald_pipeline(
    nats: &NatsServer,
    o: &Options,
    lifecycle: bool,
    history: bool,
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut options = StackOptions::new(nats.url(), dir.path());
    options.history = history;
    // The receiver is on loopback, which `*` alone does not reach.
    options.config.policy = herald_catalog::Policy::default().with_loopback();
    let concurrency = o.concurrency;
    options.worker = Box::new(move |w| w.concurrency = concurrency);
    let stack = Stack::start(options).await?;
    let arrivals = Arrivals::new(o.actions);
    let hook = receiver(arrivals.clone()).await?;
    stack
        .put_account(
            "bench",
            "teams",
            serde_json::json!({}),
            serde_json::json!({"webhookUrl": hook}),
        )
        .await?;

    let first_submit = produce(
        &stack,
        o,
        &arrivals,
        "bench",
        |i| serde_json::json!({"message": i.to_string()}),
        None,
        lifecycle.then_some(lifecycle_alert as fn(usize) -> v1::Alert),
    )
    .await?;
    arrivals
        .wait_all(o.actions, Duration::from_secs(600))
        .await?;
    let label = match (lifecycle, history) {
        (true, _) => "herald lifecycle",
        (false, true) => "herald",
        (false, false) => "herald, history off",
    };
    let rate = arrivals.report(label, o.actions, first_submit);
    if history && !lifecycle {
        history_catch_up(dir.path(), o.actions).await?;
    }
    stack.stop().await?;
    Ok(rate)
}

/// The history is written beside delivery, not in its way: prints how long
/// after the last delivery it held every attempt (the run's rate does not
/// include that time, so a history that fell behind would show here).
async fn history_catch_up(dir: &std::path::Path, actions: usize) -> anyhow::Result<()> {
    let done = std::time::Instant::now();
    let store = herald_registry::store::AccountStore::connect(&format!(
        "sqlite://{}/registry.db",
        dir.display()
    ))
    .await?;
    loop {
        let counts = store
            .delivery_counts(herald_registry::store::CountBy::ConnectorType, 0, 0)
            .await?;
        let stored: i64 = counts
            .iter()
            .map(|c| c.delivered + c.retrying + c.failed)
            .sum();
        if stored as usize >= actions {
            break;
        }
        anyhow::ensure!(
            done.elapsed() < Duration::from_secs(600),
            "the history holds {stored} of {actions} attempts after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "  history: every attempt stored {:.0} ms after the last delivery",
        done.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// What a submitted action is called: its number and its action id.
pub(crate) type Submitted = Arc<dyn Fn(usize, &str) + Send + Sync>;

/// Submits `o.actions` actions for `account` through ingest's gRPC, `o.per_event` per
/// event from `o.producers` producers (paced when `o.rate` is set), recording when each
/// was accepted; returns when the first was submitted.
pub(crate) async fn produce(
    stack: &Stack,
    o: &Options,
    arrivals: &Arc<Arrivals>,
    account: &str,
    params: fn(usize) -> serde_json::Value,
    submitted: Option<Submitted>,
    alert: Option<fn(usize) -> v1::Alert>,
) -> anyhow::Result<u64> {
    let channel = tonic::transport::Endpoint::from_shared(stack.ingest.grpc_url())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let events = o.actions.div_ceil(o.per_event);
    let next = Arc::new(AtomicUsize::new(0));
    let first_submit = arrivals.now();
    let pace = pace(o);
    let producers: Vec<_> = (0..o.producers)
        .map(|_| {
            let (channel, next, arrivals, token, account, submitted) = (
                channel.clone(),
                next.clone(),
                arrivals.clone(),
                stack.producer_token.clone(),
                account.to_owned(),
                submitted.clone(),
            );
            let (per_event, n) = (o.per_event, o.actions);
            tokio::spawn(async move {
                let mut client = IngestClient::new(channel);
                let mut tick = pace.map(tokio::time::interval);
                loop {
                    let event = next.fetch_add(1, Ordering::Relaxed);
                    if event >= events {
                        return Ok::<_, anyhow::Error>(());
                    }
                    if let Some(tick) = tick.as_mut() {
                        tick.tick().await;
                    }
                    let range = event * per_event..((event + 1) * per_event).min(n);
                    let actions = range
                        .clone()
                        .map(|i| v1::ActionSpec {
                            account_id: account.clone(),
                            params: params(i).as_object().map(json_to_struct),
                        })
                        .collect();
                    let mut request = tonic::Request::new(v1::SubmitRequest {
                        idempotency_key: String::new(),
                        context: None,
                        actions,
                        alert: alert.map(|alert| alert(event)),
                        ..Default::default()
                    });
                    request
                        .metadata_mut()
                        .insert("authorization", format!("Bearer {token}").parse()?);
                    let response = client.submit(request).await.context("submit")?;
                    if let Some(submitted) = &submitted {
                        for (i, action) in range.clone().zip(&response.get_ref().actions) {
                            submitted(i, &action.action_id);
                        }
                    }
                    let accepted = arrivals.now();
                    for (i, action) in range.zip(&response.get_ref().actions) {
                        arrivals.accepted[i].store(accepted, Ordering::Relaxed);
                        // Recorded, never sent: done when accepted.
                        if action.state == v1::ActionState::Suppressed as i32 {
                            arrivals.arrive_at(i, accepted);
                        }
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await??;
    }
    Ok(first_submit)
}

/// Each producer's interval between events when a rate is offered.
fn pace(o: &Options) -> Option<Duration> {
    (o.rate > 0)
        .then(|| Duration::from_secs_f64(o.per_event as f64 * o.producers as f64 / o.rate as f64))
}

/// Publish, consume, POST, ack: no registry, no validation, no results.
async fn bare_pipeline(nats: &NatsServer, o: &Options) -> anyhow::Result<f64> {
    let client = async_nats::connect(nats.url()).await?;
    let js = jetstream::new(client);
    let stream = js
        .create_or_update_stream(jetstream::stream::Config {
            name: "BARE".into(),
            subjects: vec!["bare.>".into()],
            retention: jetstream::stream::RetentionPolicy::WorkQueue,
            ..Default::default()
        })
        .await?;
    let stream = js.get_stream(stream.config.name).await?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("bare".into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_ack_pending: 20_000,
            ..Default::default()
        })
        .await?;
    let arrivals = Arrivals::new(o.actions);
    let hook = receiver(arrivals.clone()).await?;
    let http = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let permits = Arc::new(Semaphore::new(o.concurrency));
    let n = o.actions;
    let consuming = tokio::spawn({
        async move {
            let mut messages = consumer.messages().await?;
            let mut taken = 0;
            while taken < n {
                let Some(message) = messages.next().await else {
                    break;
                };
                let message = message?;
                taken += 1;
                let permit = permits.clone().acquire_owned().await?;
                let (http, hook) = (http.clone(), hook.clone());
                tokio::spawn(async move {
                    let text = String::from_utf8_lossy(&message.payload).into_owned();
                    let _ = http
                        .post(&hook)
                        .json(&serde_json::json!({"text": text}))
                        .send()
                        .await;
                    let _ = message.ack_with(AckKind::Ack).await;
                    drop(permit);
                });
            }
            Ok::<_, anyhow::Error>(())
        }
    });
    let first_submit = arrivals.now();
    let next = Arc::new(AtomicUsize::new(0));
    let pace = pace(o);
    let producers: Vec<_> = (0..o.producers)
        .map(|_| {
            let (js, next, arrivals) = (js.clone(), next.clone(), arrivals.clone());
            let per_event = o.per_event;
            tokio::spawn(async move {
                let mut tick = pace.map(tokio::time::interval);
                loop {
                    let start = next.fetch_add(per_event, Ordering::Relaxed);
                    if start >= n {
                        return Ok::<_, anyhow::Error>(());
                    }
                    if let Some(tick) = tick.as_mut() {
                        tick.tick().await;
                    }
                    let mut acks = Vec::new();
                    for i in start..(start + per_event).min(n) {
                        acks.push(
                            js.publish(format!("bare.{i}"), i.to_string().into())
                                .await?,
                        );
                    }
                    for ack in acks {
                        ack.await?;
                    }
                    let accepted = arrivals.now();
                    for i in start..(start + per_event).min(n) {
                        arrivals.accepted[i].store(accepted, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await??;
    }
    arrivals.wait_all(n, Duration::from_secs(600)).await?;
    consuming.abort();
    Ok(arrivals.report("baseline (bare)", n, first_submit))
}
