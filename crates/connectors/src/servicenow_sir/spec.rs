//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{empty_object, no_policy_rules, sub_actions};
use crate::servicenow::spec::{
    account_rules, config_schema, get_choices, get_incident, params_rules, push_to_service,
    secrets_schema,
};
use herald_catalog::{ConnectorSpec, NO_ESCAPE, WorkerBinary};

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "servicenow-sir",
        name: "ServiceNow SecOps",
        worker: WorkerBinary::Incident,
        config_schema: config_schema(true),
        secrets_schema: secrets_schema(),
        params_schema: sub_actions(&[
            ("pushToService", push_to_service(sir_fields())),
            ("getIncident", get_incident()),
            ("getFields", json!({"type": "object"})),
            ("handshake", empty_object()),
            ("getChoices", get_choices()),
        ]),
        account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: None,
    }
}

fn sir_fields() -> Map<String, Value> {
    // One observable or a list of them.
    let observables = json!({"type": ["string", "array", "null"], "items": {"type": "string"}});
    let mut fields: Map<String, Value> = ["dest_ip", "malware_hash", "malware_url", "source_ip"]
        .into_iter()
        .map(|field| (field.to_owned(), observables.clone()))
        .collect();
    fields.insert("priority".into(), json!({"type": ["string", "null"]}));
    fields
}
