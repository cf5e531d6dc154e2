//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema_parts::{is_set, no_params_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Trigger URL, for basic auth
    #[schemars(extend("format" = "uri"))]
    pub config_url: Option<String>,
    #[schemars(extend("default" = true))]
    pub uses_basic: Option<bool>,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Trigger URL with its API key
    #[schemars(extend("format" = "uri"))]
    pub secrets_url: Option<Secret>,
}

/// `params`: Kibana's fields, sent under the same names.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_action_group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Sent as High when empty
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required)]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "xmatters",
        name: "xMatters",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            ..Extras::default()
        },
    }
}

/// Kibana's rules: the two ways to authenticate do not mix.
fn account_rules(config: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    let uses_basic = config
        .get("usesBasic")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if uses_basic {
        if !is_set(config, "configUrl") {
            out.push("config.configUrl", "required when usesBasic is true");
        }
        for field in ["user", "password"] {
            if !is_set(secrets, field) {
                out.push(join("secrets", field), "required when usesBasic is true");
            }
        }
        if is_set(secrets, "secretsUrl") {
            out.push(
                "secrets.secretsUrl",
                "must not be set when usesBasic is true",
            );
        }
    } else {
        if !is_set(secrets, "secretsUrl") {
            out.push("secrets.secretsUrl", "required when usesBasic is false");
        }
        if is_set(config, "configUrl") {
            out.push(
                "config.configUrl",
                "must not be set when usesBasic is false",
            );
        }
        for field in ["user", "password"] {
            if is_set(secrets, field) {
                out.push(
                    join("secrets", field),
                    "must not be set when usesBasic is false",
                );
            }
        }
    }
}
