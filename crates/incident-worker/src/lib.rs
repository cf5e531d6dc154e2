//! Herald's incident worker: the connectors that page, open tickets and
//! incidents, call webhooks, index documents and log (`pagerduty`,
//! `opsgenie`, `jira`, `servicenow*`, `webhook`, `index`, `server-log`, ...).
//! Each is a folder with the same files: `mod.rs` (its params / config /
//! secrets types and the `Connector`), `request.rs` (a pure build),
//! `response.rs` (a pure classify) and `tests.rs`. The consume loop,
//! retries and outbound HTTP live in `herald-worker`; `rest`, `jwt` and
//! `token_cache` are what several connectors here share.

use std::sync::Arc;

use herald_worker::Connector;

pub mod d3security;
pub mod jwt;
pub mod resilient;
pub mod rest;
pub mod servicenow;
pub mod swimlane;
#[cfg(test)]
mod testing;
pub mod thehive;
pub mod tines;
pub mod token_cache;
pub mod torq;
pub mod xmatters;

use servicenow::{Flavour, ServiceNow};

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    // One cache for every OAuth account of the worker.
    let tokens = Arc::new(token_cache::TokenCache::default());
    vec![
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
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn serves_incident_types_of_the_catalog() {
        let served: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        for id in &served {
            let spec = herald_catalog::catalog()
                .all()
                .iter()
                .find(|spec| spec.id == *id)
                .unwrap_or_else(|| panic!("{id} is not in the catalog"));
            assert_eq!(spec.worker, herald_catalog::Worker::Incident, "{id}");
        }
        for id in [
            "servicenow",
            "servicenow-sir",
            "servicenow-itom",
            "xmatters",
            "swimlane",
            "resilient",
            "d3security",
            "tines",
            "torq",
            "thehive",
        ] {
            assert!(served.contains(&id), "{id} is not served");
        }
    }
}
