//! Herald's incident worker: the connectors that page, open tickets and
//! incidents, call webhooks, index documents and log (`pagerduty`,
//! `opsgenie`, `jira`, `servicenow*`, `webhook`, `index`, `server-log`, ...).
//! Each is a folder with the same files: `mod.rs` (its params / config /
//! secrets types and the `Connector`), `request.rs` (a pure build),
//! `response.rs` (a pure classify) and `tests.rs`. The consume loop,
//! retries and outbound HTTP live in `herald-worker`; what several of these
//! connectors share is in `auth` (credentials, OAuth client-credentials
//! token cache), `webhook_auth` (Kibana's webhook auth block), `rest`
//! (vendor URLs, basic auth, error text), `jwt` and `token_cache`
//! (ServiceNow's signed-JWT grant).

use std::sync::Arc;

use herald_worker::Connector;

pub mod auth;
pub mod cases_webhook;
pub mod d3security;
pub mod index;
pub mod jira;
pub mod jwt;
pub mod opsgenie;
pub mod pagerduty;
pub mod resilient;
pub mod rest;
pub mod server_log;
pub mod servicenow;
pub mod swimlane;
#[cfg(test)]
mod testing;
pub mod thehive;
pub mod tines;
pub mod token_cache;
pub mod torq;
pub mod webhook;
pub mod webhook_auth;
pub mod xmatters;

pub use cases_webhook::CasesWebhook;
pub use index::Index;
pub use jira::Jira;
pub use opsgenie::Opsgenie;
pub use pagerduty::PagerDuty;
pub use server_log::ServerLog;
pub use webhook::Webhook;

use servicenow::{Flavour, ServiceNow};

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    // One cache for every ServiceNow OAuth account of the worker.
    let tokens = Arc::new(token_cache::TokenCache::default());
    vec![
        Arc::new(PagerDuty),
        Arc::new(Opsgenie),
        Arc::new(Jira),
        Arc::new(ServiceNow::new(Flavour::Itsm, tokens.clone())),
        Arc::new(ServiceNow::new(Flavour::Sir, tokens.clone())),
        Arc::new(ServiceNow::new(Flavour::Itom, tokens)),
        Arc::new(xmatters::XMatters),
        Arc::new(swimlane::Swimlane),
        Arc::new(resilient::Resilient),
        Arc::new(d3security::D3Security),
        Arc::new(tines::Tines),
        Arc::new(torq::Torq),
        Arc::new(thehive::TheHive),
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
    fn serves_every_incident_type_of_the_catalog_once() {
        herald_worker::testing::assert_serves_catalog_types(
            &super::connectors(),
            herald_catalog::Worker::Incident,
        );
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(super::truncate("héllo", 2), "hé");
        assert_eq!(super::truncate("hi", 5), "hi");
    }
}
