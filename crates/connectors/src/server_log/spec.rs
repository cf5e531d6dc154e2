//! The type's schemas and rules: what the registry and ingest check.

use serde_json::json;

use crate::schema_parts::{empty_object, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Worker};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "server-log",
        name: "Server log",
        worker: Worker::Incident,
        config_schema: empty_object(),
        secrets_schema: empty_object(),
        params_schema: json!({
            "type": "object",
            "required": ["message"],
            "additionalProperties": false,
            "properties": {
                "message": {"type": "string"},
                "level": {
                    "type": "string",
                    "enum": ["trace", "debug", "info", "warn", "error", "fatal"],
                    "default": "info",
                },
            },
        }),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
    }
}
