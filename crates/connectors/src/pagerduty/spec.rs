//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{is_set, no_account_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, Worker};

pub const DEFAULT_API_URL: &str = "https://events.pagerduty.com/v2/enqueue";

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "pagerduty",
        name: "PagerDuty",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "apiUrl": {"type": ["string", "null"], "format": "uri", "default": DEFAULT_API_URL},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["routingKey"],
            "additionalProperties": false,
            "properties": {
                "routingKey": {"type": "string", "minLength": 1, "description": "Events API v2 integration key"},
            },
        }),
        params_schema: params_schema(),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

fn params_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "eventAction": {"type": "string", "enum": ["trigger", "resolve", "acknowledge"], "default": "trigger"},
            "dedupKey": {"type": "string", "maxLength": 255},
            "summary": {"type": "string", "maxLength": 1024},
            "source": {"type": "string"},
            "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
            "timestamp": {"type": "string", "format": "date-time"},
            "component": {"type": "string"},
            "group": {"type": "string"},
            "class": {"type": "string"},
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["href", "text"],
                    "additionalProperties": false,
                    "properties": {"href": {"type": "string"}, "text": {"type": "string"}},
                },
            },
            "customDetails": {
                "type": ["object", "string"],
                "description": "Object, or a string holding a JSON object",
            },
            "images": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["src"],
                    "additionalProperties": false,
                    "properties": {
                        // Shown by PagerDuty, never fetched by us.
                        "src": {"type": "string", "format": "uri", "x-policy": "manual"},
                        "href": {"type": "string", "format": "uri", "x-policy": "manual"},
                        "alt": {"type": "string"},
                    },
                },
            },
            "client": {"type": "string"},
            "clientUrl": {"type": "string", "format": "uri", "x-policy": "manual"},
        },
    })
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(action @ ("acknowledge" | "resolve")) =
        params.get("eventAction").and_then(Value::as_str)
        && !is_set(params, "dedupKey")
    {
        out.push(
            join(prefix, "dedupKey"),
            format!("required when eventAction is {action}"),
        );
    }
    if let Some(Value::String(details)) = params.get("customDetails")
        && !matches!(serde_json::from_str(details), Ok(Value::Object(_)))
    {
        out.push(
            join(prefix, "customDetails"),
            "must be an object or a string holding a JSON object",
        );
    }
}
