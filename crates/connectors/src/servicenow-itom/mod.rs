//! `servicenow-itom`: ServiceNow Event Management events
//! (`POST /api/global/em/jsonv2`). Same account as `servicenow`, without
//! `usesTableApi`.

pub mod alert;
pub mod spec;
pub use spec::*;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(crate::servicenow::ServiceNow::new(
        crate::servicenow::Flavour::Itom,
        shared.servicenow_tokens.clone(),
    ))
}
