//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{
    comments, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "thehive",
        name: "TheHive",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": {
                "url": {"type": "string", "format": "uri"},
                "organisation": {"type": ["string", "null"]},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["apiKey"],
            "additionalProperties": false,
            "properties": {"apiKey": {"type": "string", "minLength": 1}},
        }),
        params_schema: sub_actions(&[
            ("pushToService", push_to_service()),
            ("createAlert", create_alert()),
        ]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::ByParams(param_escape),
    }
}

/// `createAlert`'s `body` holds the JSON of the alert's other fields; the
/// rest goes out as plain values (Kibana's `renderMustacheObject`).
fn param_escape(params: &Map<String, Value>, path: &str) -> Escape {
    let create_alert = params.get("subAction").and_then(Value::as_str) == Some("createAlert");
    if create_alert && path == "subActionParams.body" {
        Escape::Json
    } else {
        Escape::None
    }
}

/// 1 low, 2 medium, 3 high, 4 critical.
fn severity() -> Value {
    json!({"type": ["integer", "null"], "minimum": 1, "maximum": 4, "default": 2})
}

/// Traffic light protocol: 0 clear, 1 green, 2 amber, 3 amber+strict, 4 red.
fn tlp() -> Value {
    json!({"type": ["integer", "null"], "minimum": 0, "maximum": 4, "default": 2})
}

fn tags() -> Value {
    json!({"type": ["array", "null"], "items": {"type": "string"}})
}

fn push_to_service() -> Value {
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "required": ["title", "description"],
                "additionalProperties": false,
                "properties": {
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "externalId": {"type": ["string", "null"]},
                    "severity": severity(),
                    "tlp": tlp(),
                    "tags": tags(),
                },
            },
            "comments": comments(),
        },
    })
}

fn create_alert() -> Value {
    json!({
        "type": "object",
        "required": ["title", "description", "type", "source", "sourceRef"],
        "additionalProperties": false,
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string"},
            "source": {"type": "string"},
            "sourceRef": {"type": "string"},
            "severity": severity(),
            "isRuleSeverity": {"type": ["boolean", "null"], "default": false},
            "tlp": tlp(),
            "tags": tags(),
            "body": {"type": ["string", "null"], "description": "JSON of the alert's other fields"},
        },
    })
}
