//! `slack`: a Slack incoming webhook. The webhook URL carries the credential,
//! so it is a secret; its host still goes through the policy.

use serde_json::json;

use super::{empty_object, no_account_rules, no_params_rules, no_policy_rules};
use crate::{ConnectorSpec, Worker};

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
                "message": {"type": "string", "minLength": 1, "description": "Slack mrkdwn text"},
            },
        }),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
    }
}
