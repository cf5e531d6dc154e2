//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{NoConfig, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, WorkerBinary};

pub type Config = NoConfig;
pub type Secrets = NoConfig;

/// `params`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    pub message: String,
    #[serde(default)]
    #[schemars(extend("default" = "info"))]
    pub level: Level,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    #[default]
    Info,
    Warn,
    Error,
    Fatal,
}

/// The type id.
pub const ID: &str = "server-log";

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: ID,
        name: "Server log",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(|text| serde_json::json!({"message": text})),
        extras: Extras {
            alert_params: Some(super::alert::params),
            ..Extras::default()
        },
    }
}
