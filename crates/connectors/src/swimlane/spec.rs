//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Value, json};

use crate::schema_parts::{
    comments, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Worker};

const MAPPINGS: &[&str] = &[
    "ruleNameConfig",
    "alertIdConfig",
    "caseIdConfig",
    "caseNameConfig",
    "commentsConfig",
    "severityConfig",
    "descriptionConfig",
];

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "swimlane",
        name: "Swimlane",
        worker: Worker::Incident,
        config_schema: config_schema(),
        secrets_schema: json!({
            "type": "object",
            "required": ["apiToken"],
            "additionalProperties": false,
            "properties": {"apiToken": {"type": "string", "minLength": 1}},
        }),
        params_schema: sub_actions(&[("pushToService", push_to_service())]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

fn config_schema() -> Value {
    let field = json!({
        "type": ["object", "null"],
        "required": ["id", "key", "name", "fieldType"],
        "additionalProperties": false,
        "properties": {
            "id": {"type": "string"},
            "key": {"type": "string"},
            "name": {"type": "string"},
            "fieldType": {"type": "string"},
        },
    });
    let mappings: serde_json::Map<String, Value> = MAPPINGS
        .iter()
        .map(|name| (name.to_string(), field.clone()))
        .collect();
    json!({
        "type": "object",
        "required": ["apiUrl", "appId", "mappings"],
        "additionalProperties": false,
        "properties": {
            "apiUrl": {"type": "string", "format": "uri"},
            "appId": {"type": "string", "minLength": 1},
            // Kibana requires it, but its own preconfigured example leaves
            // it out; `all` is what the UI picks by default.
            "connectorType": {"type": "string", "enum": ["all", "alerts", "cases"], "default": "all"},
            "mappings": {"type": "object", "additionalProperties": false, "properties": mappings},
        },
    })
}

fn push_to_service() -> Value {
    let mut incident = serde_json::Map::new();
    for field in [
        "alertId",
        "ruleName",
        "caseId",
        "caseName",
        "severity",
        "description",
        "externalId",
    ] {
        incident.insert(field.into(), json!({"type": ["string", "null"]}));
    }
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {"type": "object", "additionalProperties": false, "properties": incident},
            "comments": comments(),
        },
    })
}
