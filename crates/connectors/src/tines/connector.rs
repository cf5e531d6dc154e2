//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use url::Url;

use super::spec::{Config, Secrets};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

pub struct Tines;

impl HttpConnector for Tines {
    fn connector_type(&self) -> &'static str {
        "tines"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
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
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        if config.url.is_empty() {
            return Err(config_fields.refuse("url", "must not be empty"));
        }
        let url = config_fields.url("url", &config.url)?;
        let secret_fields = Fields::secrets(&account.secrets);
        if secrets.email.is_empty() {
            return Err(secret_fields.refuse("email", "must not be empty"));
        }
        if secrets.token.expose().is_empty() {
            return Err(secret_fields.refuse("token", "must not be empty"));
        }
        Ok(TinesAccount {
            url,
            email: secrets.email,
            token: secrets.token,
        })
    }
}
