//! The type's schemas and rules: what the registry and ingest check.

use serde_json::json;

use crate::schema_parts::{empty_object, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "slack",
        name: "Slack",
        worker: Worker::Chat,
        config_schema: empty_object(),
        secrets_schema: json!({
            "type": "object",
            "required": ["webhookUrl"],
            "additionalProperties": false,
            "properties": {
                "webhookUrl": {
                    "type": "string",
                    "format": "uri",
                    "description": "Incoming webhook URL, https://hooks.slack.com/services/...",
                },
            },
        }),
        params_schema: json!({
            "type": "object",
            "required": ["message"],
            "additionalProperties": false,
            "properties": {
                "message": {"type": "string", "minLength": 1, "description": "Slack mrkdwn text; with blocks, the notification's fallback text"},
                // The rest is what a Search Guard Signals slack action adds
                // (SlackActionConf), sent under Slack's own body names.
                "blocks": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {"type": "object"},
                    "description": "Block Kit blocks",
                },
                "attachments": {
                    "type": "array",
                    "maxItems": 100,
                    "items": {"type": "object"},
                    "description": "Legacy secondary attachments",
                },
                "channel": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Channel override (#name or id); legacy webhooks only, Slack-app webhooks ignore it",
                },
                "username": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Sender name override (Signals' `from`); legacy webhooks only",
                },
                "iconEmoji": {
                    "type": "string",
                    "pattern": "^:[^:\\s]+:$",
                    "description": "Sender icon override, e.g. :rotating_light:, sent as icon_emoji; legacy webhooks only",
                },
            },
        }),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("message", Escape::Slack)]),
    }
}
