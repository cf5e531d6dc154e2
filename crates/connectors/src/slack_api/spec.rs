//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Violations, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "slack_api",
        name: "Slack API",
        worker: Worker::Chat,
        config_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "apiUrl": {"type": "string", "format": "uri", "default": "https://slack.com/api"},
                "allowedChannels": {
                    "type": "array",
                    "maxItems": 500,
                    "description": "When set, messages may only go to these channels",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": false,
                        "properties": {
                            "id": {"type": "string", "minLength": 1},
                            "name": {"type": "string", "minLength": 1},
                        },
                    },
                },
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["token"],
            "additionalProperties": false,
            "properties": {
                "token": {"type": "string", "minLength": 1, "description": "Bot user OAuth token, xoxb-..."},
            },
        }),
        params_schema: sub_actions(&[
            (
                "validChannelId",
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"channelId": {"type": "string"}},
                }),
            ),
            (
                "postMessage",
                message(json!({"type": "string", "minLength": 1})),
            ),
            (
                "postBlockkit",
                message(
                    json!({"type": "string", "description": "JSON with a top-level \"blocks\" array"}),
                ),
            ),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::ByParams(param_escape),
    }
}

/// `text` is Slack mrkdwn for `postMessage` but a JSON document of blocks for
/// `postBlockkit`.
fn param_escape(params: &Map<String, Value>, path: &str) -> Escape {
    if path != "subActionParams.text" {
        return Escape::None;
    }
    match params.get("subAction").and_then(Value::as_str) {
        Some("postMessage") => Escape::Slack,
        Some("postBlockkit") => Escape::Json,
        _ => Escape::None,
    }
}

/// Only the first channel is used; `channels` is Kibana's deprecated name.
fn message(text: Value) -> Value {
    json!({
        "type": "object",
        "required": ["text"],
        "additionalProperties": false,
        "properties": {
            "channels": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
            "channelIds": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
            "channelNames": {"type": "array", "maxItems": 1, "items": {"type": "string", "pattern": "^#"}},
            "text": text,
        },
    })
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some((name, sub_params)) = sub_action(params) else {
        return;
    };
    if !matches!(name, "postMessage" | "postBlockkit") {
        return;
    }
    let has_channel = ["channels", "channelIds", "channelNames"]
        .iter()
        .any(|field| {
            sub_params
                .get(*field)
                .and_then(Value::as_array)
                .is_some_and(|channels| !channels.is_empty())
        });
    if !has_channel {
        out.push(
            join(prefix, "subActionParams.channelIds"),
            "required: give channelIds or channelNames",
        );
    }
    if name == "postBlockkit"
        && let Some(text) = sub_params.get("text").and_then(Value::as_str)
    {
        let blocks = serde_json::from_str::<Value>(text)
            .ok()
            .is_some_and(|body| body.get("blocks").is_some());
        if !blocks {
            out.push(
                join(prefix, "subActionParams.text"),
                "must be a JSON object with a \"blocks\" field",
            );
        }
    }
}
