//! `swimlane`: pushes alerts and cases into a Swimlane application as
//! records, each param written to the application field its mapping names,
//! then the comments into the mapped comments field. `Private-Token`
//! carries the API token. Results carry `record_id`, the record's `name`
//! (its tracking id) and `url`.

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
    std::sync::Arc::new(Swimlane)
}
