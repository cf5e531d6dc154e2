//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::http::Outbound;
use crate::delivery::{Connector, Delivery, Outcome};

use crate::token_cache::TokenCache;

pub use super::request::build;
pub use super::response::classify;

#[derive(Default)]
pub struct Webhook {
    tokens: TokenCache,
}

#[async_trait::async_trait]
impl Connector for Webhook {
    fn connector_type(&self) -> &'static str {
        "webhook"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let (auth, request) = match build(&delivery.params, &delivery.account) {
            Ok(built) => built,
            Err(outcome) => return outcome,
        };
        match auth
            .send(&self.tokens, http, &delivery.account, request)
            .await
        {
            Ok(response) => classify(&response),
            Err(outcome) => outcome,
        }
    }
}
