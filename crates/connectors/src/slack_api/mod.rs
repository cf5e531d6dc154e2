//! `slack_api`: the Slack Web API with a bot token. Kibana's sub-actions:
//! `postMessage` (text), `postBlockkit` (Block Kit JSON) and
//! `validChannelId` (looks a channel up). Posts go to the first channel
//! only, and only to `config.allowedChannels` when that list is set.

pub mod alert;
pub mod spec;
pub use spec::*;

#[cfg(feature = "delivery")]
mod connector;
#[cfg(feature = "delivery")]
pub use connector::*;
#[cfg(feature = "delivery")]
mod request;
#[cfg(feature = "delivery")]
mod response;
#[cfg(all(test, feature = "delivery"))]
mod tests;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(_shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(SlackApi)
}
