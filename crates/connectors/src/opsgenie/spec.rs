//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "opsgenie",
        name: "Opsgenie",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "apiUrl": {
                    "type": "string",
                    "format": "uri",
                    "default": "https://api.opsgenie.com",
                    "description": "https://api.eu.opsgenie.com for the EU instance",
                },
            },
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["apiKey"],
            "additionalProperties": false,
            "properties": {"apiKey": {"type": "string", "minLength": 1}},
        }),
        params_schema: sub_actions(&[
            ("createAlert", create_alert()),
            ("closeAlert", close_alert()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}

fn short_strings(max_items: u64, max_length: u64) -> Value {
    json!({"type": "array", "maxItems": max_items, "items": {"type": "string", "maxLength": max_length}})
}

/// A responder or visibility target: a `type` and exactly one of `name`,
/// `id`, `username` (checked in the rules; the subset has no `oneOf`
/// without a discriminator).
fn target(types: &[&str]) -> Value {
    json!({
        "type": "object",
        "required": ["type"],
        "additionalProperties": false,
        "properties": {
            "type": {"type": "string", "enum": types},
            "name": {"type": "string"},
            "id": {"type": "string"},
            "username": {"type": "string"},
        },
    })
}

fn create_alert() -> Value {
    json!({
        "type": "object",
        "required": ["message"],
        "additionalProperties": false,
        "properties": {
            // Opsgenie keeps 130 characters; the worker truncates, so the
            // bound here only stops absurd input.
            "message": {"type": "string", "minLength": 1, "maxLength": 15000},
            "alias": {"type": "string", "description": "Deduplication key; over 512 characters it is hashed"},
            "description": {"type": "string", "maxLength": 15000},
            "responders": {
                "type": "array",
                "maxItems": 50,
                "items": target(&["team", "user", "escalation", "schedule"]),
            },
            "visibleTo": {"type": "array", "maxItems": 50, "items": target(&["team", "user"])},
            "actions": short_strings(10, 50),
            "tags": short_strings(20, 50),
            "details": {"type": "object", "additionalProperties": {"type": "string"}},
            "entity": {"type": "string", "maxLength": 512},
            "source": {"type": "string", "maxLength": 100},
            "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4", "P5"]},
            "user": {"type": "string", "maxLength": 100},
            "note": {"type": "string", "maxLength": 25000},
        },
    })
}

fn close_alert() -> Value {
    json!({
        "type": "object",
        "required": ["alias"],
        "additionalProperties": false,
        "properties": {
            "alias": {"type": "string", "minLength": 1},
            "user": {"type": "string", "maxLength": 100},
            "source": {"type": "string", "maxLength": 100},
            "note": {"type": "string", "maxLength": 25000},
        },
    })
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(("closeAlert", close)) = sub_action(params)
        && let Some("." | "..") = close.get("alias").and_then(Value::as_str)
    {
        // A segment of the close URL's path: it would walk up the path.
        out.push(join(prefix, "subActionParams.alias"), "must not be . or ..");
    }
    let Some(("createAlert", alert)) = sub_action(params) else {
        return;
    };
    if let Some(message) = alert.get("message").and_then(Value::as_str)
        && !message.is_empty()
        && message.trim().is_empty()
    {
        out.push(join(prefix, "subActionParams.message"), "must not be blank");
    }
    for field in ["responders", "visibleTo"] {
        let targets = alert.get(field).and_then(Value::as_array);
        for (index, target) in targets.into_iter().flatten().enumerate() {
            let Some(target) = target.as_object() else {
                continue;
            };
            let path = join(prefix, &format!("subActionParams.{field}[{index}]"));
            check_target(field, target, &path, out);
        }
    }
}

fn check_target(field: &str, target: &Map<String, Value>, path: &str, out: &mut Violations) {
    let given: Vec<&str> = ["name", "id", "username"]
        .into_iter()
        .filter(|key| target.contains_key(*key))
        .collect();
    if given.len() != 1 {
        out.push(path, "needs exactly one of name, id or username");
        return;
    }
    let kind = target
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Opsgenie's shapes: responders by name or id of any type, or username
    // of a user; visibility by team name or id, or user id or username.
    let allowed = match (field, given[0]) {
        ("responders", "username") | ("visibleTo", "username") => kind == "user",
        ("visibleTo", "name") => kind == "team",
        _ => true,
    };
    if !allowed {
        out.push(
            join(path, given[0]),
            format!("cannot be used with type {kind}"),
        );
    }
}
