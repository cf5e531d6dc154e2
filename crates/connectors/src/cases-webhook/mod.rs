//! `cases-webhook`: a case-management system reached through templated
//! REST calls, as Kibana's `.cases-webhook`: create (or update, when the
//! action names `externalId`), read the case's title, add comments. URL and
//! JSON templates come from the account and are rendered here with the
//! case; the new case's id is read from the response by a key path and
//! carried in the result (`external_id`), so a later update can name it.
//!
//! Template values, as in Kibana: in JSON bodies `{{{case.title}}}`,
//! `{{{case.description}}}`, `{{{case.tags}}}`, `{{{case.comment}}}`,
//! `{{{external.system.id}}}` are JSON literals (quoted strings, arrays);
//! in URLs `{{{external.system.id}}}` and `{{{external.system.title}}}` are
//! percent-encoded text.

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
    std::sync::Arc::new(CasesWebhook::default())
}
