//! A connector's `Config`, `Secrets` and `Params` are Rust types (serde
//! with `deny_unknown_fields` and Kibana's camelCase names). This module
//! derives the JSON Schemas the catalog publishes and validates with from
//! those types (`schemars`), and reads a document into them for the
//! worker, so that what the registry and ingest accept and what a worker
//! reads are one definition. A refusal names the field path
//! (`subActionParams.incident.title`) and never quotes a value: it may be a
//! secret.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::Violation;

/// A string that must not be empty (a message, a title): `minLength: 1`
/// in the schema, and refused as `must not be empty` by the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty(String);

impl NonEmpty {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NonEmpty, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(NonEmpty(text))
    }
}

impl JsonSchema for NonEmpty {
    fn schema_name() -> Cow<'static, str> {
        "NonEmpty".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "minLength": 1})
    }
}

/// The JSON Schema of `T`, in the catalog's subset: draft 2020-12 with
/// every subschema inline and no title.
pub fn schema_of<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        // The type's doc comment is for Rust readers.
        object.remove("description");
    }
    schema
}

/// `map` read as a `T`; a problem is a [`Violation`] at its path under
/// `prefix` (`""`, `config`, `secrets`).
pub fn read<T: DeserializeOwned>(map: &Map<String, Value>, prefix: &str) -> Result<T, Violation> {
    let entries = map.iter().map(|(key, value)| (key.as_str(), value));
    let document = serde::de::value::MapDeserializer::<_, serde_json::Error>::new(entries);
    serde_path_to_error::deserialize(document).map_err(|error| {
        let mut path = prefix.to_owned();
        for segment in error.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&crate::echo(key));
                }
                Segment::Unknown => {}
            }
        }
        let (field, message) = problem(&error.inner().to_string());
        if let Some(field) = field {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&field);
        }
        Violation { path, message }
    })
}

/// serde's words for a problem, without the value it quotes: `invalid
/// type: string "hunter2", expected u16` is `must be an integer`. A field
/// that is missing is named, as part of the path.
fn problem(serde_message: &str) -> (Option<String>, String) {
    let text = serde_message
        .split(" at line ")
        .next()
        .unwrap_or(serde_message);
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return (Some(crate::echo(field).into_owned()), "required".into());
    }
    if text.starts_with("unknown field `") {
        return (None, "unknown field".into());
    }
    if text.starts_with("unknown variant `") {
        let expected = text.split(", expected ").nth(1).unwrap_or_default();
        return (None, format!("must be {}", alternatives(expected)));
    }
    if text.starts_with("invalid value:")
        && text
            .split(", expected ")
            .nth(1)
            .is_some_and(|expected| expected.starts_with('"'))
    {
        // An adjacently tagged enum (`{subAction, subActionParams}`) lists
        // its two field names, quoted, for a key it does not know.
        return (None, "unknown field".into());
    }
    if text.starts_with("invalid type:") || text.starts_with("invalid value:") {
        let expected = text.split(", expected ").nth(1).unwrap_or_default();
        return (None, format!("must be {}", expected_words(expected)));
    }
    if text.starts_with("invalid length") {
        return (None, "has the wrong number of items".into());
    }
    // A message of our own (a `deserialize_with` or `TryFrom`): it names
    // what is wrong and quotes nothing.
    (None, text.to_owned())
}

/// serde's `one of `a`, `b`, `c`` (or `` `a` or `b` ``) as `a, b or c`.
fn alternatives(expected: &str) -> String {
    let names: Vec<&str> = expected
        .trim_start_matches("one of ")
        .split(['`', ',', ' '])
        .filter(|word| !word.is_empty() && *word != "or")
        .collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => expected.to_owned(),
    }
}

fn expected_words(expected: &str) -> String {
    match expected {
        "a string" | "a borrowed string" => "a string".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "an array".into(),
        "a map" => "an object".into(),
        "f32" | "f64" => "a number".into(),
        number if number.starts_with('u') || number.starts_with('i') => {
            if number.chars().skip(1).all(|c| c.is_ascii_digit()) {
                "an integer".into()
            } else {
                number.into()
            }
        }
        struct_name if struct_name.starts_with("struct ") => "an object".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Doc {
        api_url: Option<String>,
        port: Option<u16>,
        title: Option<NonEmpty>,
        links: Option<Vec<Link>>,
        action: Option<Action>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Link {
        href: String,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Action {
        Trigger,
        Resolve,
    }

    fn refusal(document: Value) -> String {
        read::<Doc>(document.as_object().unwrap(), "config")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn refusals_name_the_path_and_quote_no_value() {
        assert_eq!(
            refusal(json!({"port": "hunter2"})),
            "config.port: must be an integer"
        );
        assert_eq!(
            refusal(json!({"links": [{"href": "a"}, {}]})),
            "config.links[1].href: required"
        );
        assert_eq!(
            refusal(json!({"hunter2": 1})),
            "config.hunter2: unknown field"
        );
        assert_eq!(
            refusal(json!({"action": "hunter2"})),
            "config.action: must be trigger or resolve"
        );
        assert_eq!(
            alternatives("one of `trigger`, `acknowledge`, `resolve`"),
            "trigger, acknowledge or resolve"
        );
        assert_eq!(
            refusal(json!({"title": ""})),
            "config.title: must not be empty"
        );
        assert_eq!(
            refusal(json!({"apiUrl": ["hunter2"]})),
            "config.apiUrl: must be a string"
        );
        let doc: Doc = read(
            json!({"links": [{"href": "h"}], "action": "resolve"})
                .as_object()
                .unwrap(),
            "config",
        )
        .unwrap();
        assert!(doc.api_url.is_none() && doc.port.is_none() && doc.title.is_none());
        assert_eq!(doc.links.unwrap()[0].href, "h");
        assert!(matches!(doc.action, Some(Action::Resolve)));
    }

    #[test]
    fn schemas_are_inline_and_untitled() {
        let schema = schema_of::<Doc>();
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["apiUrl"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            schema["properties"]["links"]["items"]["required"],
            json!(["href"])
        );
        assert!(schema.get("title").is_none() && schema.get("$defs").is_none());
    }
}
