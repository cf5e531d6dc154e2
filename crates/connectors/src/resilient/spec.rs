//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{
    PushToService, check_field_map, no_account_rules, no_policy_rules, sub_action, sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

/// Kibana's cap on `additionalFields`.
const MAX_ADDITIONAL_FIELDS: usize = 50;
const INCIDENT_FIELDS: &[&str] = &[
    "name",
    "description",
    "externalId",
    "incidentTypes",
    "severityCode",
    "additionalFields",
];

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri"))]
    pub api_url: String,
    #[schemars(length(min = 1))]
    pub org_id: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub api_key_id: String,
    #[schemars(length(min = 1))]
    pub api_key_secret: Secret,
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
    GetIncident(GetIncident),
    Handshake(Option<NoParams>),
    GetFields(Option<NoParams>),
    IncidentTypes(Option<NoParams>),
    Severity(Option<NoParams>),
}

/// The params of an operation that takes none.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("properties" = {}))]
pub struct NoParams {}

/// `getIncident`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetIncident {
    pub external_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    pub name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub incident_types: Option<Vec<NumericId>>,
    #[schemars(extend("type" = ["integer", "string", "null"]))]
    pub severity_code: Option<NumericId>,
    /// Further incident fields, by API name
    #[schemars(extend("type" = ["object", "string", "null"]))]
    pub additional_fields: Option<Value>,
}

/// An id given as a number or as digits; which it is, the worker checks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct NumericId(pub Value);

impl JsonSchema for NumericId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NumericId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["integer", "string"]})
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "resilient",
        name: "IBM Resilient",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("pushToService", schema_of::<PushToService<Incident>>()),
            ("getIncident", schema_of::<GetIncident>()),
            ("getFields", schema_of::<NoParams>()),
            ("handshake", schema_of::<NoParams>()),
            ("incidentTypes", schema_of::<NoParams>()),
            ("severity", schema_of::<NoParams>()),
        ]),
        account_rules: no_account_rules,
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

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some(("pushToService", push)) = sub_action(params) else {
        return;
    };
    let Some(incident) = push.get("incident").and_then(Value::as_object) else {
        return;
    };
    check_field_map(
        incident.get("additionalFields"),
        &join(prefix, "subActionParams.incident.additionalFields"),
        MAX_ADDITIONAL_FIELDS,
        INCIDENT_FIELDS,
        out,
    );
}
