//! Publishing to JetStream: every message carries `Nats-Msg-Id` (so the
//! stream drops a duplicate within its window) and a W3C `traceparent`, and
//! a publish returns only once the stream has stored the message.

use async_nats::HeaderMap;
use async_nats::jetstream::{
    self, context::PublishAckFuture, context::PublishError, publish::PublishAck,
};
use bytes::Bytes;
use rand::Rng;

use crate::headers;

#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
}

/// One message to publish.
pub struct Outgoing {
    pub subject: String,
    pub msg_id: String,
    pub payload: Bytes,
}

impl Publisher {
    pub fn new(js: jetstream::Context) -> Publisher {
        Publisher { js }
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Publishes one message and waits for the stream's ack. `traceparent`
    /// continues the caller's trace; without one a new trace starts here.
    pub async fn publish(
        &self,
        message: Outgoing,
        traceparent: Option<&str>,
    ) -> Result<PublishAck, PublishError> {
        self.send(message, traceparent).await?.await
    }

    /// Publishes several messages pipelined (all sent, then all acks awaited)
    /// and returns their acks in order; fails if any was not stored.
    pub async fn publish_all(
        &self,
        messages: Vec<Outgoing>,
        traceparent: Option<&str>,
    ) -> Result<Vec<PublishAck>, PublishError> {
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            pending.push(self.send(message, traceparent).await?);
        }
        let mut acks = Vec::with_capacity(pending.len());
        for ack in pending {
            acks.push(ack.await?);
        }
        Ok(acks)
    }

    async fn send(
        &self,
        message: Outgoing,
        traceparent: Option<&str>,
    ) -> Result<PublishAckFuture, PublishError> {
        let mut h = HeaderMap::new();
        h.insert(headers::NATS_MESSAGE_ID, message.msg_id.as_str());
        match traceparent {
            Some(t) => h.insert(headers::TRACEPARENT, t),
            None => h.insert(headers::TRACEPARENT, new_traceparent().as_str()),
        }
        self.js
            .publish_with_headers(message.subject, h, message.payload)
            .await
    }
}

/// A fresh W3C trace context (`00-<trace id>-<span id>-01`), for messages
/// that start a trace.
pub fn new_traceparent() -> String {
    let mut rng = rand::rng();
    let trace: u128 = rng.random_range(1..=u128::MAX);
    let span: u64 = rng.random_range(1..=u64::MAX);
    format!("00-{trace:032x}-{span:016x}-01")
}

#[cfg(test)]
mod tests {
    #[test]
    fn traceparent_shape() {
        let t = super::new_traceparent();
        let parts: Vec<&str> = t.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len(), parts[3]),
            ("00", 32, 16, "01")
        );
        assert_ne!(t, super::new_traceparent());
    }
}
