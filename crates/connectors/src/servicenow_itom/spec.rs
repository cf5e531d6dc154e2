//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Value, json};

use crate::schema_parts::{no_params_rules, no_policy_rules, sub_actions};
use crate::servicenow::spec::{account_rules, config_schema, get_choices, secrets_schema};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, WorkerBinary};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "servicenow-itom",
        name: "ServiceNow ITOM",
        worker: WorkerBinary::Incident,
        config_schema: config_schema(false),
        secrets_schema: secrets_schema(),
        params_schema: sub_actions(&[("addEvent", add_event()), ("getChoices", get_choices())]),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: None,
    }
}

fn add_event() -> Value {
    let mut properties = serde_json::Map::new();
    for field in [
        "source",
        "event_class",
        "resource",
        "node",
        "metric_name",
        "type",
        "severity",
        "description",
        "additional_info",
        "time_of_event",
    ] {
        properties.insert(field.into(), json!({"type": ["string", "null"]}));
    }
    properties.insert(
        "message_key".into(),
        json!({"type": ["string", "null"], "default": "{{rule.id}}:{{alert.id}}"}),
    );
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}
