//! Herald's incident worker: the connectors that page, open tickets and
//! incidents, call webhooks, index documents and log (`pagerduty`,
//! `opsgenie`, `jira`, `servicenow*`, `webhook`, `index`, `server-log`, ...).
//! Each is a folder with the same files: `mod.rs` (its params / config /
//! secrets types and the `Connector`), `request.rs` (a pure build),
//! `response.rs` (a pure classify) and `tests.rs`. The consume loop,
//! retries and outbound HTTP live in `herald-worker`; what several of these
//! connectors share is in `auth` (credentials, OAuth token cache) and
//! `webhook_auth` (Kibana's webhook auth block).

use std::sync::Arc;

use herald_worker::Connector;

pub mod auth;
pub mod cases_webhook;
pub mod index;
pub mod jira;
pub mod opsgenie;
pub mod pagerduty;
pub mod server_log;
pub mod webhook;
pub mod webhook_auth;

pub use cases_webhook::CasesWebhook;
pub use index::Index;
pub use jira::Jira;
pub use opsgenie::Opsgenie;
pub use pagerduty::PagerDuty;
pub use server_log::ServerLog;
pub use webhook::Webhook;

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(PagerDuty),
        Arc::new(Opsgenie),
        Arc::new(Jira),
        Arc::new(Webhook::default()),
        Arc::new(CasesWebhook::default()),
        Arc::new(Index),
        Arc::new(ServerLog),
    ]
}

/// `text` cut to at most `max` characters, where a vendor caps a field
/// (PagerDuty's summary, Opsgenie's message).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// The reason of a failed outcome, for a step reported inside a delivered
/// one (a comment that could not be added).
pub(crate) fn reason_of(outcome: &herald_worker::Outcome) -> &str {
    match outcome {
        herald_worker::Outcome::Retry { reason, .. }
        | herald_worker::Outcome::Permanent { reason, .. } => reason,
        herald_worker::Outcome::Delivered { .. } => "",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn serves_incident_types_of_the_catalog_once_each() {
        let incident: Vec<&str> = herald_catalog::catalog()
            .all()
            .iter()
            .filter(|spec| spec.worker == herald_catalog::Worker::Incident)
            .map(|spec| spec.id)
            .collect();
        let mut served: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        assert!(served.iter().all(|t| incident.contains(t)), "{served:?}");
        served.sort();
        served.dedup();
        assert_eq!(served.len(), super::connectors().len());
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(super::truncate("héllo", 2), "hé");
        assert_eq!(super::truncate("hi", 5), "hi");
    }
}
