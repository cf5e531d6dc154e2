//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{is_set, no_params_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "xmatters",
        name: "xMatters",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "configUrl": {"type": ["string", "null"], "format": "uri", "description": "Trigger URL, for basic auth"},
                "usesBasic": {"type": "boolean", "default": true},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "user": {"type": ["string", "null"]},
                "password": {"type": ["string", "null"]},
                "secretsUrl": {"type": ["string", "null"], "format": "uri", "description": "Trigger URL with its API key"},
            },
        }),
        params_schema: json!({
            "type": "object",
            "required": ["severity"],
            "additionalProperties": false,
            "properties": {
                "alertActionGroupName": {"type": "string"},
                "signalId": {"type": "string"},
                "ruleName": {"type": "string"},
                "date": {"type": "string"},
                "severity": {"type": "string", "description": "Sent as High when empty"},
                "spaceId": {"type": "string"},
                "tags": {"type": "string"},
            },
        }),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

/// Kibana's rules: the two ways to authenticate do not mix.
fn account_rules(config: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    let uses_basic = config
        .get("usesBasic")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if uses_basic {
        if !is_set(config, "configUrl") {
            out.push("config.configUrl", "required when usesBasic is true");
        }
        for field in ["user", "password"] {
            if !is_set(secrets, field) {
                out.push(join("secrets", field), "required when usesBasic is true");
            }
        }
        if is_set(secrets, "secretsUrl") {
            out.push(
                "secrets.secretsUrl",
                "must not be set when usesBasic is true",
            );
        }
    } else {
        if !is_set(secrets, "secretsUrl") {
            out.push("secrets.secretsUrl", "required when usesBasic is false");
        }
        if is_set(config, "configUrl") {
            out.push(
                "config.configUrl",
                "must not be set when usesBasic is false",
            );
        }
        for field in ["user", "password"] {
            if is_set(secrets, field) {
                out.push(
                    join("secrets", field),
                    "must not be set when usesBasic is false",
                );
            }
        }
    }
}
