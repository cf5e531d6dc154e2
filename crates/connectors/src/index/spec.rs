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
        extras: Extras {
            alert_params: Some(super::alert::params),
            params_from_event: Some(alert_history_params),
            ..Extras::default()
        },
    }
}

/// Kibana's alert history connector: an action without params to an
/// account whose index starts with `kibana-alert-history-` writes one
/// document in Kibana's alert history shape, built from the event (Herald's
/// `context` holds what Kibana's rule variables do). Fields the event does
/// not have are left out rather than written empty.
pub(crate) fn alert_history_params(
    config: &Map<String, Value>,
    vars: &Value,
) -> Option<Map<String, Value>> {
    let index = config.get("index").and_then(Value::as_str)?;
    if !index.starts_with(ALERT_HISTORY_PREFIX) {
        return None;
    }
    let context = vars.get("context").and_then(Value::as_object);
    let from_context = |path: &[&str]| -> Option<Value> {
        let mut value = context?.get(path[0])?;
        for key in &path[1..] {
            value = value.get(key)?;
        }
        (!value.is_null()).then(|| value.clone())
    };
    let mut document = Map::new();
    let put = |map: &mut Map<String, Value>, key: &str, value: Option<Value>| {
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
    };
    put(&mut document, "@timestamp", vars.get("date").cloned());
    put(&mut document, "message", from_context(&["message"]));
    put(
        &mut document,
        "tags",
        from_context(&["tags"]).or_else(|| from_context(&["rule", "tags"])),
    );
    document.insert("event".into(), serde_json::json!({"kind": "alert"}));
    let mut alert = Map::new();
    put(&mut alert, "actionGroup", from_context(&["actionGroup"]));
    put(
        &mut alert,
        "actionGroupName",
        from_context(&["actionGroupName"]),
    );
    put(&mut alert, "reason", from_context(&["reason"]));
    put(
        &mut alert,
        "id",
        from_context(&["alertId"]).or_else(|| from_context(&["alert", "id"])),
    );
    document.insert("kibana".into(), serde_json::json!({ "alert": alert }));
    if let Some(Value::Object(rule)) = from_context(&["rule"]) {
        let keep = ["id", "name", "type", "space", "category", "params"];
        let rule: Map<String, Value> = rule
            .into_iter()
            .filter(|(key, _)| keep.contains(&key.as_str()))
            .collect();
        document.insert("rule".into(), Value::Object(rule));
    }
    if let Some(context) = context {
        document.insert("context".into(), Value::Object(context.clone()));
    }
    let mut params = Map::new();
    params.insert(
        "documents".into(),
        Value::Array(vec![Value::Object(document)]),
    );
    Some(params)
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
