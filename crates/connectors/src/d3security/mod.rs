//! `d3security`: posts an event to a D3 Security SOAR event endpoint with
//! the `d3key` token header. The event is the action's JSON `body` with
//! its `severity` and `eventType` added; D3 answers with the `refid` of the
//! event it recorded, which the result carries.

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
    std::sync::Arc::new(D3Security)
}
