//! Secret values in HERALD_CONFIG may name where the secret lives instead of
//! holding it: `${NAME}` (an environment variable) or `file:/path` (a file,
//! such as a mounted Kubernetes secret; one trailing newline is dropped).
//! Errors name the variable or file, never a value.

use serde_json::Value;

/// Replaces references in `value`, recursing into objects and arrays (for
/// secrets such as webhook `secretHeaders`).
pub fn resolve(value: &mut Value, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    match value {
        Value::String(text) => {
            if let Some(name) = text
                .strip_prefix("${")
                .and_then(|rest| rest.strip_suffix('}'))
            {
                *text =
                    env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            } else if let Some(path) = text.strip_prefix("file:") {
                let mut content = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read secret file {path}: {e}"))?;
                if content.ends_with('\n') {
                    content.pop();
                    if content.ends_with('\r') {
                        content.pop();
                    }
                }
                *text = content;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve(v, env)),
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve(v, env)),
        _ => Ok(()),
    }
}
