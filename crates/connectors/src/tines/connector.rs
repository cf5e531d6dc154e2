//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use url::Url;

use crate::rest::base_url;

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
