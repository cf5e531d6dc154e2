//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{
    PushOnly, PushToService, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, WorkerBinary};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri"))]
    pub api_url: String,
    #[schemars(length(min = 1))]
    pub app_id: String,
    // Kibana requires it, but its own preconfigured example leaves it
    // out; `all` is what the UI picks by default.
    #[schemars(extend("default" = "all"))]
    pub connector_type: Option<ConnectorType>,
    pub mappings: Mappings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    All,
    Alerts,
    Cases,
}

// Which application field each param goes to, by Kibana's `<param>Config`
// keys.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mappings {
    pub rule_name_config: Option<FieldMapping>,
    pub alert_id_config: Option<FieldMapping>,
    pub case_id_config: Option<FieldMapping>,
    pub case_name_config: Option<FieldMapping>,
    pub comments_config: Option<FieldMapping>,
    pub severity_config: Option<FieldMapping>,
    pub description_config: Option<FieldMapping>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FieldMapping {
    pub id: String,
    pub key: String,
    pub name: String,
    pub field_type: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub api_token: Secret,
}

/// `params`: Kibana's `subAction` envelope, with one operation.
pub type Params = PushOnly<Incident>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    pub alert_id: Option<String>,
    pub rule_name: Option<String>,
    pub case_id: Option<String>,
    pub case_name: Option<String>,
    pub severity: Option<String>,
    pub description: Option<String>,
    pub external_id: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "swimlane",
        name: "Swimlane",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[("pushToService", schema_of::<PushToService<Incident>>())]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
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
