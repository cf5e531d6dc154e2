//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{NoConfig, no_account_rules, no_params_rules, no_policy_rules};
use herald_catalog::typed::{NonEmpty, schema_of};
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, WorkerBinary};

pub type Config = NoConfig;

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Incoming webhook or Workflows URL
    #[schemars(extend("format" = "uri"))]
    pub webhook_url: Secret,
}

/// `params`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    /// The text; with adaptiveCard, the card's fallback text
    pub message: NonEmpty,
    /// Herald extension: an Adaptive Card (its content: type AdaptiveCard, version, body), sent in the message envelope Teams documents for incoming webhooks and Workflows
    pub adaptive_card: Option<Map<String, Value>>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "teams",
        name: "Microsoft Teams",
        worker: WorkerBinary::Chat,
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
