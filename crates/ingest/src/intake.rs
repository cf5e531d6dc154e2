//! Events that producers publish on `herald.event` (JSON `SubmitRequest`),
//! taken by the durable pull consumer `ingest` that every ingest replica
//! shares. An accepted event is acked; an event that can never be accepted
//! (broken JSON, violations) goes to `herald.dead.event` with its reason and
//! is acked, so one bad event never blocks the ones behind it; when the
//! registry or NATS is away the event is NAKed with a delay and tried again
//! later, never dead-lettered. Fetching, acking and the shutdown drain are
//! `herald_messaging::consume`'s, the loop the workers run on too.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Message;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use herald_catalog::Violations;
use herald_messaging::consume::{self, Handler, Settle, Settlement};
use herald_messaging::{DeadLetter, DeadLetterError, Publisher};
use herald_proto::v1;
use herald_telemetry::TraceContext;
use prost::Message as _;

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
pub enum EventDisposition {
    /// Published (or answered from the idempotency record), and acked.
    Accepted(Accepted),
    /// Published to `herald.dead.event`, and acked.
    DeadLettered { reason: String, fields: Vec<String> },
    /// NAKed: it comes back after `delay`.
    Retry { reason: String, delay: Duration },
}

impl Settle for EventDisposition {
    fn settlement(&self) -> Settlement {
        match self {
            // A dead-lettered event is acked, not terminated: it is done
            // with, its dead letter stored.
            EventDisposition::Accepted(_) | EventDisposition::DeadLettered { .. } => {
                Settlement::Ack
            }
            EventDisposition::Retry { delay, .. } => Settlement::Nak(*delay),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot declare the herald.event consumer `{CONSUMER}`")]
pub struct IntakeError(#[source] async_nats::jetstream::stream::ConsumerError);

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
    pub async fn consumer(&self) -> Result<PullConsumer, IntakeError> {
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
            .await
            .map_err(IntakeError)?;
        Ok(consumer)
    }

    /// Takes events until `shutdown` resolves, then waits for the ones in
    /// hand, however long they take (each is bounded by its lookups' and
    /// publishes' timeouts). Survives NATS outages: declaring the consumer
    /// is tried again, and so is every fetch.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let mut shutdown = std::pin::pin!(shutdown);
        let consumer = loop {
            match self.consumer().await {
                Ok(consumer) => break consumer,
                Err(error) => {
                    tracing::warn!(error = %herald_telemetry::chain(&error), "cannot consume herald.event; retrying");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        let limits = consume::Limits {
            concurrency: self.concurrency,
            grace: None,
        };
        consume::run(vec![consumer], Arc::new(self), limits, shutdown).await;
    }

    /// Handles one message from `herald.event` and acks or NAKs it.
    pub async fn process_one(&self, message: &Message) -> EventDisposition {
        consume::process(self, message).await
    }

    /// Submits the event, or dead-letters it when it can never be accepted.
    async fn accept(
        &self,
        payload: &[u8],
        trace: TraceContext,
        position: Option<String>,
        delivered: i64,
    ) -> EventDisposition {
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
            Ok(accepted) => EventDisposition::Accepted(accepted),
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
                    Ok(()) => EventDisposition::DeadLettered { reason, fields },
                    Err(error) => EventDisposition::Retry {
                        reason: format!(
                            "cannot dead-letter the event: {}",
                            herald_telemetry::chain(&error)
                        ),
                        delay: retry_delay(delivered),
                    },
                }
            }
            Err(error) => EventDisposition::Retry {
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
    ) -> Result<(), DeadLetterError> {
        let subjects = &self.ingestor.declared().settings.subjects;
        let dead = v1::DeadEvent {
            payload: payload.to_vec(),
            reason: reason.to_owned(),
            fields: fields.to_vec(),
            dead_at: Some(std::time::SystemTime::now().into()),
        };
        let payload = dead.encode_to_vec().into();
        // Derived from the stream position, so that a redelivered event
        // (its ack lost) is not dead-lettered twice.
        let letter = match position {
            Some(p) => DeadLetter::event(subjects, &p, payload),
            None => DeadLetter::with_id(
                subjects.dead_event(),
                crate::submit::event_id(None),
                payload,
            ),
        };
        let traceparent = herald_telemetry::traceparent_of(trace);
        self.publisher
            .dead_letter(letter, traceparent.as_deref())
            .await?;
        self.ingestor.metrics().dead_event();
        Ok(())
    }
}

impl Handler for Intake {
    type Disposition = EventDisposition;

    async fn handle(&self, message: &Message) -> EventDisposition {
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
        self.accept(&message.payload, trace, position, delivered)
            .await
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
