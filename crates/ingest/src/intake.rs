//! Events that producers publish on `herald.event` (JSON `SubmitRequest`),
//! taken by the durable pull consumer `ingest` that every ingest replica
//! shares. An accepted event is acked; an event that can never be accepted
//! (broken JSON, violations) goes to `herald.dead.event` with its reason and
//! is acked, so one bad event never blocks the ones behind it; when the
//! registry or NATS is away the event is NAKed with a delay and tried again
//! later, never dead-lettered.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
use futures::StreamExt;
use herald_catalog::Violations;
use herald_messaging::{Outgoing, Publisher};
use herald_proto::v1;
use herald_telemetry::TraceContext;
use prost::Message as _;
use tokio::sync::{Semaphore, watch};

use crate::event::Event;
use crate::metrics::Via;
use crate::submit::{Accepted, IngestError, Ingestor, Origin, report};

/// The durable consumer's name, shared by every ingest replica.
pub const CONSUMER: &str = "ingest";

/// How long the server waits for an ack before redelivering: well above one
/// submission (registry lookups time out after 5 s, publishing after 5 s).
const ACK_WAIT: Duration = Duration::from_secs(60);

/// The longest NAK delay while a dependency is down.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Published (or answered from the idempotency record), and acked.
    Accepted(Accepted),
    /// Published to `herald.dead.event`, and acked.
    DeadLettered { reason: String, fields: Vec<String> },
    /// NAKed: it comes back after `delay`.
    Retry { reason: String, delay: Duration },
}

#[derive(Clone)]
pub struct Intake {
    ingestor: Ingestor,
    publisher: Publisher,
    /// Events handled at once by this replica. Each costs registry lookups
    /// and JetStream round trips; the bound keeps a backlog from opening
    /// thousands of them together after an outage.
    concurrency: usize,
}

impl Intake {
    pub fn new(ingestor: Ingestor, concurrency: usize) -> Intake {
        Intake {
            publisher: Publisher::new(ingestor.declared().jetstream.clone()),
            ingestor,
            concurrency: concurrency.max(1),
        }
    }

