//! The one type every secret value is held in: an account's credentials
//! as a worker reads them, the header values built from them. `Debug`
//! prints `[redacted]` and there is no `Display`, so a secret reaches a log
//! line or an error only through an explicit `expose()`.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, where a request is built.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secrets document (an account's `secrets`). Debug prints the field
/// names only, so a stray `{:?}` in a log line or an error cannot leak a
/// credential; the values are read through `Deref` where a connector
/// parses them.
#[derive(Clone, Default, PartialEq)]
pub struct SecretMap(pub serde_json::Map<String, serde_json::Value>);

impl std::ops::Deref for SecretMap {
    type Target = serde_json::Map<String, serde_json::Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for SecretMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl std::fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "[redacted]")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_is_redacted() {
        let secret = super::Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_secret_map_prints_its_field_names_only() {
        let map = super::SecretMap(
            serde_json::json!({"password": "hunter2"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        assert_eq!(format!("{map:?}"), r#"{"password": "[redacted]"}"#);
        assert_eq!(map["password"], "hunter2");
    }
}
