//! `server-log`: the message written to this worker's own log as a
//! structured `tracing` event (target `herald::server_log`) at the
//! requested level; nothing leaves the process. Kibana's `fatal`, which
//! `tracing` lacks, is logged at error level with `fatal = true`. The
//! message comes from alert values, so its control characters are escaped:
//! a newline in it must not start a forged line of a text log.

pub mod alert;
pub mod spec;
pub use spec::*;

#[cfg(feature = "delivery")]
mod connector;
#[cfg(feature = "delivery")]
pub use connector::*;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(_shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(ServerLog)
}
