//! The traits a connector implements, and what it is given: `HttpConnector`
//! for one that makes a single request per attempt (its build and its
//! classify; the attempt is shared), `Connector` for one that drives
//! several calls itself (ServiceNow, Jira, e-mail).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::delivery::http::Outbound;
use crate::delivery::outcome::{HttpRequest, HttpResponse, Outcome};

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

/// A connector that makes one HTTP request per attempt. It only says what
/// to send and what the answer means; sending (the egress policy, the
/// account's TLS and proxy, timeouts, redirects) is [`Outbound`]'s, and
/// every `HttpConnector` is a [`Connector`].
pub trait HttpConnector: Send + Sync + 'static {
    /// The connector type id it serves.
    fn connector_type(&self) -> &'static str;

    /// The request for this attempt, or, when the params or the account
    /// cannot make one, the outcome that ends it (naming the field).
    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome>;

    /// What the vendor's answer means.
    fn classify(&self, response: &HttpResponse) -> Outcome;
}

#[async_trait::async_trait]
impl<T: HttpConnector> Connector for T {
    fn connector_type(&self) -> &'static str {
        HttpConnector::connector_type(self)
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = self.build(delivery);
        crate::delivery::attempt::attempt(http, &delivery.account, request, |response| {
            self.classify(response)
        })
        .await
    }
}
