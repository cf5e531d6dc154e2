//! The one trait a connector implements, and what it is given.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::delivery::http::Outbound;
use crate::delivery::outcome::Outcome;

/// Accounts come from the registry, secrets included.
pub use herald_registry_client::Account;

/// One attempt at one action.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub action_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Final params: templates were rendered at ingest.
    pub params: Map<String, Value>,
    pub account: Arc<Account>,
}

#[async_trait::async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The connector type id it serves (`slack`, `teams`, ...).
    fn connector_type(&self) -> &'static str;

    /// Makes one attempt. Never panics on bad input: a param or config it
    /// cannot use is `Outcome::Permanent` with `ErrorKind::InvalidParams` /
    /// `InvalidConfig` and a reason naming the field.
    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome;
}
