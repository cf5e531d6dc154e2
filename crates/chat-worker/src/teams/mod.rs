//! `teams`: a Microsoft Teams incoming webhook or a Workflows (Power
//! Automate) URL, posted `{"text": message}` as Kibana does. The URL is the
//! credential.

mod request;
mod response;
#[cfg(test)]
mod tests;

use herald_worker::http::Outbound;
use herald_worker::{Account, Connector, Delivery, Outcome};
use serde_json::{Map, Value};

use herald_worker::fields::{Fields, Secret};

pub use request::build;
pub use response::classify;

pub struct Teams;

#[async_trait::async_trait]
impl Connector for Teams {
    fn connector_type(&self) -> &'static str {
        "teams"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = build(&delivery.params, &delivery.account);
        herald_worker::attempt::attempt(http, &delivery.account, request, classify).await
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
