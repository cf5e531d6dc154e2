//! `jira`: Jira REST API v2. `pushToService` creates an issue (or updates
//! the one `incident.externalId` names) and adds the comments, with basic
//! auth of the account's e-mail and API token. The result carries the
//! issue's id, key and browse URL. Kibana's other sub-actions read Jira for
//! its UI (issue types, fields, search) and deliver nothing, so they are
//! refused.

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
    std::sync::Arc::new(Jira)
}
