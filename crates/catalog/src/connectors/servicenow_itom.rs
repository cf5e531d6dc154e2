//! `servicenow-itom`: ServiceNow Event Management events
//! (`POST /api/global/em/jsonv2`). Same account as `servicenow`, without
//! `usesTableApi`.

use serde_json::{Value, json};

use super::servicenow::{account_rules, config_schema, get_choices, secrets_schema};
use super::{no_params_rules, no_policy_rules, sub_actions};
use crate::{ConnectorSpec, Worker, no_escape};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "servicenow-itom",
        name: "ServiceNow ITOM",
        worker: Worker::Incident,
        config_schema: config_schema(false),
        secrets_schema: secrets_schema(),
        params_schema: sub_actions(&[("addEvent", add_event()), ("getChoices", get_choices())]),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: no_escape,
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
