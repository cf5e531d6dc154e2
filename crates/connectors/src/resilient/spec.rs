//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{
    check_field_map, comments, empty_object, field_map, no_account_rules, no_policy_rules,
    sub_action, sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, Worker};

/// Kibana's cap on `additionalFields`.
const MAX_ADDITIONAL_FIELDS: usize = 50;
const INCIDENT_FIELDS: &[&str] = &[
    "name",
    "description",
    "externalId",
    "incidentTypes",
    "severityCode",
    "additionalFields",
];

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "resilient",
        name: "IBM Resilient",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["apiUrl", "orgId"],
            "additionalProperties": false,
            "properties": {
                "apiUrl": {"type": "string", "format": "uri"},
                "orgId": {"type": "string", "minLength": 1},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["apiKeyId", "apiKeySecret"],
            "additionalProperties": false,
            "properties": {
                "apiKeyId": {"type": "string", "minLength": 1},
                "apiKeySecret": {"type": "string", "minLength": 1},
            },
        }),
        params_schema: sub_actions(&[
            ("pushToService", push_to_service()),
            (
                "getIncident",
                json!({
                    "type": "object",
                    "required": ["externalId"],
                    "additionalProperties": false,
                    "properties": {"externalId": {"type": "string"}},
                }),
            ),
            ("getFields", empty_object()),
            ("handshake", empty_object()),
            ("incidentTypes", empty_object()),
            ("severity", empty_object()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

fn push_to_service() -> Value {
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": ["string", "null"]},
                    "externalId": {"type": ["string", "null"]},
                    "incidentTypes": {"type": ["array", "null"], "items": {"type": ["integer", "string"]}},
                    "severityCode": {"type": ["integer", "string", "null"]},
                    "additionalFields": field_map("Further incident fields, by API name"),
                },
            },
            "comments": comments(),
        },
    })
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some(("pushToService", push)) = sub_action(params) else {
        return;
    };
    let Some(incident) = push.get("incident").and_then(Value::as_object) else {
        return;
    };
    check_field_map(
        incident.get("additionalFields"),
        &join(prefix, "subActionParams.incident.additionalFields"),
        MAX_ADDITIONAL_FIELDS,
        INCIDENT_FIELDS,
        out,
    );
}
