//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Value, json};

use crate::schema_parts::{no_account_rules, no_params_rules, no_policy_rules, sub_actions};
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "d3security",
        name: "D3 Security",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": {"url": {"type": "string", "format": "uri", "description": "D3 event API URL"}},
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["token"],
            "additionalProperties": false,
            "properties": {"token": {"type": "string", "minLength": 1}},
        }),
        params_schema: sub_actions(&[("run", run()), ("test", run())]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("subActionParams.body", Escape::Json)]),
    }
}

/// `run`'s body is a JSON document.
fn run() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "body": {"type": "string"},
            "severity": {"type": "string", "description": "high, medium, low or empty"},
            "eventType": {"type": "string"},
        },
    })
}
