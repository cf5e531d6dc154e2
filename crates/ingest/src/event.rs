//! An alert event as submitted, in one shape whatever it came by: the
//! protobuf `SubmitRequest` (gRPC) or its JSON form (HTTP and
//! `herald.event`), with snake_case keys as the contract names them; the
//! lowerCamelCase names of protobuf's JSON mapping are accepted too.

use herald_catalog::Violations;
use herald_proto::json::opt_struct_to_json;
use herald_proto::v1;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    /// Empty when the producer gave none.
    pub idempotency_key: String,
    pub context: Map<String, Value>,
    pub actions: Vec<ActionInput>,
    /// A route id; empty when the event names its actions itself.
    pub route: String,
    /// The alert the event is about, when it is about one.
    pub alert: Option<v1::Alert>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionInput {
    pub account_id: String,
    /// Mustache templates, not rendered yet.
    pub params: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventJson {
    #[serde(default, alias = "idempotencyKey")]
    idempotency_key: Option<String>,
    #[serde(default)]
    context: Option<Map<String, Value>>,
    #[serde(default)]
    actions: Option<Vec<ObjectOnly<ActionJson>>>,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    alert: Option<ObjectOnly<AlertJson>>,
}

/// The JSON form of `Alert`: `status` is `firing` or `resolved`, times are
/// RFC 3339.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertJson {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    status: Option<AlertStatusJson>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, alias = "sourceUrl")]
    source_url: Option<String>,
    #[serde(default, alias = "startsAt")]
    starts_at: Option<String>,
    #[serde(default, alias = "endsAt")]
    ends_at: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
enum AlertStatusJson {
    #[serde(rename = "firing", alias = "ALERT_STATUS_FIRING")]
    Firing,
    #[serde(rename = "resolved", alias = "ALERT_STATUS_RESOLVED")]
    Resolved,
}

impl AlertJson {
    fn into_proto(self, out: &mut Violations) -> v1::Alert {
        let mut time = |field: &str, text: Option<String>| {
            let text = text.filter(|t| !t.is_empty())?;
            match text.parse::<prost_types::Timestamp>() {
                Ok(t) => Some(t),
                Err(_) => {
                    out.push(
                        format!("alert.{field}"),
                        "not an RFC 3339 time (2026-01-31T08:00:00Z)",
                    );
                    None
                }
            }
        };
        let starts_at = time("starts_at", self.starts_at);
        let ends_at = time("ends_at", self.ends_at);
        v1::Alert {
            key: self.key.unwrap_or_default(),
            status: match self.status {
                Some(AlertStatusJson::Resolved) => v1::AlertStatus::Resolved,
                Some(AlertStatusJson::Firing) | None => v1::AlertStatus::Firing,
            } as i32,
            severity: self.severity.unwrap_or_default(),
            labels: self.labels.unwrap_or_default().into_iter().collect(),
            annotations: self.annotations.unwrap_or_default().into_iter().collect(),
            summary: self.summary.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            source_url: self.source_url.unwrap_or_default(),
            starts_at,
            ends_at,
            source: self.source.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionJson {
    #[serde(default, alias = "accountId")]
    account_id: Option<String>,
    #[serde(default)]
    params: Option<Map<String, Value>>,
}

impl Event {
    /// Parses the JSON form. A problem is reported at its path
    /// (`actions[0].account_id: invalid type: ...`), or at the position in
    /// the text when the JSON itself is broken.
    pub fn from_json(body: &[u8]) -> Result<Event, Violations> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let parsed: Result<ObjectOnly<EventJson>, _> = serde_path_to_error::deserialize(&mut de);
        let json = parsed.map_err(|error| {
            // The path names an unknown key as the caller wrote it.
            let path = herald_catalog::echo(&error.path().to_string()).into_owned();
            let inner = error.inner();
            let mut out = Violations::new();
            match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    out.push("", format!("the body is not valid JSON: {inner}"));
                }
                _ if path == "." => out.push("", data_error(inner)),
                _ => out.push(path, data_error(inner)),
            }
            out
        })?;
        // Trailing garbage after the object is as broken as a missing brace.
        de.end().map_err(|inner| {
            let mut out = Violations::new();
            out.push("", format!("the body is not valid JSON: {inner}"));
            out
        })?;
        let ObjectOnly(json) = json;
        let mut problems = Violations::new();
        let alert = json.alert.map(|ObjectOnly(a)| a.into_proto(&mut problems));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Event {
            route: json.route.unwrap_or_default(),
            alert,
            idempotency_key: json.idempotency_key.unwrap_or_default(),
            context: json.context.unwrap_or_default(),
            actions: json
                .actions
                .unwrap_or_default()
                .into_iter()
                .map(|ObjectOnly(a)| ActionInput {
                    account_id: a.account_id.unwrap_or_default(),
                    params: a.params.unwrap_or_default(),
                })
                .collect(),
        })
    }

    pub fn from_proto(request: &v1::SubmitRequest) -> Event {
        Event {
            route: request.route.clone(),
            alert: request.alert.clone(),
            idempotency_key: request.idempotency_key.clone(),
            context: opt_struct_to_json(request.context.as_ref()),
            actions: request
                .actions
                .iter()
                .map(|a| ActionInput {
                    account_id: a.account_id.clone(),
                    params: opt_struct_to_json(a.params.as_ref()),
                })
                .collect(),
        }
    }
}

