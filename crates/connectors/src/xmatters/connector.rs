//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};

use super::spec::{Config, Secrets};
use crate::delivery::typed;

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
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        let secret_fields = Fields::secrets(&account.secrets);
        if config.uses_basic.unwrap_or(true) {
            let url = config_fields.url(
                "configUrl",
                &required(config.config_url, &config_fields, "configUrl")?,
            )?;
            return Ok(XMattersAccount::Basic {
                url: url.to_string(),
                user: required(secrets.user, &secret_fields, "user")?,
                password: Secret::new(required(
                    secrets.password.map(|p| p.expose().to_owned()),
                    &secret_fields,
                    "password",
                )?),
            });
        }
        let url = required(
            secrets.secrets_url.map(|url| url.expose().to_owned()),
            &secret_fields,
            "secretsUrl",
        )?;
        let url = secret_fields.url("secretsUrl", &url)?;
        Ok(XMattersAccount::UrlKey {
            url: Secret::new(url.to_string()),
        })
    }
}

/// A field the account needs: absent, null and `""` are refused.
fn required(value: Option<String>, fields: &Fields<'_>, name: &str) -> Result<String, Outcome> {
    match value {
        None => Err(fields.refuse(name, "required")),
        Some(text) if text.is_empty() => Err(fields.refuse(name, "must not be empty")),
        Some(text) => Ok(text),
    }
}
