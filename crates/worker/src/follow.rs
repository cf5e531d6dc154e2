//! An action that follows another (`ActionRequest.follows`: an alert's
//! repeat or resolve, following the delivery that opened the vendor
//! object) is delivered once that one has ended, with its handles: the
//! connector type's `follow_up` rewrites the params to reach the object
//! (a Slack `chat.update` of its `ts`, a comment on its Jira issue). Its
//! state is read from the status bucket the workers write, as ingest's
//! status lookup reads it.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::kv;
use herald_messaging::ActionId;
use herald_proto::v1::{ActionState, ActionStatusRecord, QueuedEvent};
use prost::Message as _;

/// Where the opener is.
#[derive(Debug, Clone, PartialEq)]
pub enum Opener {
    /// Queued or retrying: the follower waits.
    Pending,
    /// Delivered, with what the vendor created.
    Delivered(BTreeMap<String, String>),
    /// It will not open anything: failed for good, suppressed, or not
    /// known (its status expired). The follower goes as it is.
    Gone(&'static str),
}

/// The opener's state: its own status record, else its event's `queued`
/// record (written by ingest before any action is published, so an
/// opener not yet picked up is found there).
pub async fn opener(status: &kv::Store, follows: &str) -> Result<Opener, kv::EntryError> {
    let Some(id) = ActionId::parse(follows) else {
        return Ok(Opener::Gone("its action id is not one ingest makes"));
    };
    if let Some(bytes) = status.get(id.as_str()).await? {
        let Ok(record) = ActionStatusRecord::decode(bytes) else {
            return Ok(Opener::Gone("its status record is unreadable"));
        };
        return Ok(match ActionState::try_from(record.state) {
            Ok(ActionState::Delivered) => Opener::Delivered(record.handles.into_iter().collect()),
            Ok(ActionState::Failed) => Opener::Gone("it failed for good"),
            Ok(ActionState::Suppressed) => Opener::Gone("it was suppressed"),
            _ => Opener::Pending,
        });
    }
    let queued = match id.queued_event_key() {
        Some(key) => status.get(key).await?,
        None => None,
    };
    let listed = queued
        .and_then(|bytes| QueuedEvent::decode(bytes).ok())
        .zip(id.parts())
        .and_then(|(event, (_, index))| event.actions.get(index).map(|action| action.state));
    Ok(match listed {
        Some(state) if state == ActionState::Suppressed as i32 => Opener::Gone("it was suppressed"),
        Some(_) => Opener::Pending,
        None => Opener::Gone("it has no status (expired or never accepted)"),
    })
}

/// How long a follower waits before it looks again: 1 s, growing by a
/// second each time it comes back, up to 10 s. A resolve usually follows
/// its firing by one vendor call, so the first looks come soon; an opener
/// that retries for minutes costs a NAK every 10 s.
pub fn wait_delay(delivered: u64) -> Duration {
    Duration::from_secs(delivered.clamp(1, 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_to_ten_seconds() {
        assert_eq!(wait_delay(1), Duration::from_secs(1));
        assert_eq!(wait_delay(3), Duration::from_secs(3));
        assert_eq!(wait_delay(50), Duration::from_secs(10));
    }
}
