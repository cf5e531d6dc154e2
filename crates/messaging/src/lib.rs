//! Herald's NATS JetStream layer, shared by ingest and every worker: the
//! subjects, the streams and buckets (declared idempotently at start, so a
//! changed setting is applied rather than ignored), and publishing that
//! always sets `Nats-Msg-Id` and `traceparent` and waits for the stream's
//! ack; the one consume loop (fetch, bounded concurrency, ack / NAK / TERM,
//! shutdown) and dead-letter publishing. Only nats-server 2.9 features are
//! used.

mod action_id;
pub mod consume;
mod dead_letter;
pub mod dead_letters;
mod declare;
mod publish;
mod subjects;

pub use action_id::{ActionId, queued_event_key};
pub use dead_letter::{DeadLetter, DeadLetterError};
pub use declare::{Declared, MaxBytes, MessagingError, Settings, declare};
pub use publish::{Outgoing, Publisher, new_traceparent};
pub use subjects::Subjects;

/// Header names Herald sets on every message it publishes.
pub mod headers {
    pub use async_nats::header::NATS_MESSAGE_ID;
    pub const TRACEPARENT: &str = "traceparent";
    /// On dead letters: why the message failed for good.
    pub const REASON: &str = "Herald-Reason";
}
