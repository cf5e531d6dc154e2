//! Reading and replaying the dead letters of the DEAD stream, for
//! `heraldctl dead` and the registry's `/v1/dead-letters`. A replay
//! republishes the stored `ActionRequest` on `herald.action.<type>` under a
//! new `Nats-Msg-Id`, sets the action's status back to queued, and then
//! deletes the dead letter, so a second replay of it finds nothing.

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use herald_proto::v1::{ActionState, ActionStatusRecord, DeadLetter, ErrorKind};
use prost::Message as _;
use serde_json::{Value, json};

use crate::{Outgoing, Publisher, Subjects};

/// One dead letter and its place in the DEAD stream.
#[derive(Debug, Clone)]
pub struct StoredDeadLetter {
    pub sequence: u64,
    pub letter: DeadLetter,
}

impl StoredDeadLetter {
    pub fn action_id(&self) -> Option<&str> {
        self.letter.request.as_ref().map(|r| r.action_id.as_str())
    }

    /// The letter as both listings show it; it carries no secret (an
    /// action request holds rendered params, never credentials).
    pub fn to_json(&self) -> Value {
        let request = self.letter.request.clone().unwrap_or_default();
        let time =
            |t: Option<&prost_types::Timestamp>| t.map_or(Value::Null, |t| t.to_string().into());
        json!({
            "action_id": request.action_id,
            "connector_type": request.connector_type,
            "account_id": request.account_id,
            "attempts": self.letter.attempts,
            "error_kind": ErrorKind::try_from(self.letter.error_kind).unwrap_or_default().as_str_name(),
            "reason": self.letter.reason,
            "dead_at": time(self.letter.dead_at.as_ref()),
            "vendor_response": self.letter.vendor_response.as_ref().map_or(Value::Null, |r| {
                json!({"status": r.status, "body": r.body, "request_id": r.request_id})
            }),
            "subject": self.letter.subject,
            "sequence": self.sequence,
        })
    }
}

/// What a listing found: the letters, and those it could not decode (their
/// sequence and why).
#[derive(Debug, Default)]
pub struct Listing {
    pub letters: Vec<StoredDeadLetter>,
    pub undecodable: Vec<(u64, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("reading dead letters: {0}")]
pub struct DeadLettersError(String);

/// The DEAD stream of one subject prefix.
#[derive(Clone)]
pub struct DeadLetters {
    js: jetstream::Context,
    subjects: Subjects,
}

impl DeadLetters {
    pub fn new(client: async_nats::Client, subjects: Subjects) -> DeadLetters {
        DeadLetters {
            js: jetstream::new(client),
            subjects,
        }
    }

    /// Dead letters of `connector_type` (every type when `None`), oldest
    /// first, at most `limit`; dead events (`herald.dead.event`) are not
    /// actions and are left out.
    pub async fn list(
        &self,
        connector_type: Option<&str>,
        limit: usize,
    ) -> Result<Listing, DeadLettersError> {
        let fail = |e: &dyn std::fmt::Display| DeadLettersError(e.to_string());
        let name = self.subjects.stream("DEAD");
        let stream = self
            .js
            .get_stream(&name)
            .await
            .map_err(|e| DeadLettersError(format!("stream {name}: {e}")))?;
        let filter_subject = match connector_type {
            Some(t) => self.subjects.dead(t),
            None => format!("{}.dead.>", self.subjects.prefix()),
        };
        let mut consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject,
                ..Default::default()
            })
            .await
            .map_err(|e| fail(&e))?;
        let pending = consumer.info().await.map_err(|e| fail(&e))?.num_pending;
        let mut messages = consumer.messages().await.map_err(|e| fail(&e))?;
        let dead_event = self.subjects.dead_event();
        let mut out = Listing::default();
        for _ in 0..pending {
            if out.letters.len() >= limit {
                break;
            }
            let message = match messages.next().await {
                Some(m) => m.map_err(|e| fail(&e))?,
                None => break,
            };
            if message.subject.as_str() == dead_event {
                continue;
            }
            let sequence = message.info().map_err(|e| fail(&e))?.stream_sequence;
            match DeadLetter::decode(message.payload.clone()) {
                Ok(letter) => out.letters.push(StoredDeadLetter { sequence, letter }),
                Err(e) => out.undecodable.push((sequence, e.to_string())),
            }
        }
        Ok(out)
    }

    /// Republishes the action, queues its status, deletes the dead letter.
    pub async fn replay(&self, dead: &StoredDeadLetter) -> Result<(), String> {
        let mut request = dead
            .letter
            .request
            .clone()
            .ok_or("the message could not be decoded when it died; nothing to replay")?;
        // Its attempts are numbered on from the ones that ended.
        request.attempts_before = request.attempts_before.max(dead.letter.attempts);
        // Read before publishing, written after only if nobody wrote in
        // between: the worker may finish the replay before this update, and
        // its record must win.
        let status = self.queued_status(&request.action_id).await;
        Publisher::new(self.js.clone())
            .publish(
                Outgoing {
                    subject: self.subjects.action(&request.connector_type),
                    // New, so JetStream does not drop it as a duplicate of the
                    // original; per dead letter, so retrying a replay is not.
                    msg_id: format!("{}:replay:{}", request.action_id, dead.sequence),
                    payload: request.encode_to_vec().into(),
                },
                None,
            )
            .await
            .map_err(|e| format!("cannot publish: {e}"))?;
        if let Some((kv, queued, revision)) = status {
            let _ = kv.update(&request.action_id, queued.into(), revision).await;
        }
        let stream = self
            .js
            .get_stream(self.subjects.stream("DEAD"))
            .await
            .map_err(|e| format!("replayed, but the DEAD stream is not reachable: {e}"))?;
        stream
            .delete_message(dead.sequence)
            .await
            .map_err(|e| format!("replayed, but the dead letter was not removed: {e}"))?;
        Ok(())
    }

    /// The action's status record set back to queued, and the revision it
    /// replaces, so a status read waits for the replay instead of reporting
    /// the old failure.
    async fn queued_status(&self, action_id: &str) -> Option<(jetstream::kv::Store, Vec<u8>, u64)> {
        let kv = self
            .js
            .get_key_value(self.subjects.bucket("status"))
            .await
            .ok()?;
        let entry = kv.entry(action_id).await.ok()??;
        let mut record = ActionStatusRecord::decode(entry.value).ok()?;
        record.state = ActionState::Queued as i32;
        Some((kv, record.encode_to_vec(), entry.revision))
    }
}
