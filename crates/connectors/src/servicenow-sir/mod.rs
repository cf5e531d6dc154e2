//! `servicenow-sir`: ServiceNow Security Incident Response
//! (`sn_si_incident`). Same account as `servicenow`; the incident adds
//! observables and a priority.

pub mod alert;
pub mod spec;
pub use spec::*;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(crate::servicenow::ServiceNow::new(
        crate::servicenow::Flavour::Sir,
        shared.servicenow_tokens.clone(),
    ))
}
