//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{is_set, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::typed::{NonEmpty, schema_of};
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

/// Kibana only lets an action override the index into the alert history.
pub(crate) const ALERT_HISTORY_PREFIX: &str = "kibana-alert-history-";

pub const DEFAULT_URL: &str = "http://localhost:9200";

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub index: NonEmpty,
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub refresh: bool,
    /// Field set to the time of indexing
    pub execution_time_field: Option<String>,
    /// Elasticsearch URL
    #[schemars(extend("format" = "uri", "default" = DEFAULT_URL))]
    pub url: Option<String>,
}

/// `secrets`: an API key, or a user and password, or none.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Elasticsearch API key (base64 id:key)
    #[schemars(length(min = 1))]
    pub api_key: Option<Secret>,
    #[schemars(length(min = 1))]
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// `params`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    pub documents: Vec<Map<String, Value>>,
    /// Must start with kibana-alert-history-
    pub index_override: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "index",
        name: "Index",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(|text| serde_json::json!({"documents": [{"message": text}]})),
        extras: Extras::default(),
    }
}

fn account_rules(_: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    if is_set(secrets, "username") && !is_set(secrets, "password") {
        out.push("secrets.password", "required when username is set");
    }
    if is_set(secrets, "apiKey") && is_set(secrets, "username") {
        out.push(
            "secrets.apiKey",
            "cannot be combined with username and password",
        );
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(index) = params.get("indexOverride").and_then(Value::as_str)
        && !index.starts_with(ALERT_HISTORY_PREFIX)
    {
        out.push(
            join(prefix, "indexOverride"),
            format!("must start with {ALERT_HISTORY_PREFIX}"),
        );
    }
}
