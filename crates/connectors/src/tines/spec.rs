//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Violations, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "tines",
        name: "Tines",
        worker: Worker::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": {"url": {"type": "string", "format": "uri", "description": "Tenant URL"}},
        }),
        secrets_schema: json!({
            "type": "object",
            "required": ["email", "token"],
            "additionalProperties": false,
            "properties": {
                "email": {"type": "string", "minLength": 1},
                "token": {"type": "string", "minLength": 1},
            },
        }),
        params_schema: sub_actions(&[
            ("stories", json!({"type": ["object", "null"]})),
            (
                "webhooks",
                json!({
                    "type": "object",
                    "required": ["storyId"],
                    "additionalProperties": false,
                    "properties": {"storyId": {"type": ["integer", "string"]}},
                }),
            ),
            ("run", run()),
            ("test", run()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("subActionParams.body", Escape::Json)]),
    }
}

/// The story webhook's body is a JSON document. (Kibana's `run` replaces it
/// with the JSON of every variable; Herald sends the body the user wrote.)
fn run() -> Value {
    json!({
        "type": "object",
        "required": ["body"],
        "additionalProperties": false,
        "properties": {
            "webhook": {
                "type": "object",
                "required": ["id", "name", "storyId"],
                "properties": {
                    "id": {"type": ["integer", "string"]},
                    "name": {"type": "string"},
                    "storyId": {"type": ["integer", "string"]},
                    "path": {"type": "string"},
                    "secret": {"type": "string"},
                },
            },
            // From the producer: the worker posts to it only on the
            // account's host (config.url, which the policy checked on
            // save), so a path is enough and a URL elsewhere is refused.
            "webhookUrl": {
                "type": "string",
                "minLength": 1,
                "description": "The story webhook on the tenant: /webhook/<path>/<secret>, or that URL on config.url's host",
            },
            "body": {"type": "string", "description": "JSON document to post"},
        },
    })
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(("run" | "test", run)) = sub_action(params)
        && !run.contains_key("webhook")
        && !run.contains_key("webhookUrl")
    {
        out.push(
            join(prefix, "subActionParams.webhookUrl"),
            "required when webhook is absent",
        );
    }
}
