//! The type's schemas and rules: what the registry and ingest check.

use serde_json::json;

use crate::schema_parts::{empty_object, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "teams",
        name: "Microsoft Teams",
        worker: Worker::Chat,
        config_schema: empty_object(),
        secrets_schema: json!({
            "type": "object",
            "required": ["webhookUrl"],
            "additionalProperties": false,
            "properties": {
                "webhookUrl": {"type": "string", "format": "uri", "description": "Incoming webhook or Workflows URL"},
            },
        }),
        params_schema: json!({
            "type": "object",
            "required": ["message"],
            "additionalProperties": false,
            "properties": {
                "message": {"type": "string", "minLength": 1},
            },
        }),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}
