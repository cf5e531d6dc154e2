//! The schema fragments and rule helpers several connectors' specs share
//! (incident comments, Kibana's `subAction` envelope, bounded numbers, chat
//! messages, "is this field set").

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use herald_catalog::schema::join;
use herald_catalog::{Policy, Violations};

pub(crate) fn no_account_rules(_: &Map<String, Value>, _: &Map<String, Value>, _: &mut Violations) {
}

pub(crate) fn no_params_rules(_: &Map<String, Value>, _: &str, _: &mut Violations) {}

pub(crate) fn no_action_rules(
    _: &Map<String, Value>,
    _: &Map<String, Value>,
    _: &str,
    _: &mut Violations,
) {
}

pub(crate) fn no_policy_rules(
    _: &Map<String, Value>,
    _: &Map<String, Value>,
    _: &Policy,
    _: &mut Violations,
) {
}

/// The `config` of a connector that takes none (`slack`, `teams`): an
/// object with no fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// A field counts as given when it is present, not null and not `""`, the
/// way Kibana's validators test `if (!secrets.user)`.
pub(crate) fn is_set(map: &Map<String, Value>, key: &str) -> bool {
    match map.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

pub(crate) fn is_true(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool) == Some(true)
}

/// Kibana's `subAction` / `subActionParams` envelope: one branch per
/// operation, discriminated by `subAction`. `subActionParams` may be left
/// out only when the operation takes no required parameter.
pub(crate) fn sub_actions(operations: &[(&str, Value)]) -> Value {
    let branches: Vec<Value> = operations
        .iter()
        .map(|(name, params)| {
            let takes_required = params
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|required| !required.is_empty());
            let required = if takes_required {
                json!(["subAction", "subActionParams"])
            } else {
                json!(["subAction"])
            };
            json!({
                "properties": {
                    "subAction": {"const": name},
                    "subActionParams": params,
                },
                "required": required,
                "additionalProperties": false,
            })
        })
        .collect();
    json!({"type": "object", "oneOf": branches})
}

/// The sub-action's name and its params, for params rules.
pub(crate) fn sub_action(params: &Map<String, Value>) -> Option<(&str, &Map<String, Value>)> {
    let name = params.get("subAction")?.as_str()?;
    let sub_params = params.get("subActionParams")?.as_object()?;
    Some((name, sub_params))
}

/// Kibana's `pushToService`: the incident `I` of the connector, and the
/// comments to add to it.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushToService<I> {
    pub incident: I,
    pub comments: Option<Vec<Comment>>,
}

/// The `params` of a connector whose only operation is `pushToService`.
#[derive(Debug, serde::Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum PushOnly<I> {
    PushToService(PushToService<I>),
}

/// One comment pushed with an incident (Jira, ServiceNow, Swimlane, ...).
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Comment {
    pub comment: String,
    pub comment_id: String,
}

/// Kibana's rules for field maps: at most `max` keys, none shadowing a
/// field the connector sets itself.
pub(crate) fn check_field_map(
    value: Option<&Value>,
    path: &str,
    max: usize,
    reserved: &[&str],
    out: &mut Violations,
) {
    let parsed;
    let map = match value {
        Some(Value::Object(map)) => map,
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => {
                parsed = map;
                &parsed
            }
            _ => {
                out.push(path, "must be an object or a string holding a JSON object");
                return;
            }
        },
        _ => return,
    };
    if map.len() > max {
        out.push(path, format!("must have at most {max} entries"));
    }
    for key in map.keys().filter(|key| reserved.contains(&key.as_str())) {
        out.push(
            join(path, key),
            "cannot be set here; use the field of the same name",
        );
    }
}

/// A whole number from `MIN` to `MAX`; anything else is refused as not
/// one, naming the bounds and not the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)?.as_u64() {
            Some(number) if (MIN..=MAX).contains(&number) => Ok(Bounded(number)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a whole number from {MIN} to {MAX}"
            ))),
        }
    }
}

impl<const MIN: u64, const MAX: u64> JsonSchema for Bounded<MIN, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Bounded_{MIN}_{MAX}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": MIN, "maximum": MAX})
    }
}

// One message of a model chat (`gen-ai` and `bedrock`'s `invokeAI`), sent
// to the vendor as it came. (A plain comment: a doc comment would become
// the published schema's description.)
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}
