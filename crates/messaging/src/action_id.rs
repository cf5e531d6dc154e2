//! An action's id, `<event id>-<index>` as ingest makes it: the
//! `Nats-Msg-Id` of its action request and its key in the status bucket.
//! Ingest makes them; a status lookup and a worker reading a message's
//! header parse them, so the shape is defined here once.

/// 1 to [`ActionId::MAX_LEN`] of `[A-Za-z0-9_-]`: every id ingest makes,
/// and a valid status key that no other record (`event.<id>`) can be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionId(String);

impl ActionId {
    pub const MAX_LEN: usize = 64;

    /// The id of the `index`-th action of the event `event_id`.
    pub fn new(event_id: &str, index: usize) -> ActionId {
        ActionId(format!("{event_id}-{index}"))
    }

    pub fn parse(id: &str) -> Option<ActionId> {
        let shaped = (1..=ActionId::MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        shaped.then(|| ActionId(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The status bucket's key of the `queued` record of the event this
    /// action belongs to (`event.<event id>`), which ingest writes before
    /// publishing the event's actions; `None` for an id ingest did not make.
    pub fn queued_event_key(&self) -> Option<String> {
        self.parts().map(|(event, _)| queued_event_key(event))
    }

    /// The event id (32 hex digits) and index the id was made of; `None`
    /// for an id ingest did not make.
    pub fn parts(&self) -> Option<(&str, usize)> {
        let (event, index) = self.0.rsplit_once('-')?;
        let index = index.parse().ok()?;
        (event.len() == 32 && event.bytes().all(|c| c.is_ascii_hexdigit()))
            .then_some((event, index))
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The status bucket's key of an event's `queued` record: one write per
/// event holds the `queued` state of all its actions until a worker writes
/// an action's own record.
pub fn queued_event_key(event_id: &str) -> String {
    format!("event.{event_id}")
}

#[cfg(test)]
mod tests {
    use super::ActionId;

    #[test]
    fn ids_ingest_makes_parse_and_split() {
        let event = "0123456789abcdef0123456789abcdef";
        let id = ActionId::new(event, 3);
        assert_eq!(ActionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.parts(), Some((event, 3)));
        assert_eq!(ActionId::parse("abc-1").unwrap().parts(), None);
        assert_eq!(
            ActionId::parse(&format!("{event}-x")).unwrap().parts(),
            None
        );
        assert!(ActionId::parse("a1").is_some());
        for bad in ["", "event.abc", "a.b", "a b", "a*", "../x", &"a".repeat(65)] {
            assert_eq!(ActionId::parse(bad), None, "{bad}");
        }
    }
}
