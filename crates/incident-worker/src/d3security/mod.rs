//! `d3security`: posts an event to a D3 Security SOAR event endpoint with
//! the `d3key` token header. The event is the action's JSON `body` with
//! its `severity` and `eventType` added; D3 answers with the `refid` of the
//! event it recorded, which the result carries.

mod request;
mod response;
#[cfg(test)]
mod tests;

use herald_worker::fields::{Fields, Secret};
use herald_worker::http::Outbound;
use herald_worker::{Account, Connector, Delivery, Outcome};
use url::Url;

use crate::rest::base_url;

pub use request::build;
pub use response::classify;

pub struct D3Security;

#[async_trait::async_trait]
impl Connector for D3Security {
    fn connector_type(&self) -> &'static str {
        "d3security"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = build(&delivery.params, &delivery.account);
        herald_worker::attempt::attempt(http, &delivery.account, request, classify).await
    }
}

#[derive(Debug)]
pub struct D3Account {
    pub url: Url,
    pub token: Secret,
}

impl D3Account {
    pub fn parse(account: &Account) -> Result<D3Account, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["url"])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["token"])?;
        Ok(D3Account {
            url: base_url(&config, "url")?,
            token: Secret::new(secrets.required_str("token")?),
        })
    }
}
