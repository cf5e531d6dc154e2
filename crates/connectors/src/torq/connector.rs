//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};
use url::Url;

use super::spec::{Config, Params, Secrets};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

pub struct Torq;

impl HttpConnector for Torq {
    fn connector_type(&self) -> &'static str {
        "torq"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

#[derive(Debug)]
pub struct TorqAccount {
    pub url: Url,
    pub token: Secret,
}

impl TorqAccount {
    pub fn parse(account: &Account) -> Result<TorqAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        if config.webhook_integration_url.is_empty() {
            return Err(config_fields.refuse("webhookIntegrationUrl", "must not be empty"));
        }
        let url = config_fields.url("webhookIntegrationUrl", &config.webhook_integration_url)?;
        if secrets.token.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("token", "must not be empty"));
        }
        Ok(TorqAccount {
            url,
            token: secrets.token,
        })
    }
}

/// `params.body`: a JSON document, as text.
pub fn parse_body(params: &Map<String, Value>) -> Result<Value, Outcome> {
    let typed: Params = typed::params(params)?;
    let fields = Fields::params(params);
    if typed.body.is_empty() {
        return Err(fields.refuse("body", "must not be empty"));
    }
    serde_json::from_str(&typed.body).map_err(|_| fields.refuse("body", "must be a JSON document"))
}
