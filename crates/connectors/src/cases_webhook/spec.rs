//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{comments, is_set, no_params_rules, no_policy_rules, sub_actions};
use crate::webhook::spec::{auth_properties, auth_rules, headers, secrets_schema};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, WorkerBinary};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "cases-webhook",
        name: "Webhook - Case Management",
        worker: WorkerBinary::Incident,
        config_schema: config_schema(),
        secrets_schema: secrets_schema(),
        params_schema: sub_actions(&[("pushToService", push_to_service())]),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: None,
    }
}

/// A URL template: Mustache variables such as `{{{external.system.id}}}`
/// are allowed in the path and query.
fn url(description: &str) -> Value {
    json!({"type": "string", "format": "uri", "description": description})
}

fn methods(methods: &[&str], default: &str) -> Value {
    json!({"type": "string", "enum": methods, "default": default})
}

fn config_schema() -> Value {
    let mut properties = json!({
        "createIncidentUrl": url("Create a case"),
        "createIncidentMethod": methods(&["post", "put"], "post"),
        "createIncidentJson": {"type": "string", "description": "JSON template; {{{case.title}}}, {{{case.description}}}, {{{case.tags}}}"},
        // Kibana requires it; its own preconfigured example leaves it out,
        // and `id` is what most systems answer with.
        "createIncidentResponseKey": {"type": "string", "default": "id", "description": "JSON path of the new case's id in the response"},
        "getIncidentUrl": url("Read a case; {{{external.system.id}}}"),
        "getIncidentMethod": methods(&["get", "post"], "get"),
        "getIncidentJson": {"type": ["string", "null"]},
        "getIncidentResponseExternalTitleKey": {"type": "string", "description": "JSON path of the case's title in the response"},
        "viewIncidentUrl": url("Link to a case; {{{external.system.id}}} or {{{external.system.title}}}"),
        "updateIncidentUrl": url("Update a case; {{{external.system.id}}}"),
        "updateIncidentMethod": methods(&["post", "patch", "put"], "put"),
        "updateIncidentJson": {"type": "string"},
        "createCommentUrl": {"type": ["string", "null"], "format": "uri"},
        "createCommentMethod": {"type": ["string", "null"], "enum": ["post", "put", "patch", null], "default": "put"},
        "createCommentJson": {"type": ["string", "null"], "description": "JSON template; {{{case.comment}}}"},
        "headers": headers(),
    });
    properties
        .as_object_mut()
        .expect("object literal")
        .extend(auth_properties());
    json!({
        "type": "object",
        "required": [
            "createIncidentUrl",
            "createIncidentJson",
            "getIncidentUrl",
            "getIncidentResponseExternalTitleKey",
            "viewIncidentUrl",
            "updateIncidentUrl",
            "updateIncidentJson",
        ],
        "additionalProperties": false,
        "properties": properties,
    })
}

fn account_rules(config: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    auth_rules(config, secrets, out);
    // Comments need both the URL and the body template.
    match (
        is_set(config, "createCommentUrl"),
        is_set(config, "createCommentJson"),
    ) {
        (true, false) => out.push(
            "config.createCommentJson",
            "required when createCommentUrl is set",
        ),
        (false, true) => out.push(
            "config.createCommentUrl",
            "required when createCommentJson is set",
        ),
        _ => {}
    }
}

fn push_to_service() -> Value {
    let nullable = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "required": ["title"],
                "additionalProperties": false,
                "properties": {
                    "title": {"type": "string"},
                    "description": nullable,
                    "id": nullable,
                    "severity": nullable,
                    "status": nullable,
                    "externalId": nullable,
                    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
                },
            },
            "comments": comments(),
        },
    })
}
