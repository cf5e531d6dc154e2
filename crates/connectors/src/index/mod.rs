//! `index`: documents written to an Elasticsearch- or OpenSearch-compatible
//! `_bulk` endpoint with `create` operations, as Kibana's `.index` does;
//! Herald has no cluster client of its own, so `config.url` and basic or
//! API-key credentials say where and as whom. A 200 can still carry
//! per-document failures (`errors: true`); they are reported, not hidden.

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
    std::sync::Arc::new(Index)
}
