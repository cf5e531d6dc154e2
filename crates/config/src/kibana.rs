//! Kibana's own `kibana.yml` keys for what Herald has, so an operator can
//! paste the `xpack.actions` part of their file (dotted or nested, as
//! Kibana reads both) into `HERALD_CONFIG`. Each key is moved to its Herald
//! place before the file is read; a key given both ways is refused, and so
//! is any other Kibana key, by the same unknown-key rule as the rest of the
//! file.

use serde_yaml_ng::{Mapping, Value};

/// Each Kibana key Herald takes, and the Herald path it becomes.
const KEYS: &[(&str, &[&str])] = &[
    ("xpack.actions.preconfigured", &["preconfigured"]),
    ("xpack.actions.allowedHosts", &["policy", "allowed_hosts"]),
    (
        "xpack.actions.enabledActionTypes",
        &["policy", "enabled_connector_types"],
    ),
    (
        "xpack.actions.email.domain_allowlist",
        &["policy", "email", "domain_allowlist"],
    ),
    (
        "xpack.actions.customHostSettings",
        &["outbound", "custom_hosts"],
    ),
    ("xpack.actions.proxyUrl", &["outbound", "proxy", "url"]),
    (
        "xpack.actions.proxyBypassHosts",
        &["outbound", "proxy", "bypass_hosts"],
    ),
    (
        "xpack.actions.proxyOnlyHosts",
        &["outbound", "proxy", "only_hosts"],
    ),
    (
        "xpack.actions.proxyHeaders",
        &["outbound", "proxy", "headers"],
    ),
    (
        "xpack.actions.ssl.proxyVerificationMode",
        &["outbound", "proxy", "verification_mode"],
    ),
    (
        "xpack.actions.ssl.verificationMode",
        &["outbound", "verification_mode"],
    ),
    (
        "xpack.actions.maxResponseContentLength",
        &["outbound", "max_response_bytes"],
    ),
    (
        "xpack.actions.responseTimeout",
        &["outbound", "response_timeout"],
    ),
    (
        "xpack.actions.preconfiguredAlertHistoryEsIndex",
        &["preconfigured_alert_history"],
    ),
    ("server.publicBaseUrl", &["public_base_url"]),
];

/// Moves every Kibana key of `root` to its Herald place; `false` when the
/// file has none. The error is (field, message).
pub(crate) fn translate(root: &mut Value) -> Result<bool, (String, String)> {
    let Value::Mapping(top) = root else {
        return Ok(false);
    };
    let mut found = Vec::new();
    let original = std::mem::take(top);
    for (key, value) in original {
        match key.as_str() {
            Some(name) if is_prefix(name) => collect(name.to_owned(), value, &mut found)?,
            _ => {
                top.insert(key, value);
            }
        }
    }
    let any = !found.is_empty();
    for (kibana, value) in found {
        let (_, path) = KEYS
            .iter()
            .find(|(k, _)| *k == kibana)
            .expect("a known key");
        let value = match kibana.as_str() {
            // `enabledActionTypes` lists `.email`; the catalog reads both.
            // `true` turns the alert history account on with its defaults.
            "xpack.actions.preconfiguredAlertHistoryEsIndex" => match value {
                Value::Bool(true) => Value::Mapping(Mapping::new()),
                Value::Bool(false) => continue,
                _ => return Err((kibana, "must be true or false".into())),
            },
            _ => value,
        };
        insert(top, path, value, &kibana)?;
    }
    Ok(any)
}

/// Where HERALD_CONFIG takes a Kibana setting (`policy.allowed_hosts` for
/// `xpack.actions.allowedHosts`), or `None` for one Herald does not have.
pub fn herald_path(kibana_key: &str) -> Option<String> {
    KEYS.iter()
        .find(|(key, _)| *key == kibana_key)
        .map(|(_, path)| path.join("."))
}

