//! Dead letters: a message that failed for good is stored on
//! `herald.dead.<type>` (`herald.dead.event` for events) before the message
//! it stands for is let go, with a `Nats-Msg-Id` made from the original's
//! place in its stream, so that a redelivery of the same message (its ack
//! lost) is not dead-lettered twice. The worker runtime and ingest's intake
//! both publish theirs here.

use async_nats::jetstream::context::PublishError;
use bytes::Bytes;

use crate::{Outgoing, Publisher, Subjects};

/// One dead letter, ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    subject: String,
    msg_id: String,
    payload: Bytes,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot store the dead letter on {subject}")]
pub struct DeadLetterError {
    subject: String,
    #[source]
    source: PublishError,
}

impl DeadLetter {
    /// An action that failed for good. One per stored action message: a
    /// redelivery of that message is deduplicated, a replay (a new message)
    /// that fails again gets a dead letter of its own.
    pub fn action(
        subjects: &Subjects,
        connector_type: &str,
        action_id: &str,
        stream_sequence: u64,
        payload: Bytes,
    ) -> DeadLetter {
        DeadLetter {
            subject: subjects.dead(connector_type),
            msg_id: format!("{action_id}:dead:{stream_sequence}"),
            payload,
        }
    }

    /// A message on `subject` (of `connector_type`) that is not an action
    /// request at all.
    pub fn malformed(
        subjects: &Subjects,
        connector_type: &str,
        subject: &str,
        stream_sequence: u64,
        payload: Bytes,
    ) -> DeadLetter {
        DeadLetter {
            subject: subjects.dead(connector_type),
            msg_id: format!("malformed:{subject}:{stream_sequence}"),
            payload,
        }
    }

    /// An event from `herald.event` that can never be accepted. `position`
    /// is the event's place in its stream (stream, sequence, publish time).
    pub fn event(subjects: &Subjects, position: &str, payload: Bytes) -> DeadLetter {
        DeadLetter {
            subject: subjects.dead_event(),
            msg_id: format!("dead-event.{position}"),
            payload,
        }
    }

    /// For a message whose place is unknown: `msg_id` as given.
    pub fn with_id(subject: String, msg_id: String, payload: Bytes) -> DeadLetter {
        DeadLetter {
            subject,
            msg_id,
            payload,
        }
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn msg_id(&self) -> &str {
        &self.msg_id
    }
}

impl Publisher {
    /// Stores a dead letter and waits for the stream's ack. Only once this
    /// returns `Ok` may the original message be acked or terminated; on an
    /// error the caller NAKs it, so that nothing is lost while NATS is away.
    pub async fn dead_letter(
        &self,
        letter: DeadLetter,
        traceparent: Option<&str>,
    ) -> Result<(), DeadLetterError> {
        let subject = letter.subject.clone();
        self.publish(
            Outgoing {
                subject: letter.subject,
                msg_id: letter.msg_id,
                payload: letter.payload,
            },
            traceparent,
        )
        .await
        .map(drop)
        .map_err(|source| DeadLetterError { subject, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_original_message_place() {
        let s = Subjects::new("herald");
        let a = DeadLetter::action(&s, "slack", "abc-0", 7, Bytes::new());
        assert_eq!(
            (a.subject(), a.msg_id()),
            ("herald.dead.slack", "abc-0:dead:7")
        );
        let m = DeadLetter::malformed(&s, "slack", "herald.action.slack", 9, Bytes::new());
        assert_eq!(
            (m.subject(), m.msg_id()),
            ("herald.dead.slack", "malformed:herald.action.slack:9")
        );
        let e = DeadLetter::event(&s, "HERALD_EVENTS.3.17", Bytes::new());
        assert_eq!(
            (e.subject(), e.msg_id()),
            ("herald.dead.event", "dead-event.HERALD_EVENTS.3.17")
        );
    }
}
