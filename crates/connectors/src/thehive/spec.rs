//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{
    PushToService, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, WorkerBinary};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri"))]
    pub url: String,
    pub organisation: Option<String>,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub api_key: Secret,
}

/// `params`: Kibana's `subAction` envelope.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum Params {
    PushToService(PushToService<Incident>),
    CreateAlert(CreateAlert),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    pub title: String,
    pub description: String,
    pub external_id: Option<String>,
    // 1 low, 2 medium, 3 high, 4 critical.
    #[schemars(range(min = 1, max = 4), extend("default" = 2))]
    pub severity: Option<Level>,
    // Traffic light protocol: 0 clear, 1 green, 2 amber, 3 amber+strict, 4 red.
    #[schemars(range(min = 0, max = 4), extend("default" = 2))]
    pub tlp: Option<Level>,
    pub tags: Option<Vec<String>>,
}

/// `createAlert`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateAlert {
    pub title: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    // 1 low, 2 medium, 3 high, 4 critical.
    #[schemars(range(min = 1, max = 4), extend("default" = 2))]
    pub severity: Option<Level>,
    #[schemars(extend("default" = false))]
    pub is_rule_severity: Option<bool>,
    // Traffic light protocol: 0 clear, 1 green, 2 amber, 3 amber+strict, 4 red.
    #[schemars(range(min = 0, max = 4), extend("default" = 2))]
    pub tlp: Option<Level>,
    pub tags: Option<Vec<String>>,
    /// JSON of the alert's other fields
    pub body: Option<String>,
}

/// A severity or TLP level: an integer, checked against its range by the
/// worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Level(pub i64);

impl JsonSchema for Level {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Level".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer"})
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "thehive",
        name: "TheHive",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("pushToService", schema_of::<PushToService<Incident>>()),
            ("createAlert", schema_of::<CreateAlert>()),
        ]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::ByParams(param_escape),
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

/// `createAlert`'s `body` holds the JSON of the alert's other fields; the
/// rest goes out as plain values (Kibana's `renderMustacheObject`).
fn param_escape(params: &Map<String, Value>, path: &str) -> Escape {
    let create_alert = params.get("subAction").and_then(Value::as_str) == Some("createAlert");
    if create_alert && path == "subActionParams.body" {
        Escape::Json
    } else {
        Escape::None
    }
}
