//! The one consume loop, used by the worker runtime (`herald.action.<type>`)
//! and by ingest's `herald.event` intake: fetch from durable pull consumers,
//! a bounded number of messages in flight, one [`Handler`] call per message
//! whose disposition becomes the ack, NAK or TERM ([`Settlement`]), and a
//! shutdown that stops fetching and drains what is in hand.
//!
//! The consumers themselves (ack wait, `max_ack_pending`, filters) are
//! declared by their owners; what is done with a message is theirs too.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{AckKind, Message, consumer::PullConsumer};
use futures::StreamExt;
use tokio::sync::{Semaphore, watch};
use tracing::Instrument;

/// What becomes of a message once its handler is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Done with: JetStream forgets it.
    Ack,
    /// Sent back, to come again after the delay.
    Nak(Duration),
    /// Not processed (shutdown): sent back for another replica or a
    /// restart to take at once.
    Release,
    /// Failed for good (its dead letter stored first): never redelivered.
    Term,
}

impl Settlement {
    fn ack_kind(self) -> AckKind {
        match self {
            Settlement::Ack => AckKind::Ack,
            Settlement::Nak(delay) => AckKind::Nak(Some(delay)),
            Settlement::Release => AckKind::Nak(None),
            Settlement::Term => AckKind::Term,
        }
    }
}

/// A handler's own account of a message (what tests assert on), and the
/// settlement it implies.
pub trait Settle {
    fn settlement(&self) -> Settlement;
}

/// What the loop calls for each message.
pub trait Handler: Send + Sync + 'static {
    type Disposition: Settle + Send + 'static;

    /// Handles one message; [`process`] then settles it by the disposition.
    /// The handler may send progress acks (`+WPI`) meanwhile, never the
    /// final one.
    fn handle(&self, message: &Message) -> impl Future<Output = Self::Disposition> + Send;

    /// The span a message is handled and settled in (the ack's failure is
    /// logged in it).
    fn span(&self, _message: &Message) -> tracing::Span {
        tracing::Span::current()
    }

    /// Called when the drain deadline has passed: messages still in hand
    /// should give up and come back as [`Settlement::Release`].
    fn abandon(&self) {}
}

/// One message, start to finish: handled, then acked, NAKed or terminated.
/// The loop runs this for every message; tests call it through the
/// handlers' `process_one` to drive one step.
pub async fn process<H: Handler>(handler: &H, message: &Message) -> H::Disposition {
    let span = handler.span(message);
    async {
        let disposition = handler.handle(message).await;
        settle(message, disposition.settlement()).await;
        disposition
    }
    .instrument(span)
    .await
}

/// Sends the settlement. A failure is logged, not returned: JetStream
/// redelivers the message after its ack wait, which handlers are ready for.
pub async fn settle(message: &Message, settlement: Settlement) {
    if let Err(error) = message.ack_with(settlement.ack_kind()).await {
        tracing::warn!(%error, subject = %message.subject, ?settlement, "ack not sent; JetStream will redeliver after the ack wait");
    }
}

/// How much the loop takes on, and how long a shutdown waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages handled at once, across all the loop's consumers.
    pub concurrency: usize,
    /// How long in-flight messages get once shutdown begins before the
    /// handler is told to abandon them; `None` waits for them however long.
    pub grace: Option<Duration>,
}

/// The most messages one fetch asks for.
const MAX_BATCH: usize = 256;
/// How long one fetch waits on the server for messages: short, so that a
/// shutdown is seen within it.
const FETCH_EXPIRES: Duration = Duration::from_millis(500);
/// The pause after a failed fetch (NATS away), so that an outage does not
/// spin.
const FETCH_RETRY: Duration = Duration::from_millis(500);

/// Consumes `consumers` with `handler` until `shutdown` resolves; then
/// stops fetching, lets the messages in hand finish (within
/// `limits.grace`, after which [`Handler::abandon`] is called and they are
/// still waited for) and returns. Survives NATS outages: each fetch is a
/// request of its own, tried again until NATS answers.
pub async fn run<H: Handler>(
    consumers: Vec<PullConsumer>,
    handler: Arc<H>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    // The bound on work in flight, shared by every consumer of the loop:
    // each message costs a connection, registry lookups and memory, and a
    // backlog after an outage must not open thousands at once. The server's
    // max_ack_pending is per consumer and shared by all replicas, so it
    // cannot be this process's bound.
    let concurrency = limits.concurrency.max(1);
    let permits = Arc::new(Semaphore::new(concurrency));
    let (stop_tx, stop) = watch::channel(false);
    let fetchers: Vec<_> = consumers
        .into_iter()
        .map(|consumer| {
            tokio::spawn(fetch(
                consumer,
                handler.clone(),
                permits.clone(),
                stop.clone(),
            ))
        })
        .collect();
    shutdown.await;
    tracing::info!("stopping: no new fetches; finishing the messages in hand");
    let _ = stop_tx.send(true);
    for fetcher in fetchers {
        let _ = fetcher.await;
    }
    let all = concurrency as u32;
    match limits.grace {
        None => drop(permits.acquire_many(all).await),
        Some(grace) => {
            if tokio::time::timeout(grace, permits.acquire_many(all))
                .await
                .is_err()
            {
                tracing::warn!("shutdown grace over: releasing unfinished messages for redelivery");
                handler.abandon();
                drop(permits.acquire_many(all).await);
            }
        }
    }
}

async fn fetch<H: Handler>(
    consumer: PullConsumer,
    handler: Arc<H>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        // Fetch only as many as can start now: nothing waits in a client
        // buffer, so a shutdown leaves no message stranded until its ack
        // wait expires.
        let room = permits.available_permits().clamp(1, MAX_BATCH);
        let batch = consumer
            .fetch()
            .max_messages(room)
            .expires(FETCH_EXPIRES)
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "fetch failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(FETCH_RETRY) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        while let Some(message) = batch.next().await {
            let message = match message {
                Ok(m) => m,
                Err(error) => {
                    tracing::debug!(%error, "fetch ended");
                    break;
                }
            };
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore never closed");
            let handler = handler.clone();
            // Boxed once here: tokio moves a spawned future by value several
            // times on its way into the task, and a delivery's future is
            // kilobytes large (callgrind: those copies were a fifth of the
            // pipeline's instructions).
            tokio::spawn(Box::pin(async move {
                process(&*handler, &message).await;
                drop(permit);
            }));
        }
    }
}
