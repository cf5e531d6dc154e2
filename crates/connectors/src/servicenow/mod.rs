//! `servicenow`, `servicenow-sir` and `servicenow-itom`: ITSM incidents and
//! security incidents through the Table API or the Elastic app's import set
//! (create, update, comments as work notes, close), and Event Management
//! events. One account shape for the three: basic auth, or OAuth with a
//! JWT bearer grant whose token is cached per account (`auth`). Results
//! carry the record's `number`, `sys_id` and `url`.

pub mod alert;
pub mod spec;
pub use spec::*;

#[cfg(feature = "delivery")]
mod connector;
#[cfg(feature = "delivery")]
pub use connector::*;
#[cfg(feature = "delivery")]
mod auth;
#[cfg(feature = "delivery")]
mod request;
#[cfg(feature = "delivery")]
mod response;
#[cfg(all(test, feature = "delivery"))]
mod tests;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(ServiceNow::new(
        Flavour::Itsm,
        shared.servicenow_tokens.clone(),
    ))
}
