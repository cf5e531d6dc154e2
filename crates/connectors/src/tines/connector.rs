//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use url::Url;

use crate::rest::base_url;

pub use super::request::build;
pub use super::response::classify;

pub struct Tines;

#[async_trait::async_trait]
impl Connector for Tines {
    fn connector_type(&self) -> &'static str {
        "tines"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = build(&delivery.params, &delivery.account);
        crate::delivery::attempt::attempt(http, &delivery.account, request, classify).await
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
