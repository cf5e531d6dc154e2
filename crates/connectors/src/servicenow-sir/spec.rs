//! The type's schemas and rules: what the registry and ingest check.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::schema_parts::{PushToService, no_policy_rules, sub_actions};
use crate::servicenow::spec::{
    AnyObject, Column, Config, GetChoices, GetIncident, NoParams, Secrets, account_rules, incident,
    params_rules,
};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, WorkerBinary};

/// `params`: Kibana's `subAction` envelope; SIR has no `closeIncident`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum Params {
    PushToService(Box<PushToService<SirIncident>>),
    GetIncident(GetIncident),
    GetFields(Option<AnyObject>),
    Handshake(Option<NoParams>),
    GetChoices(GetChoices),
}

// A security incident: observables and a priority.
incident! {
    pub struct SirIncident {
        pub dest_ip: Option<Observables>,
        pub malware_hash: Option<Observables>,
        pub malware_url: Option<Observables>,
        pub source_ip: Option<Observables>,
        pub priority: Option<String>,
    }
}

/// One observable or a list of them, as SIR stores them: one
/// comma-separated list, each value once, in the order given. A string is
/// split on commas, spaces, pipes and line breaks, as Kibana splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observables(pub Vec<String>);

impl<'de> Deserialize<'de> for Observables {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Observables, D::Error> {
        let values: Vec<String> = match Value::deserialize(deserializer)? {
            Value::String(text) => text
                .split([',', ' ', '|', '\r', '\n', '\t'])
                .map(str::to_owned)
                .collect(),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Some(text),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(not_observables)?,
            _ => return Err(not_observables()),
        };
        let mut unique: Vec<String> = Vec::new();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            if !unique.contains(&value) {
                unique.push(value);
            }
        }
        Ok(Observables(unique))
    }
}

fn not_observables<E: serde::de::Error>() -> E {
    E::custom("must be a string or an array of strings")
}

impl JsonSchema for Observables {
    fn schema_name() -> Cow<'static, str> {
        "Observables".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "array"], "items": {"type": "string"}})
    }
}

impl Column for Option<Observables> {
    fn into_column(self) -> Option<Value> {
        self.filter(|observables| !observables.0.is_empty())
            .map(|observables| Value::String(observables.0.join(",")))
    }
}

/// The type id.
pub const ID: &str = "servicenow-sir";

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: ID,
        name: "ServiceNow SecOps",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("pushToService", schema_of::<PushToService<SirIncident>>()),
            ("getIncident", schema_of::<GetIncident>()),
            ("getFields", schema_of::<AnyObject>()),
            ("handshake", schema_of::<NoParams>()),
            ("getChoices", schema_of::<GetChoices>()),
        ]),
        account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            follow_up: Some(super::alert::follow_up),
            ..Extras::default()
        },
    }
}
