//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use super::spec::{Config, Params, Secrets};
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

pub struct Slack;

impl HttpConnector for Slack {
    fn connector_type(&self) -> &'static str {
        "slack"
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
pub struct SlackSecrets {
    pub webhook_url: Secret,
}

impl SlackSecrets {
    pub fn parse(account: &Account) -> Result<SlackSecrets, Outcome> {
        let _: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        Fields::secrets(&account.secrets).url("webhookUrl", secrets.webhook_url.expose())?;
        Ok(SlackSecrets {
            webhook_url: secrets.webhook_url,
        })
    }
}

/// `params`, after templates were rendered at ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackParams {
    /// Slack mrkdwn; with blocks, the notification's fallback text.
    pub message: String,
    pub blocks: Option<Vec<Value>>,
    pub attachments: Option<Vec<Value>>,
    /// Overrides of a legacy webhook's channel, name and icon; Slack-app
    /// webhooks ignore them.
    pub channel: Option<String>,
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
}

impl SlackParams {
    pub fn parse(params: &Map<String, Value>) -> Result<SlackParams, Outcome> {
        let params: Params = typed::params(params)?;
        let given = |value: Option<String>| value.filter(|text| !text.is_empty());
        let objects = |items: Option<Vec<Map<String, Value>>>| {
            items.map(|items| items.into_iter().map(Value::Object).collect())
        };
        Ok(SlackParams {
            message: params.message.into_string(),
            blocks: objects(params.blocks),
            attachments: objects(params.attachments),
            channel: given(params.channel),
            username: given(params.username),
            icon_emoji: given(params.icon_emoji),
        })
    }
}
