//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Number, Value, json};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{
    ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, Violations, WorkerBinary,
};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Tenant URL
    #[schemars(extend("format" = "uri"))]
    pub url: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub email: String,
    #[schemars(length(min = 1))]
    pub token: Secret,
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
    Run(Run),
    Test(Run),
    /// Takes anything, and nothing is read from it.
    Stories(Option<Map<String, Value>>),
    Webhooks(Webhooks),
}

/// `webhooks`: the story's webhooks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Webhooks {
    pub story_id: Id,
}

// The story webhook's body is a JSON document. (Kibana's `run` replaces it
// with the JSON of every variable; Herald sends the body the user wrote.)
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Run {
    pub webhook: Option<Webhook>,
    // From the producer: the worker posts to it only on the account's host
    // (config.url, which the policy checked on save), so a path is enough
    // and a URL elsewhere is refused.
    /// The story webhook on the tenant: /webhook/<path>/<secret>, or that URL on config.url's host
    #[schemars(length(min = 1))]
    pub webhook_url: Option<String>,
    /// JSON document to post
    pub body: String,
}

// A story webhook as Kibana's `webhooks` lists it; other fields are kept
// by Kibana and ignored here.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: Id,
    pub name: String,
    pub story_id: Id,
    pub path: Option<String>,
    pub secret: Option<String>,
}

/// An id JSON may carry as a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum Id {
    Number(Number),
    Text(String),
}

impl Id {
    /// As text; `""` is no id.
    pub fn text(&self) -> Option<String> {
        match self {
            Id::Number(number) => Some(number.to_string()),
            Id::Text(text) if text.is_empty() => None,
            Id::Text(text) => Some(text.clone()),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Id, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(number) => Ok(Id::Number(number)),
            Value::String(text) => Ok(Id::Text(text)),
            _ => Err(serde::de::Error::custom("must be a string or a number")),
        }
    }
}

impl JsonSchema for Id {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Id".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["integer", "string"]})
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "tines",
        name: "Tines",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("stories", json!({"type": ["object", "null"]})),
            ("webhooks", schema_of::<Webhooks>()),
            ("run", schema_of::<Run>()),
            ("test", schema_of::<Run>()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("subActionParams.body", Escape::Json)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        // No default rendering of an alert: a run posts to one story's
        // webhook (its path and secret), which neither the alert nor the
        // account names, so a route to Tines gives its params
        // (`{"subAction": "run", "subActionParams": {"webhookUrl": ...,
        // "body": "{{alert}}"}}`).
        extras: Extras::default(),
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(("run" | "test", run)) = sub_action(params)
        && !run.contains_key("webhook")
        && !run.contains_key("webhookUrl")
    {
        out.push(
            join(prefix, "subActionParams.webhookUrl"),
            "required when webhook is absent",
        );
    }
}
