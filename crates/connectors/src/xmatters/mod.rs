//! `xmatters`: triggers an xMatters Flow with the alert's fields, either at
//! `configUrl` with basic auth or at `secretsUrl`, whose query carries the
//! API key (so that URL is a secret). The result carries xMatters'
//! `request_id`.

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
    std::sync::Arc::new(XMatters)
}
