//! Herald's chat worker: the connectors that post to chat tools (`slack`,
//! `slack_api`, `teams`). Each is a folder with the same files: `mod.rs`
//! (its params / config / secrets types and the `Connector`), `request.rs`
//! (a pure build), `response.rs` (a pure classify) and `tests.rs`. The
//! consume loop, retries and outbound HTTP live in `herald-worker`.

use std::sync::Arc;

use herald_worker::Connector;

pub mod slack;
pub mod slack_api;
pub mod teams;

pub use slack::Slack;
pub use slack_api::SlackApi;
pub use teams::Teams;

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![Arc::new(Slack), Arc::new(SlackApi), Arc::new(Teams)]
}

#[cfg(test)]
mod tests {
    #[test]
    fn serves_the_chat_types() {
        let types: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        assert_eq!(types, ["slack", "slack_api", "teams"]);
    }

    #[test]
    fn serves_every_type_the_catalog_gives_this_worker() {
        herald_worker::testing::assert_serves_catalog_types(
            &super::connectors(),
            herald_catalog::Worker::Chat,
        );
    }
}
