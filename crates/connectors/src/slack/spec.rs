//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{NoConfig, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::signals::{SignalsAccount, SignalsField};
use herald_catalog::typed::{NonEmpty, schema_of};
use herald_catalog::{
    ConnectorSpec, DefaultRateLimit, Escape, Extras, ParamEscape, Readers, Secret, WorkerBinary,
};

pub type Config = NoConfig;

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Incoming webhook URL, https://hooks.slack.com/services/...
    #[schemars(extend("format" = "uri"))]
    pub webhook_url: Secret,
}

/// `params`. Beyond `message`, what a Search Guard Signals slack action
/// adds (SlackActionConf), sent under Slack's own body names.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// Slack mrkdwn text; with blocks, the notification's fallback text
    pub message: NonEmpty,
    /// Block Kit blocks
    #[schemars(length(max = 50))]
    pub blocks: Option<Vec<Map<String, Value>>>,
    /// Legacy secondary attachments
    #[schemars(length(max = 100))]
    pub attachments: Option<Vec<Map<String, Value>>>,
    /// Channel override (#name or id); legacy webhooks only, Slack-app webhooks ignore it
    #[schemars(length(min = 1))]
    pub channel: Option<String>,
    /// Sender name override (Signals' `from`); legacy webhooks only
    #[schemars(length(min = 1))]
    pub username: Option<String>,
    /// Sender icon override, e.g. :rotating_light:, sent as icon_emoji; legacy webhooks only
    #[schemars(extend("pattern" = "^:[^:\\s]+:$", "examples" = [":rotating_light:"]))]
    pub icon_emoji: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "slack",
        name: "Slack",
        worker: WorkerBinary::Chat,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("message", Escape::Slack)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(|text| serde_json::json!({"message": text})),
        extras: Extras {
            signals: Some(&SIGNALS),
            alert_params: Some(super::alert::params),
            // Slack documents about one message per second per incoming
            // webhook, with short bursts allowed.
            default_rate_limit: Some(DefaultRateLimit {
                per_second: 1.0,
                burst: 5,
            }),
            ..Extras::default()
        },
    }
}

/// A Signals Slack account: its webhook URL.
static SIGNALS: SignalsAccount = SignalsAccount {
    fields: &[("url", SignalsField::Secret("webhookUrl"))],
    required: &[("webhookUrl", "url is not set")],
    finish: None,
};
