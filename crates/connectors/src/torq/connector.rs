//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};
use url::Url;

use crate::rest::base_url;

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
        let config = Fields::config(&account.config);
        config.only(&["webhookIntegrationUrl"])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["token"])?;
        Ok(TorqAccount {
            url: base_url(&config, "webhookIntegrationUrl")?,
            token: Secret::new(secrets.required_str("token")?),
        })
    }
}

/// `params.body`: a JSON document, as text.
pub fn parse_body(params: &Map<String, Value>) -> Result<Value, Outcome> {
    let fields = Fields::params(params);
    fields.only(&["body"])?;
    crate::rest::json_text(&fields, "body")
}