/// serde's message without its " at line 1 column 42" suffix (the path
/// already says where), cut short: it quotes the caller's unknown key or
/// mistyped string whole.
fn data_error(inner: &serde_json::Error) -> String {
    let message = strip_position(&inner.to_string());
    herald_catalog::echo_at_most(&message, 256).into_owned()
}

/// A struct read from a JSON object only: serde's derive would also take
/// an array of the fields in order, which no producer means.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = ObjectOnly<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(body: &str) -> Vec<(String, String)> {
        Event::from_json(body.as_bytes())
            .unwrap_err()
            .0
            .into_iter()
            .map(|v| (v.path, v.message))
            .collect()
    }

    #[test]
    fn reads_both_key_spellings() {
        let event = Event::from_json(
            br#"{"idempotency_key":"k","context":{"host":"db1"},
                 "actions":[{"account_id":"ops","params":{"message":"hi"}},{"accountId":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(event.idempotency_key, "k");
        assert_eq!(event.context["host"], json!("db1"));
        assert_eq!(event.actions[0].account_id, "ops");
        assert_eq!(event.actions[0].params["message"], json!("hi"));
        assert_eq!(event.actions[1].account_id, "b");
        assert!(event.actions[1].params.is_empty());
        let camel = Event::from_json(br#"{"idempotencyKey":"k","context":null}"#).unwrap();
        assert_eq!(camel.idempotency_key, "k");
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            violations(r#"{"actions":[{"account_id":"a"},{"account_id":3}]}"#),
            [(
                "actions[1].account_id".to_owned(),
                "invalid type: integer `3`, expected a string".to_owned()
            )]
        );
        let unknown = violations(r#"{"actions":[{"acount_id":"a"}]}"#);
        assert_eq!(unknown[0].0, "actions[0].acount_id");
        assert!(
            unknown[0].1.contains("unknown field `acount_id`"),
            "{unknown:?}"
        );
        let broken = violations(r#"{"actions": ["#);
        assert_eq!(broken[0].0, "");
        assert!(
            broken[0].1.starts_with("the body is not valid JSON"),
            "{broken:?}"
        );
        assert!(violations(r#"{} x"#)[0].1.contains("not valid JSON"));
        assert_eq!(
            violations("[1]"),
            [(
                "".to_owned(),
                "invalid type: sequence, expected an object".to_owned()
            )]
        );
        assert_eq!(
            violations(r#"{"actions":[["ops"]]}"#)[0],
            (
                "actions[0]".to_owned(),
                "invalid type: sequence, expected an object".to_owned()
            )
        );
    }
}