    /// Declares (or updates in place) the durable consumer.
    pub async fn consumer(&self) -> anyhow::Result<PullConsumer> {
        let declared = self.ingestor.declared();
        let consumer = declared
            .events
            .create_consumer(pull::Config {
                durable_name: Some(CONSUMER.into()),
                description: Some("herald-ingest: events from producers".into()),
                filter_subject: declared.settings.subjects.event(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                // No limit: an event is only redelivered because a
                // dependency was down, and dropping it then would lose an
                // alert. Events that cannot be accepted are dead-lettered
                // and acked instead.
                max_deliver: -1,
                // Shared by all replicas; enough for several of them.
                max_ack_pending: (self.concurrency * 8) as i64,
                ..Default::default()
            })
            .await?;
        Ok(consumer)
    }

    /// Takes events until `shutdown` turns true, then waits for the ones in
    /// hand. Survives NATS outages: the message stream is reopened.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        'open: loop {
            if *shutdown.borrow() {
                break;
            }
            let messages = async {
                self.consumer()
                    .await?
                    .stream()
                    .max_messages_per_batch(self.concurrency)
                    .heartbeat(Duration::from_secs(5))
                    .expires(Duration::from_secs(30))
                    .messages()
                    .await
                    .map_err(anyhow::Error::from)
            };
            let mut messages = match messages.await {
                Ok(messages) => messages,
                Err(error) => {
                    tracing::warn!(%error, "cannot consume herald.event; retrying");
                    tokio::select! {
                        _ = shutdown.wait_for(|stop| *stop) => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            loop {
                let permit = tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => break 'open,
                    permit = permits.clone().acquire_owned() => permit.expect("never closed"),
                };
                let next = tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => break 'open,
                    next = messages.next() => next,
                };
                match next {
                    Some(Ok(message)) => {
                        let this = self.clone();
                        tokio::spawn(async move {
                            this.process_one(&message).await;
                            drop(permit);
                        });
                    }
                    Some(Err(error)) => {
                        // Missed heartbeats while NATS is away, mostly; the
                        // stream recovers by itself. The pause keeps a burst
                        // of them from spinning.
                        tracing::debug!(%error, "herald.event consumer hiccup");
                        drop(permit);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    None => {
                        tracing::warn!("herald.event message stream ended; reopening");
                        continue 'open;
                    }
                }
            }
        }
        // In-flight events finish; those fetched but not started are
        // redelivered after the ack wait.
        let _ = permits.acquire_many(self.concurrency as u32).await;
    }

    /// Handles one message from `herald.event` and acks or NAKs it.
    pub async fn process_one(&self, message: &Message) -> Disposition {
        let info = message.info().ok();
        let delivered = info.as_ref().map_or(1, |i| i.delivered.max(1));
        let trace = herald_telemetry::extract_nats(message.headers.as_ref());
        // The message's place in the stream: same for a redelivery, unique
        // otherwise (the publish time guards against a recreated stream).
        let position = info.as_ref().map(|i| {
            format!(
                "{}.{}.{}",
                i.stream,
                i.stream_sequence,
                i.published.unix_timestamp_nanos()
            )
        });
        let disposition = self
            .handle(&message.payload, trace, position, delivered)
            .await;
        let ack = match &disposition {
            Disposition::Retry { delay, .. } => message.ack_with(AckKind::Nak(Some(*delay))).await,
            _ => message.ack().await,
        };
        if let Err(error) = ack {
            tracing::warn!(%error, "could not ack an event; it will come again");
        }
        disposition
    }

    async fn handle(
        &self,
        payload: &[u8],
        trace: TraceContext,
        position: Option<String>,
        delivered: i64,
    ) -> Disposition {
        let limit = self.ingestor.limits().max_event_bytes;
        let parsed = if payload.len() > limit {
            let mut v = Violations::new();
            v.push(
                "",
                format!(
                    "the event is larger than the limit of {limit} bytes (HERALD_INGEST_MAX_EVENT_BYTES)"
                ),
            );
            Err(IngestError::Invalid(v))
        } else {
            Event::from_json(payload).map_err(IngestError::Invalid)
        };
        let result = match parsed {
            Ok(event) => {
                let origin = Origin {
                    trace: trace.clone(),
                    implicit_key: position.as_ref().map(|p| format!("\u{1}herald.event/{p}")),
                };
                self.ingestor.submit(&event, &origin).await
            }
            Err(error) => Err(error),
        };
        report(self.ingestor.metrics(), Via::Nats, &result);
        match result {
            Ok(accepted) => Disposition::Accepted(accepted),
            // Invalid, too large, a reused key: the same event would be
            // refused again, so it goes to the dead letters, not back.
            Err(error) if error.violations().is_some() => {
                let violations = error.violations().expect("checked");
                let reason = violations.to_string();
                let fields: Vec<String> = violations
                    .iter()
                    .map(|v| v.path.clone())
                    .filter(|p| !p.is_empty())
                    .collect();
                match self
                    .dead_letter(payload, &reason, &fields, position, &trace)
                    .await
                {
                    Ok(()) => Disposition::DeadLettered { reason, fields },
                    Err(error) => Disposition::Retry {
                        reason: format!("cannot dead-letter the event: {error}"),
                        delay: retry_delay(delivered),
                    },
                }
            }
            Err(error) => Disposition::Retry {
                reason: error.to_string(),
                delay: retry_delay(delivered),
            },
        }
    }

    async fn dead_letter(
        &self,
        payload: &[u8],
        reason: &str,
        fields: &[String],
        position: Option<String>,
        trace: &TraceContext,
    ) -> Result<(), async_nats::jetstream::context::PublishError> {
        let subjects = &self.ingestor.declared().settings.subjects;
        let dead = v1::DeadEvent {
            payload: payload.to_vec(),
            reason: reason.to_owned(),
            fields: fields.to_vec(),
            dead_at: Some(std::time::SystemTime::now().into()),
        };
        // Derived from the stream position, so that a redelivered event
        // (its ack lost) is not dead-lettered twice.
        let msg_id = match position {
            Some(p) => format!("dead-event.{p}"),
            None => crate::submit::event_id(None),
        };
        let traceparent = herald_telemetry::traceparent_of(trace);
        self.publisher
            .publish(
                Outgoing {
                    subject: subjects.dead_event(),
                    msg_id,
                    payload: dead.encode_to_vec().into(),
                },
                traceparent.as_deref(),
            )
            .await?;
        self.ingestor.metrics().dead_event();
        Ok(())
    }
}

/// 1 s, 2 s, 4 s, ... up to a minute, by delivery count.
fn retry_delay(delivered: i64) -> Duration {
    let exponent = (delivered.clamp(1, 7) - 1) as u32;
    Duration::from_secs(1 << exponent).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_delays_grow_to_a_minute() {
        let d: Vec<u64> = [1, 2, 3, 6, 7, 50]
            .iter()
            .map(|n| super::retry_delay(*n).as_secs())
            .collect();
        assert_eq!(d, [1, 2, 4, 32, 60, 60]);
    }
}
