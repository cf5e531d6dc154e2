//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use crate::delivery::fields::{Fields, Secret};

pub use super::request::build;
pub use super::response::classify;

pub struct Teams;

impl HttpConnector for Teams {
    fn connector_type(&self) -> &'static str {
        "teams"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

/// `secrets`; `config` is empty.
#[derive(Debug)]
pub struct TeamsSecrets {
    pub webhook_url: Secret,
}

impl TeamsSecrets {
    pub fn parse(account: &Account) -> Result<TeamsSecrets, Outcome> {
        Fields::config(&account.config).only(&[])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["webhookUrl"])?;
        let webhook_url = secrets.required_str("webhookUrl")?;
        secrets.url("webhookUrl", webhook_url)?;
        Ok(TeamsSecrets {
            webhook_url: Secret::new(webhook_url),
        })
    }
}

/// `params`, after templates were rendered at ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsParams {
    pub message: String,
}

impl TeamsParams {
    pub fn parse(params: &Map<String, Value>) -> Result<TeamsParams, Outcome> {
        let fields = Fields::params(params);
        fields.only(&["message"])?;
        Ok(TeamsParams {
            message: fields.required_str("message")?.to_owned(),
        })
    }
}
