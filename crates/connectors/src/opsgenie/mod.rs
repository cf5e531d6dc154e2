//! `opsgenie`: Opsgenie Alert API v2, `createAlert` and `closeAlert`, with
//! `GenieKey` auth; `config.apiUrl` picks the EU instance
//! (`https://api.eu.opsgenie.com`). Requests are asynchronous at Opsgenie:
//! the result carries its `requestId` and the alert's alias.

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
    std::sync::Arc::new(Opsgenie)
}