/// A Kibana key, or the start of one (`xpack`, `xpack.actions`, `server`).
pub fn is_prefix(name: &str) -> bool {
    KEYS.iter()
        .any(|(key, _)| *key == name || key.starts_with(&format!("{name}.")))
}

/// Walks a nested Kibana mapping down to its keys.
fn collect(
    name: String,
    value: Value,
    found: &mut Vec<(String, Value)>,
) -> Result<(), (String, String)> {
    if KEYS.iter().any(|(key, _)| *key == name) {
        found.push((name, value));
        return Ok(());
    }
    let Value::Mapping(children) = value else {
        return Err((name, "is not a Kibana setting Herald has".into()));
    };
    for (child, value) in children {
        let Some(child) = child.as_str() else {
            return Err((name, "has a key that is not text".into()));
        };
        let full = format!("{name}.{child}");
        if !is_prefix(&full) {
            return Err((full, "is not a Kibana setting Herald has".into()));
        }
        collect(full, value, found)?;
    }
    Ok(())
}

/// Sets `path` to `value`, refusing a setting the file already gives in
/// Herald's form (or twice in Kibana's).
fn insert(
    top: &mut Mapping,
    path: &[&str],
    value: Value,
    kibana: &str,
) -> Result<(), (String, String)> {
    let (last, parents) = path.split_last().expect("a path has a key");
    let mut map = top;
    for part in parents {
        let entry = map
            .entry(Value::from(*part))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        let Value::Mapping(inner) = entry else {
            return Err((path[..1].join("."), "must be a mapping".into()));
        };
        map = inner;
    }
    if map.contains_key(*last) {
        return Err((
            kibana.to_owned(),
            format!("is also given as {}; keep one", path.join(".")),
        ));
    }
    map.insert(Value::from(*last), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translated(text: &str) -> Result<Value, (String, String)> {
        let mut value: Value = serde_yaml_ng::from_str(text).unwrap();
        translate(&mut value).map(|_| value)
    }

    #[test]
    fn dotted_and_nested_keys_land_in_the_same_place() {
        let dotted = translated(
            "xpack.actions.allowedHosts: [a.example.com]\n\
             xpack.actions.ssl.verificationMode: certificate\n\
             server.publicBaseUrl: https://kibana.example.com\n",
        )
        .unwrap();
        let nested = translated(
            "xpack:\n  actions:\n    allowedHosts: [a.example.com]\n    ssl:\n      verificationMode: certificate\n\
             server:\n  publicBaseUrl: https://kibana.example.com\n",
        )
        .unwrap();
        assert_eq!(dotted, nested);
        let expected: Value = serde_yaml_ng::from_str(
            "policy: {allowed_hosts: [a.example.com]}\n\
             outbound: {verification_mode: certificate}\n\
             public_base_url: https://kibana.example.com\n",
        )
        .unwrap();
        assert_eq!(dotted, expected);
    }

    #[test]
    fn a_setting_given_twice_or_unknown_is_named() {
        assert_eq!(
            translated("policy: {allowed_hosts: ['*']}\nxpack.actions.allowedHosts: [x]\n"),
            Err((
                "xpack.actions.allowedHosts".into(),
                "is also given as policy.allowed_hosts; keep one".into()
            ))
        );
        // Left for the unknown-key check of the whole file, which names it.
        assert_eq!(
            translated("xpack.actions.queue.max: 3\n").unwrap(),
            serde_yaml_ng::from_str::<Value>("xpack.actions.queue.max: 3\n").unwrap()
        );
        assert_eq!(
            translated("xpack:\n  actions:\n    queue: {max: 3}\n"),
            Err((
                "xpack.actions.queue".into(),
                "is not a Kibana setting Herald has".into()
            ))
        );
        assert_eq!(
            translated("xpack.actions.preconfiguredAlertHistoryEsIndex: yes please\n"),
            Err((
                "xpack.actions.preconfiguredAlertHistoryEsIndex".into(),
                "must be true or false".into()
            ))
        );
    }
}
