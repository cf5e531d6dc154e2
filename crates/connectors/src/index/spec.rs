//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{is_set, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, Worker};

/// Kibana only lets an action override the index into the alert history.
const ALERT_HISTORY_PREFIX: &str = "kibana-alert-history-";

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "index",
        name: "Index",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["index"],
            "additionalProperties": false,
            "properties": {
                "index": {"type": "string", "minLength": 1},
                "refresh": {"type": "boolean", "default": false},
                "executionTimeField": {"type": ["string", "null"], "description": "Field set to the time of indexing"},
                "url": {"type": "string", "format": "uri", "default": "http://localhost:9200", "description": "Elasticsearch URL"},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "apiKey": {"type": "string", "minLength": 1, "description": "Elasticsearch API key (base64 id:key)"},
                "username": {"type": "string", "minLength": 1},
                "password": {"type": "string"},
            },
        }),
        params_schema: json!({
            "type": "object",
            "required": ["documents"],
            "additionalProperties": false,
            "properties": {
                "documents": {"type": "array", "items": {"type": "object"}},
                "indexOverride": {"type": ["string", "null"], "description": "Must start with kibana-alert-history-"},
            },
        }),
        account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

fn account_rules(_: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    if is_set(secrets, "username") && !is_set(secrets, "password") {
        out.push("secrets.password", "required when username is set");
    }
    if is_set(secrets, "apiKey") && is_set(secrets, "username") {
        out.push(
            "secrets.apiKey",
            "cannot be combined with username and password",
        );
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(index) = params.get("indexOverride").and_then(Value::as_str)
        && !index.starts_with(ALERT_HISTORY_PREFIX)
    {
        out.push(
            join(prefix, "indexOverride"),
            format!("must start with {ALERT_HISTORY_PREFIX}"),
        );
    }
}
