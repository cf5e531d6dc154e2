//! Herald's incident worker: the connectors that page, open tickets and
//! incidents, call webhooks, index documents and log (`pagerduty`,
//! `opsgenie`, `jira`, `servicenow*`, `webhook`, `index`, `server-log`, ...).
//! Each is a folder with the same files: `mod.rs` (its params / config /
//! secrets types and the `Connector`), `request.rs` (a pure build),
//! `response.rs` (a pure classify) and `tests.rs`. The consume loop,
//! retries and outbound HTTP live in `herald-worker`.

use std::sync::Arc;

use herald_worker::Connector;

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![]
}
