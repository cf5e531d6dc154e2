//! `resilient`: IBM Resilient (QRadar SOAR) incidents in one organisation:
//! created, or updated as a list of field changes against the incident's
//! current values, then one comment each; plus the read-only lookups
//! Kibana offers. Basic auth with the API key id and secret. Results carry
//! `incident_id` and `url`.

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
    std::sync::Arc::new(Resilient)
}
