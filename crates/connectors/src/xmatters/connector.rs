//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};

pub use super::request::build;
pub use super::response::classify;

pub struct XMatters;

impl HttpConnector for XMatters {
    fn connector_type(&self) -> &'static str {
        "xmatters"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

/// Where the trigger is and how it authenticates.
#[derive(Debug)]
pub enum XMattersAccount {
    Basic {
        url: String,
        user: String,
        password: Secret,
    },
    /// The URL holds the API key.
    UrlKey { url: Secret },
}

impl XMattersAccount {
    pub fn parse(account: &Account) -> Result<XMattersAccount, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["configUrl", "usesBasic"])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["user", "password", "secretsUrl"])?;
        if config.bool("usesBasic")?.unwrap_or(true) {
            let url = crate::rest::base_url(&config, "configUrl")?;
            return Ok(XMattersAccount::Basic {
                url: url.to_string(),
                user: secrets.required_str("user")?.to_owned(),
                password: Secret::new(secrets.required_str("password")?),
            });
        }
        let url = crate::rest::base_url(&secrets, "secretsUrl")?;
        Ok(XMattersAccount::UrlKey {
            url: Secret::new(url.to_string()),
        })
    }
}

/// Kibana's fields, sent under the same names.
pub const FIELDS: &[&str] = &[
    "alertActionGroupName",
    "signalId",
    "ruleName",
    "date",
    "severity",
    "spaceId",
    "tags",
];
