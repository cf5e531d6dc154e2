//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use url::Url;

use super::spec::{Config, Secrets};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

pub struct D3Security;

impl HttpConnector for D3Security {
    fn connector_type(&self) -> &'static str {
        "d3security"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

#[derive(Debug)]
pub struct D3Account {
    pub url: Url,
    pub token: Secret,
}

impl D3Account {
    pub fn parse(account: &Account) -> Result<D3Account, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        if config.url.is_empty() {
            return Err(config_fields.refuse("url", "must not be empty"));
        }
        let url = config_fields.url("url", &config.url)?;
        if secrets.token.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("token", "must not be empty"));
        }
        Ok(D3Account {
            url,
            token: secrets.token,
        })
    }
}
