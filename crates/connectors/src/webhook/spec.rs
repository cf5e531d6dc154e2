//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{no_params_rules, no_policy_rules};
use crate::webhook_auth::{Secrets, auth_rules, with_auth_config};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Escape, Extras, ParamEscape, Readers, WorkerBinary};

with_auth_config! {
    /// `config`: the call, then the auth block.
    pub struct Config {
        #[schemars(extend("format" = "uri"))]
        pub url: String,
        #[schemars(extend("default" = "post"))]
        pub method: Option<Method>,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Post,
    Put,
    Patch,
    Get,
    Delete,
}

/// `params`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Request body; not sent with get or delete
    pub body: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "webhook",
        name: "Webhook",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules: auth_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        // The body is usually a JSON document with `"{{x}}"` inside strings.
        param_escape: ParamEscape::Fields(&[("body", Escape::Json)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(
            |text| serde_json::json!({"body": serde_json::json!({"message": text}).to_string()}),
        ),
        extras: Extras {
            alert_params: Some(super::alert::params),
            ..Extras::default()
        },
    }
}
