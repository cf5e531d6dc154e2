//! The one trait a connector implements, and what it is given.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::http::Outbound;
use crate::outcome::Outcome;

/// An account as resolved from the registry, secrets included. Debug prints
/// secret names only.
#[derive(Clone)]
pub struct Account {
    pub id: String,
    pub connector_type: String,
    pub name: String,
    pub version: i64,
    pub config: Map<String, Value>,
    pub secrets: Map<String, Value>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("connector_type", &self.connector_type)
            .field("version", &self.version)
            .field("secret_fields", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A config string, or `None` when absent, null or not a string.
    pub fn config_str(&self, field: &str) -> Option<&str> {
        self.config.get(field).and_then(Value::as_str)
    }

    pub fn secret_str(&self, field: &str) -> Option<&str> {
        self.secrets.get(field).and_then(Value::as_str)
    }
}

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
