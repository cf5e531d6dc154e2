//! `bedrock`: Kibana's Amazon Bedrock connector. Posts a model invocation
//! to Bedrock's runtime API, signed with AWS Signature V4, and hands back
//! the completion (text, model, token usage, stop reason) as the result's
//! handles.

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
    std::sync::Arc::new(Bedrock)
}
