//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use crate::delivery::fields::{Fields, Secret};

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
        Fields::config(&account.config).only(&[])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["webhookUrl"])?;
        let webhook_url = secrets.required_str("webhookUrl")?;
        secrets.url("webhookUrl", webhook_url)?;
        Ok(SlackSecrets {
            webhook_url: Secret::new(webhook_url),
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
        let fields = Fields::params(params);
        fields.only(&[
            "message",
            "blocks",
            "attachments",
            "channel",
            "username",
            "iconEmoji",
        ])?;
        let owned = |value: Option<&str>| value.filter(|text| !text.is_empty()).map(str::to_owned);
        Ok(SlackParams {
            message: fields.required_str("message")?.to_owned(),
            blocks: fields.array("blocks")?.cloned(),
            attachments: fields.array("attachments")?.cloned(),
            channel: owned(fields.str("channel")?),
            username: owned(fields.str("username")?),
            icon_emoji: owned(fields.str("iconEmoji")?),
        })
    }
}
