//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{
    check_field_map, comments, field_map, no_account_rules, no_policy_rules, sub_action,
    sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, WorkerBinary};

/// Kibana's cap on `otherFields`.
const MAX_OTHER_FIELDS: usize = 20;
const INCIDENT_FIELDS: &[&str] = &[
    "summary",
    "description",
    "externalId",
    "issueType",
    "priority",
    "labels",
    "parent",
    "otherFields",
];

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "jira",
        name: "Jira",
        worker: WorkerBinary::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["apiUrl", "projectKey"],
            "additionalProperties": false,
            "properties": {
                "apiUrl": {"type": "string", "format": "uri", "description": "Jira base URL, https://<site>.atlassian.net"},
                "projectKey": {"type": "string", "minLength": 1},
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["email", "apiToken"],
            "additionalProperties": false,
            "properties": {
                "email": {"type": "string", "minLength": 1, "description": "Login e-mail of the API token's user"},
                "apiToken": {"type": "string", "minLength": 1},
            },
        }),
        params_schema: params_schema(),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: None,
    }
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn params_schema() -> Value {
    let push = json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "required": ["summary"],
                "additionalProperties": false,
                "properties": {
                    "summary": {"type": "string"},
                    "description": nullable_string(),
                    "externalId": {"type": ["string", "null"], "description": "Issue id to update instead of creating one"},
                    "issueType": {"type": ["string", "null"], "description": "Issue type id"},
                    "priority": {"type": ["string", "null"], "description": "Priority name"},
                    "labels": {"type": ["array", "null"], "items": {"type": "string"}},
                    "parent": {"type": ["string", "null"], "description": "Parent issue key, for sub-tasks"},
                    "otherFields": field_map("Further issue fields, by field id"),
                },
            },
            "comments": comments(),
        },
    });
    // Kibana's other sub-actions (getIncident, issueTypes, ...) only read
    // Jira for its UI; an alert delivers nothing with them, so they are
    // refused here rather than accepted and then failed by the worker.
    sub_actions(&[("pushToService", push)])
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some(("pushToService", push)) = sub_action(params) else {
        return;
    };
    let Some(incident) = push.get("incident").and_then(Value::as_object) else {
        return;
    };
    let labels = incident.get("labels").and_then(Value::as_array);
    for (index, label) in labels.into_iter().flatten().enumerate() {
        if label
            .as_str()
            .is_some_and(|label| label.contains(char::is_whitespace))
        {
            let path = join(prefix, &format!("subActionParams.incident.labels[{index}]"));
            out.push(path, "must not contain spaces");
        }
    }
    check_field_map(
        incident.get("otherFields"),
        &join(prefix, "subActionParams.incident.otherFields"),
        MAX_OTHER_FIELDS,
        INCIDENT_FIELDS,
        out,
    );
}
