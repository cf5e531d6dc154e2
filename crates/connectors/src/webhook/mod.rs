//! `webhook`: one HTTP call to a configured URL (Kibana's `.webhook`): the
//! method, configured and secret headers, basic, bearer or OAuth 2.0
//! client-credentials auth, client certificates and a custom CA (applied by
//! the outbound client), and the rendered `body`.

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
    std::sync::Arc::new(Webhook::default())
}
