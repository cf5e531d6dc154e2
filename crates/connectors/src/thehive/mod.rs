//! `thehive`: TheHive 5 cases (`pushToService`: create or update, then one
//! comment each) and alerts (`createAlert`), with the API key as a bearer
//! token and the organisation in `X-Organisation`. Results carry the
//! `case_id`, `case_number` and `url`, or the `alert_id`.

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
    std::sync::Arc::new(TheHive)
}
