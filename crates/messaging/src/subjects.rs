//! Every subject and stream name, derived from HERALD_SUBJECT_PREFIX so two
//! Herald installations can share one NATS account.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    pub fn new(prefix: impl Into<String>) -> Subjects {
        Subjects {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `herald.event`: events published directly by producers.
    pub fn event(&self) -> String {
        format!("{}.event", self.prefix)
    }

    /// `herald.action.<type>`
    pub fn action(&self, connector_type: &str) -> String {
        format!("{}.action.{connector_type}", self.prefix)
    }

    /// `herald.result.<type>`
    pub fn result(&self, connector_type: &str) -> String {
        format!("{}.result.{connector_type}", self.prefix)
    }

    /// `herald.dead.<type>`; `herald.dead.event` for events.
    pub fn dead(&self, connector_type: &str) -> String {
        format!("{}.dead.{connector_type}", self.prefix)
    }

    pub fn dead_event(&self) -> String {
        self.dead("event")
    }

    /// `herald.account.changed`
    pub fn account_changed(&self) -> String {
        format!("{}.account.changed", self.prefix)
    }

    /// `herald.route.changed`
    pub fn route_changed(&self) -> String {
        format!("{}.route.changed", self.prefix)
    }

    /// Stream and bucket names cannot hold dots: `herald` gives `HERALD_ACTIONS`.
    pub fn stream(&self, what: &str) -> String {
        format!(
            "{}_{what}",
            self.prefix
                .replace(['.', '-', '*', '>'], "_")
                .to_ascii_uppercase()
        )
    }

    pub fn bucket(&self, what: &str) -> String {
        format!("{}_{what}", self.prefix.replace(['.', '*', '>'], "_"))
    }

    /// The durable consumer that every replica of a worker shares.
    pub fn consumer(&self, connector_type: &str) -> String {
        format!("{}-worker", connector_type.replace(['.', '*', '>'], "_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let s = Subjects::new("herald");
        assert_eq!(s.action("a-type_2"), "herald.action.a-type_2");
        assert_eq!(s.result("slack"), "herald.result.slack");
        assert_eq!(s.dead_event(), "herald.dead.event");
        assert_eq!(s.account_changed(), "herald.account.changed");
        assert_eq!(s.route_changed(), "herald.route.changed");
        assert_eq!(s.stream("ACTIONS"), "HERALD_ACTIONS");
        assert_eq!(
            Subjects::new("staging.eu").stream("DEAD"),
            "STAGING_EU_DEAD"
        );
        assert_eq!(s.bucket("status"), "herald_status");
        assert_eq!(s.consumer("slack_api"), "slack_api-worker");
    }
}
