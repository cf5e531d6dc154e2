//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use url::Url;

use crate::rest::base_url;

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
