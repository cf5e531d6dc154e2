//! The delivery history: a durable pull consumer of `herald.result.>`,
//! shared by every registry replica, writes one row per ended attempt into
//! the registry's database in batches, and a pruner deletes what is past
//! `HERALD_HISTORY_TTL` in small batches. A history outage never slows
//! delivery: results wait in the RESULTS stream and the consumer catches
//! up; a batch the database refused is not acked, so it comes back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use herald_messaging::{ActionId, Subjects};
use herald_proto::v1;
use prost::Message as _;

use crate::store::{AccountStore, DeliveryRow};

/// HERALD_HISTORY_TTL: how long an attempt stays in the history.
pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Results taken per batch, and the longest a batch waits to fill.
const BATCH: usize = 500;
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// Rows deleted per pruning statement, and how often pruning runs at most
/// (a short TTL is pruned more often: a quarter of it, at least a second).
const PRUNE_BATCH: i64 = 1000;
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How long a batch may take to be stored before JetStream hands it out
/// again (to this replica or another): a stored batch takes milliseconds.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// The vendor's answer is kept to this many characters.
const MAX_EXCERPT: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct HistorySettings {
    pub ttl: Duration,
    /// False runs no writer and no pruner (the benchmark's comparison).
    pub enabled: bool,
}

impl Default for HistorySettings {
    fn default() -> HistorySettings {
        HistorySettings {
            ttl: DEFAULT_TTL,
            enabled: true,
        }
    }
}

/// The writer and the pruner, stopped when dropped (with the registry).
pub struct History {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for History {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl History {
    pub fn start(
        store: AccountStore,
        client: async_nats::Client,
        subjects: Subjects,
        settings: &HistorySettings,
    ) -> History {
        let js = jetstream::new(client);
        let writer = tokio::spawn(write(store.clone(), js, subjects));
        let pruner = tokio::spawn(prune(store, settings.ttl));
        History {
            tasks: vec![writer, pruner],
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Consumes results until aborted, reconnecting after any failure.
async fn write(store: AccountStore, js: jetstream::Context, subjects: Subjects) {
    loop {
        if let Err(error) = write_from(&store, &js, &subjects).await {
            tracing::warn!(%error, "delivery history: results not read; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn write_from(
    store: &AccountStore,
    js: &jetstream::Context,
    subjects: &Subjects,
) -> Result<(), String> {
    // Ingest and the workers declare the stream; until one has, wait.
    let stream = js
        .get_stream(subjects.stream("RESULTS"))
        .await
        .map_err(|e| e.to_string())?;
    let name = subjects.bucket("history");
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                description: Some("herald-registry: the delivery history".into()),
                filter_subject: format!("{}.result.>", subjects.prefix()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: (BATCH * 4) as i64,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(BATCH)
            .expires(BATCH_WAIT)
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message.map_err(|e| e.to_string())?);
        }
        if messages.is_empty() {
            continue;
        }
        let rows: Vec<DeliveryRow> = messages
            .iter()
            .filter_map(|m| {
                let trace = m
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("traceparent"))
                    .map(|v| v.as_str().to_owned());
                match v1::ActionResult::decode(m.payload.clone()) {
                    Ok(result) => Some(row(&result, trace.as_deref())),
                    Err(error) => {
                        // Nothing to store; acked below so it is not read forever.
                        tracing::error!(subject = %m.subject, %error, "delivery history: undecodable result skipped");
                        None
                    }
                }
            })
            .collect();
        if let Err(error) = store.insert_deliveries(&rows).await {
            // Not acked: JetStream hands the batch out again after ack_wait.
            tracing::warn!(%error, rows = rows.len(), "delivery history: batch not stored; it will be read again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        for message in &messages {
            if let Err(error) = message.ack().await {
                tracing::debug!(%error, "delivery history: ack lost; the row is stored once anyway");
            }
        }
    }
}

/// The stored form of one result.
pub fn row(result: &v1::ActionResult, traceparent: Option<&str>) -> DeliveryRow {
    let ms = |t: Option<&prost_types::Timestamp>| {
        t.map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
    };
    let (started, finished) = (
        ms(result.started_at.as_ref()),
        ms(result.finished_at.as_ref()),
    );
    let name = |full: &str, prefix: &str| full.trim_start_matches(prefix).to_ascii_lowercase();
    let state = v1::ActionState::try_from(result.state).unwrap_or_default();
    let kind = match v1::ErrorKind::try_from(result.error_kind) {
        Ok(v1::ErrorKind::Unspecified) | Err(_) => String::new(),
        Ok(kind) => name(kind.as_str_name(), "ERROR_KIND_"),
    };
    let handles: std::collections::BTreeMap<&String, &String> = result.handles.iter().collect();
    let vendor = result.vendor_response.as_ref();
    DeliveryRow {
        action_id: result.action_id.clone(),
        attempt: i64::from(result.attempt),
        event_id: ActionId::parse(&result.action_id)
            .and_then(|id| id.parts().map(|(event, _)| event.to_owned()))
            .unwrap_or_default(),
        account_id: result.account_id.clone(),
        connector_type: result.connector_type.clone(),
        alert_key: result.alert_key.clone(),
        state: name(state.as_str_name(), "ACTION_STATE_"),
        error_kind: kind,
        error: result.error.clone(),
        vendor_status: vendor.map_or(0, |v| i64::from(v.status)),
        vendor_excerpt: vendor
            .map(|v| v.body.chars().take(MAX_EXCERPT).collect())
            .unwrap_or_default(),
        handles: serde_json::to_string(&handles).unwrap_or_else(|_| "{}".into()),
        latency_ms: (finished - started).max(0),
        // `00-<trace id>-<span id>-<flags>`.
        trace_id: traceparent
            .and_then(|t| t.split('-').nth(1))
            .unwrap_or_default()
            .to_owned(),
        started_at: started,
        finished_at: finished,
    }
}

fn prune_every(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_secs(1), PRUNE_EVERY)
}

/// Deletes what is past the TTL, in small batches, every minute (or more
/// often for a TTL under four minutes).
async fn prune(store: AccountStore, ttl: Duration) {
    loop {
        let before = now_ms() - ttl.as_millis() as i64;
        loop {
            match store.prune_deliveries(before, PRUNE_BATCH).await {
                Ok(n) if n as i64 >= PRUNE_BATCH => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "delivery history: pruning failed; trying again later");
                    break;
                }
            }
        }
        tokio::time::sleep(prune_every(ttl)).await;
    }
}
