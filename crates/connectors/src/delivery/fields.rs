//! Reads params, config and secrets out of their JSON maps into the typed
//! values a connector's `request.rs` works with. Hand-written rather than
//! `serde` derives because a refusal must name the field path
//! (`subActionParams.text`), which `serde_json` errors do not, and must never
//! echo a value (it may be a secret).

use herald_proto::v1::ErrorKind;

use crate::delivery::Outcome;
use serde_json::{Map, Value};

/// A credential (a webhook URL, a token). Debug prints `[redacted]`; the
/// value is read only where the request is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One JSON object and where it sits (`secrets`, `config`, the params root
/// or `subActionParams`), with the error kind its problems are.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    kind: ErrorKind,
}

/// Shared by every connector's parse: an empty map for a missing object.
static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Fields<'a> {
    pub fn params(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: String::new(),
            kind: ErrorKind::InvalidParams,
        }
    }

    pub fn config(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: "config".into(),
            kind: ErrorKind::InvalidConfig,
        }
    }

    pub fn secrets(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            map,
            prefix: "secrets".into(),
            kind: ErrorKind::InvalidConfig,
        }
    }

    /// The object in field `name` (absent or null: an empty one), read with
    /// its path (`subActionParams.incident`) as prefix.
    pub fn nested(&self, name: &str) -> Result<Fields<'a>, Outcome> {
        let map = match self.map.get(name) {
            None | Some(Value::Null) => &*EMPTY,
            Some(Value::Object(map)) => map,
            Some(_) => return Err(self.refuse(name, "must be an object")),
        };
        Ok(Fields {
            map,
            prefix: self.path(name),
            kind: self.kind,
        })
    }

    /// The whole map, for fields passed on as they are.
    pub fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// An object field; absent and null are `None`.
    pub fn object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, Outcome> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(self.refuse(name, "must be an object")),
        }
    }

    /// A boolean field; absent and null are `None`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, Outcome> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(self.refuse(name, "must be true or false")),
        }
    }

    /// A string field given and not empty, else `None`: optional fields
    /// Kibana leaves as `""`.
    pub fn non_empty_str(&self, name: &str) -> Result<Option<&'a str>, Outcome> {
        Ok(self.str(name)?.filter(|text| !text.is_empty()))
    }

    /// An object of strings (headers, details); absent and null are empty.
    pub fn string_map(&self, name: &str) -> Result<Vec<(&'a str, &'a str)>, Outcome> {
        let Some(map) = self.object(name)? else {
            return Ok(Vec::new());
        };
        map.iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.as_str(), text.as_str())),
                _ => Err(self.refuse(&format!("{name}.{key}"), "must be a string")),
            })
            .collect()
    }

    /// `prefix.name`, or `name` at the root.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// The permanent outcome for a problem with field `name`.
    pub fn refuse(&self, name: &str, problem: &str) -> Outcome {
        Outcome::permanent(self.kind, format!("{}: {problem}", self.path(name)))
    }

    /// Refuses any field not in `known`, as `deny_unknown_fields` would.
    pub fn only(&self, known: &[&str]) -> Result<(), Outcome> {
        match self.map.keys().find(|key| !known.contains(&key.as_str())) {
            Some(unknown) => Err(self.refuse(unknown, "unknown field")),
            None => Ok(()),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|value| !value.is_null())
    }

    /// A string field; absent and null are `None`.
    pub fn str(&self, name: &str) -> Result<Option<&'a str>, Outcome> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.refuse(name, "must be a string")),
        }
    }

    /// A string field that must be given and not be empty.
    pub fn required_str(&self, name: &str) -> Result<&'a str, Outcome> {
        match self.str(name)? {
            None => Err(self.refuse(name, "required")),
            Some("") => Err(self.refuse(name, "must not be empty")),
            Some(text) => Ok(text),
        }
    }

    /// Any value; absent and null are `None`.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    /// An id that JSON may carry as a number or a string, as text; absent,
    /// null and `""` are `None`.
    pub fn id(&self, name: &str) -> Result<Option<String>, Outcome> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(_) => Err(self.refuse(name, "must be a string or a number")),
        }
    }

    /// An array field; absent and null are `None`.
    pub fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, Outcome> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(self.refuse(name, "must be an array")),
        }
    }

    /// The first item of an array of strings, `None` when it is absent or
    /// empty.
    pub fn first_str(&self, name: &str) -> Result<Option<&'a str>, Outcome> {
        let Some(items) = self.array(name)? else {
            return Ok(None);
        };
        match items.first() {
            None => Ok(None),
            Some(Value::String(text)) if !text.is_empty() => Ok(Some(text)),
            Some(_) => Err(self.refuse(&format!("{name}[0]"), "must be a non-empty string")),
        }
    }

    /// An absolute http(s) URL. The parse error is left out of the reason:
    /// the URL may be a secret, and `url`'s messages say little more.
    pub fn url(&self, name: &str, value: &str) -> Result<url::Url, Outcome> {
        herald_catalog::urls::parse(value)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| self.refuse(name, "must be an absolute http(s) URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(outcome: Outcome) -> (ErrorKind, String) {
        match outcome {
            Outcome::Permanent { kind, reason, .. } => (kind, reason),
            other => panic!("not permanent: {other:?}"),
        }
    }

    #[test]
    fn problems_name_the_field_path() {
        let map = json!({"a": 1, "sub": {"b": [""], "c": null}, "u": "ftp://x/secret"});
        let map = map.as_object().unwrap();
        let params = Fields::params(map);
        assert_eq!(
            reason(params.str("a").unwrap_err()),
            (ErrorKind::InvalidParams, "a: must be a string".into())
        );
        assert_eq!(
            reason(params.required_str("zz").unwrap_err()).1,
            "zz: required"
        );
        assert_eq!(
            reason(params.only(&["a", "sub"]).unwrap_err()).1,
            "u: unknown field"
        );
        let sub = params.nested("sub").unwrap();
        assert_eq!(
            reason(sub.first_str("b").unwrap_err()).1,
            "sub.b[0]: must be a non-empty string"
        );
        assert_eq!(sub.str("c").unwrap(), None);
        // No unwrap_err: `Fields` has no Debug, since it may hold secrets.
        let Err(outcome) = params.nested("a") else {
            panic!("an object")
        };
        assert_eq!(reason(outcome).1, "a: must be an object");
        let empty = params.nested("missing").unwrap();
        assert_eq!(empty.first_str("b").unwrap(), None);

        let secrets = Fields::secrets(map);
        let (kind, text) = reason(secrets.url("u", "ftp://x/secret").unwrap_err());
        assert_eq!(kind, ErrorKind::InvalidConfig);
        assert_eq!(text, "secrets.u: must be an absolute http(s) URL");
        assert!(secrets.url("u", "https://hooks.slack.com/x").is_ok());
        assert!(secrets.url("u", "hooks.slack.com/x").is_err());
    }

    #[test]
    fn secrets_debug_redacted() {
        let secret = Secret::new("xoxb-123");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.expose(), "xoxb-123");
    }
}
