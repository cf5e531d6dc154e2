//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use super::spec::{Config, Params, Secrets};
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::typed;

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
        let _: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        Fields::secrets(&account.secrets).url("webhookUrl", secrets.webhook_url.expose())?;
        Ok(TeamsSecrets {
            webhook_url: secrets.webhook_url,
        })
    }
}

/// `params`, after templates were rendered at ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsParams {
    pub message: String,
    pub adaptive_card: Option<Map<String, Value>>,
}

impl TeamsParams {
    pub fn parse(params: &Map<String, Value>) -> Result<TeamsParams, Outcome> {
        let params: Params = typed::params(params)?;
        Ok(TeamsParams {
            message: params.message.into_string(),
            adaptive_card: params.adaptive_card,
        })
    }
}
