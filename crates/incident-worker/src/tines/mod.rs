//! `tines`: runs a Tines story by posting the action's JSON body to the
//! story's webhook (`<url>/webhook/<path>/<secret>`, or a full
//! `webhookUrl`), and lists a tenant's stories and webhook actions with the
//! user's email and API token. The webhook's own secret authenticates a
//! run, so the API token is sent to the tenant's API only, never to a
//! webhook URL that may be elsewhere.

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

pub struct Tines;

#[async_trait::async_trait]
impl Connector for Tines {
    fn connector_type(&self) -> &'static str {
        "tines"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = build(&delivery.params, &delivery.account);
        herald_worker::attempt::attempt(http, &delivery.account, request, classify).await
    }
}

#[derive(Debug)]
pub struct TinesAccount {
    pub url: Url,
    pub email: String,
    pub token: Secret,
}

impl TinesAccount {
    pub fn parse(account: &Account) -> Result<TinesAccount, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["url"])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["email", "token"])?;
        Ok(TinesAccount {
            url: base_url(&config, "url")?,
            email: secrets.required_str("email")?.to_owned(),
            token: Secret::new(secrets.required_str("token")?),
        })
    }
}
