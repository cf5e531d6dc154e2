//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{no_account_rules, no_params_rules, no_policy_rules, sub_actions};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, WorkerBinary};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// D3 event API URL
    #[schemars(extend("format" = "uri"))]
    pub url: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub token: Secret,
}

/// `params`: Kibana's `subAction` envelope; `run` and `test` take the same
/// parameters, none of them required, so `subActionParams` may be left
/// out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    pub sub_action: SubAction,
    pub sub_action_params: Option<Run>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubAction {
    Run,
    Test,
}

/// `run`'s body is a JSON document.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Run {
    pub body: Option<String>,
    /// high, medium, low or empty
    pub severity: Option<String>,
    pub event_type: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "d3security",
        name: "D3 Security",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[("run", schema_of::<Run>()), ("test", schema_of::<Run>())]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("subActionParams.body", Escape::Json)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            ..Extras::default()
        },
    }
}
