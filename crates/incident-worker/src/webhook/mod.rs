//! `webhook`: one HTTP call to a configured URL (Kibana's `.webhook`): the
//! method, configured and secret headers, basic, bearer or OAuth 2.0
//! client-credentials auth, client certificates and a custom CA (applied by
//! the outbound client), and the rendered `body`.

mod request;
mod response;
#[cfg(test)]
mod tests;

use herald_worker::http::Outbound;
use herald_worker::{Connector, Delivery, Outcome};

use crate::token_cache::TokenCache;

pub use request::build;
pub use response::classify;

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
