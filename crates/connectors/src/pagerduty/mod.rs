//! `pagerduty`: PagerDuty Events API v2 (`trigger`, `acknowledge`,
//! `resolve`), with Kibana's params plus the Events v2 fields Kibana leaves
//! out (`images`, `client`, `clientUrl`). The routing key is the credential.

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
    std::sync::Arc::new(PagerDuty)
}
