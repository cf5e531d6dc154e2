//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{no_account_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Violations, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "torq",
        name: "Torq",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["webhookIntegrationUrl"],
            "additionalProperties": false,
            "properties": {"webhookIntegrationUrl": {"type": "string", "format": "uri"}},
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["token"],
            "additionalProperties": false,
            "properties": {"token": {"type": "string", "minLength": 1}},
        }),
        params_schema: json!({
            "type": "object",
            "required": ["body"],
            "additionalProperties": false,
            "properties": {"body": {"type": "string", "description": "JSON document to post"}},
        }),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("body", Escape::Json)]),
    }
}

/// Torq only takes JSON; a body that does not parse would fail every retry.
fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(body) = params.get("body").and_then(Value::as_str)
        && serde_json::from_str::<Value>(body).is_err()
    {
        out.push(join(prefix, "body"), "must be valid JSON");
    }
}
