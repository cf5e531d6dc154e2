//! Where a document sits (the params root, `subActionParams.incident`,
//! `config`, `secrets`) and the error kind its problems are: for the checks
//! a connector makes after its typed read (`crate::delivery::typed`), such
//! as a URL against the policy or an id that must not be `..`, so that
//! their refusals name the field path as serde's do, and never echo a value.

use herald_proto::v1::ErrorKind;

use crate::delivery::Outcome;
use serde_json::{Map, Value};

/// Credentials are held in the catalog's one secret type.
pub use herald_catalog::Secret;

/// One JSON object and where it sits, with the error kind its problems are.
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
            reason(params.refuse("zz", "required")),
            (ErrorKind::InvalidParams, "zz: required".into())
        );
        let sub = params.nested("sub").unwrap();
        assert_eq!(
            reason(sub.refuse("b[0]", "must be a non-empty string")).1,
            "sub.b[0]: must be a non-empty string"
        );
        // No unwrap_err: `Fields` has no Debug, since it may hold secrets.
        let Err(outcome) = params.nested("a") else {
            panic!("an object")
        };
        assert_eq!(reason(outcome).1, "a: must be an object");
        let empty = params.nested("missing").unwrap();
        assert_eq!(
            reason(empty.refuse("b", "required")).1,
            "missing.b: required"
        );

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
