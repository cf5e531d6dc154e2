//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{no_account_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{
    ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, Violations, WorkerBinary,
};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri"))]
    pub webhook_integration_url: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub token: Secret,
}

/// `params`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// JSON document to post
    pub body: String,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "torq",
        name: "Torq",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("body", Escape::Json)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            ..Extras::default()
        },
    }
}

/// Torq only takes JSON; a body that does not parse would fail every retry.
fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(body) = params.get("body").and_then(Value::as_str)
        && serde_json::from_str::<Value>(body).is_err()
    {
        out.push(join(prefix, "body"), "must be valid JSON");
    }
}
