//! `tines`: runs a Tines story by posting the action's JSON body to the
//! story's webhook (`<url>/webhook/<path>/<secret>`, or a full
//! `webhookUrl`), and lists a tenant's stories and webhook actions with the
//! user's email and API token. The webhook's own secret authenticates a
//! run, so the API token is sent to the tenant's API only, never to a
//! webhook URL that may be elsewhere.

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
    std::sync::Arc::new(Tines)
}
