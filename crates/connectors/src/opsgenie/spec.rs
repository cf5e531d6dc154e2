//! The type's schemas and rules: what the registry and ingest check.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

pub const DEFAULT_API_URL: &str = "https://api.opsgenie.com";

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// https://api.eu.opsgenie.com for the EU instance
    #[schemars(extend("format" = "uri", "default" = DEFAULT_API_URL))]
    pub api_url: Option<String>,
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
    CreateAlert(Box<CreateAlert>),
    CloseAlert(CloseAlert),
}

/// `createAlert`: the alert body, under Opsgenie's names (Kibana's are the
/// same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateAlert {
    // Opsgenie keeps 130 characters; the worker truncates, so the bound
    // here only stops absurd input.
    #[schemars(length(min = 1, max = 15000))]
    pub message: String,
    /// Deduplication key; over 512 characters it is hashed
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15000))]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub responders: Option<Vec<Target<ResponderType>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50))]
    pub visible_to: Option<Vec<Target<VisibleToType>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10), inner(length(max = 50)))]
    pub actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 50)))]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub entity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 25000))]
    pub note: Option<String>,
}

// A responder or visibility target: a `type` and exactly one of `name`,
// `id`, `username` (checked in the rules; the subset has no `oneOf`
// without a discriminator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target<T> {
    #[serde(rename = "type")]
    pub kind: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponderType {
    Team,
    User,
    Escalation,
    Schedule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VisibleToType {
    Team,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
    P5,
}

/// `closeAlert`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloseAlert {
    #[schemars(length(min = 1))]
    pub alias: String,
    #[schemars(length(max = 100))]
    pub user: Option<String>,
    #[schemars(length(max = 100))]
    pub source: Option<String>,
    #[schemars(length(max = 25000))]
    pub note: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "opsgenie",
        name: "Opsgenie",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("createAlert", schema_of::<CreateAlert>()),
            ("closeAlert", schema_of::<CloseAlert>()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(
            |text| serde_json::json!({"subAction": "createAlert", "subActionParams": {"message": text}}),
        ),
        extras: Extras {
            alert_params: Some(super::alert::params),
            // Opsgenie deduplicates and closes by the alias, which is the
            // alert key: no handle is needed.
            follow_up: None,
            ..Extras::default()
        },
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(("closeAlert", close)) = sub_action(params)
        && let Some("." | "..") = close.get("alias").and_then(Value::as_str)
    {
        // A segment of the close URL's path: it would walk up the path.
        out.push(join(prefix, "subActionParams.alias"), "must not be . or ..");
    }
    let Some(("createAlert", alert)) = sub_action(params) else {
        return;
    };
    if let Some(message) = alert.get("message").and_then(Value::as_str)
        && !message.is_empty()
        && message.trim().is_empty()
    {
        out.push(join(prefix, "subActionParams.message"), "must not be blank");
    }
    for field in ["responders", "visibleTo"] {
        let targets = alert.get(field).and_then(Value::as_array);
        for (index, target) in targets.into_iter().flatten().enumerate() {
            let Some(target) = target.as_object() else {
                continue;
            };
            let path = join(prefix, &format!("subActionParams.{field}[{index}]"));
            check_target(field, target, &path, out);
        }
    }
}

fn check_target(field: &str, target: &Map<String, Value>, path: &str, out: &mut Violations) {
    let given: Vec<&str> = ["name", "id", "username"]
        .into_iter()
        .filter(|key| target.contains_key(*key))
        .collect();
    if given.len() != 1 {
        out.push(path, "needs exactly one of name, id or username");
        return;
    }
    let kind = target
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Opsgenie's shapes: responders by name or id of any type, or username
    // of a user; visibility by team name or id, or user id or username.
    let allowed = match (field, given[0]) {
        ("responders", "username") | ("visibleTo", "username") => kind == "user",
        ("visibleTo", "name") => kind == "team",
        _ => true,
    };
    if !allowed {
        out.push(
            join(path, given[0]),
            format!("cannot be used with type {kind}"),
        );
    }
}
