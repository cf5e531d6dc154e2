//! Our own validator for the JSON Schema (draft 2020-12) subset the
//! connector schemas use, and the policy walk over the same schemas.
//!
//! Why not a JSON Schema crate: we want every violation at once, each with
//! its path and a short message that never echoes the value (it may be a
//! secret), plus a discriminated `oneOf` that reports only the chosen
//! branch's errors. The subset is small; [`SUPPORTED_KEYWORDS`] lists it.
//!
//! Beyond the standard: `format: mailbox` (`user@host` or
//! `Name <user@host>`), and `x-policy: "manual"`, which takes a property out
//! of the policy walk because it is never connected to (a link we print) or
//! only under a condition that the connector's `policy_rules` checks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::{Map, Value};

use crate::urls::HostRef;
use crate::{Policy, Violations};

/// Every keyword the validator understands; annotations (`default`,
/// `description`, ...) included. A test keeps the catalog within this list.
pub const SUPPORTED_KEYWORDS: &[&str] = &[
    "$schema",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "items",
    "minItems",
    "maxItems",
    "oneOf",
    "default",
    "description",
    "title",
    "examples",
    "x-policy",
];

pub const SUPPORTED_FORMATS: &[&str] = &["uri", "hostname", "mailbox", "date-time"];

/// `prefix.field`, or `field` alone at the root. The field may be a key the
/// caller chose, so it is quoted as [`echo`](crate::echo) quotes input.
pub fn join(prefix: &str, field: &str) -> String {
    let field = crate::echo(field);
    if prefix.is_empty() {
        field.into_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Validates `value` against `schema`, pushing one violation per problem.
/// `path` is the value's own path (`""` at the root of params).
pub fn validate(schema: &Value, value: &Value, path: &str, out: &mut Violations) {
    // `true` and `{}` accept anything.
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(types) = schema.get("type")
        && !type_matches(types, value)
    {
        // Nothing else about a value of the wrong type is worth saying.
        out.push(path, format!("must be {}", describe_types(types)));
        return;
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        out.push(path, format!("must be {}", show(expected)));
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        let options: Vec<String> = options.iter().map(show).collect();
        out.push(path, format!("must be one of: {}", options.join(", ")));
    }
    match value {
        Value::String(text) => validate_string(schema, text, path, out),
        Value::Number(number) => validate_number(schema, number, path, out),
        Value::Array(items) => validate_array(schema, items, path, out),
        Value::Object(map) => validate_object(schema, map, path, out),
        Value::Bool(_) | Value::Null => {}
    }
    if let Some(Value::Array(branches)) = schema.get("oneOf") {
        match select_branch(branches, value) {
            Ok(branch) => validate(branch, value, path, out),
            Err(Some((key, names))) => out.push(
                join(path, key),
                format!("must be one of: {}", names.join(", ")),
            ),
            // Not an object: the parent's `type` has said so already.
            Err(None) => {}
        }
    }
}

/// Policy over every string the schema marks as a place we connect to or
/// mail: `format: uri` and `hostname` hosts must be in
/// `policy.allowed_hosts`, `format: mailbox` domains in the e-mail domain
/// allowlist. An absent (or null) URL property with a `default` is checked
/// through its default, since that is where the worker will connect. Values
/// that do not parse are left to [`validate`].
pub fn check_policy(
    schema: &Value,
    value: &Value,
    path: &str,
    policy: &Policy,
    out: &mut Violations,
) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if schema.get("x-policy").and_then(Value::as_str) == Some("manual") {
        return;
    }
    match value {
        Value::String(text) => check_string_policy(schema, text, path, policy, out),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check_policy(item_schema, item, &format!("{path}[{index}]"), policy, out);
                }
            }
        }
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, property) in properties.into_iter().flatten() {
                let property_path = join(path, key);
                match map.get(key) {
                    Some(value) if !value.is_null() => {
                        check_policy(property, value, &property_path, policy, out)
                    }
                    _ => check_default_policy(property, &property_path, policy, out),
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                for (key, value) in map {
                    if !properties.is_some_and(|p| p.contains_key(key)) {
                        check_policy(extra, value, &join(path, key), policy, out);
                    }
                }
            }
            if let Some(Value::Array(branches)) = schema.get("oneOf")
                && let Ok(branch) = select_branch(branches, value)
            {
                check_policy(branch, value, path, policy, out);
            }
        }
        _ => {}
    }
}

fn check_default_policy(property: &Value, path: &str, policy: &Policy, out: &mut Violations) {
    let Some(property) = property.as_object() else {
        return;
    };
    if property.get("x-policy").and_then(Value::as_str) == Some("manual") {
        return;
    }
    if let Some(Value::String(default)) = property.get("default") {
        check_string_policy(property, default, path, policy, out);
    }
}

fn check_string_policy(
    schema: &Map<String, Value>,
    text: &str,
    path: &str,
    policy: &Policy,
    out: &mut Violations,
) {
    match schema.get("format").and_then(Value::as_str) {
        Some("uri") => {
            if let Some(url) = http_url(text)
                && let Some(host) = crate::urls::url_host(&url)
            {
                check_host_ref(host, path, policy, out);
            }
        }
        Some("hostname") if is_hostname(text) => check_host(text, path, policy, out),
        Some("mailbox") => {
            if let Some(domain) = mailbox_domain(text)
                && !policy.allows_email_domain(&domain)
            {
                out.push(
                    path,
                    format!("domain {domain} is not in policy.email.domain_allowlist"),
                );
            }
        }
        _ => {}
    }
}

/// Reports a host outside `policy.allowed_hosts`. Only the host is printed,
/// never the URL: webhook URLs carry keys in their paths.
pub fn check_host(host: &str, path: &str, policy: &Policy, out: &mut Violations) {
    match crate::urls::parse_host(host) {
        Some(host) => check_host_ref(host.as_ref(), path, policy, out),
        None => out.push(path, format!("{host:?} is not a host name or IP address")),
    }
}

/// [`check_host`] for a host already normalised (a URL's).
pub fn check_host_ref(host: HostRef<'_>, path: &str, policy: &Policy, out: &mut Violations) {
    if policy.allows(host) {
        return;
    }
    if host.is_internal() {
        out.push(
            path,
            format!("host {host} is an internal address; policy.allowed_hosts must list it explicitly (* covers public hosts only)"),
        );
    } else {
        out.push(path, format!("host {host} is not in policy.allowed_hosts"));
    }
}

/// The first character a URL may not hold as written: the URL parser
/// would quietly drop (tabs, line breaks, edge spaces) or percent-encode
/// (inner spaces, `<`, `"`, ...) it, so the URL used would not be the one
/// the operator wrote. Non-ASCII letters stay allowed (IDN hosts, paths),
/// and so does anything inside a Mustache tag (`{{{ external.system.id }}}`
/// in a cases-webhook URL template), which is rendered before sending.
fn invalid_url_character(text: &str) -> Option<(usize, char)> {
    let mut in_tag = false;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        match (in_tag, c, next) {
            (false, '{', Some('{')) => in_tag = true,
            (true, '}', Some('}')) => in_tag = false,
            (true, _, _) => {}
            (false, c, _) if c.is_whitespace() || c.is_control() || "\"<>\\^`".contains(c) => {
                return Some((at, c));
            }
            _ => {}
        }
    }
    None
}

/// An absolute http(s) URL with a host.
fn http_url(text: &str) -> Option<url::Url> {
    let url = crate::urls::parse(text).ok()?;
    (matches!(url.scheme(), "http" | "https") && crate::urls::url_host(&url).is_some())
        .then_some(url)
}

/// The host of an absolute http(s) URL, normalised as the policy reads it
/// (lower case, no trailing dot, IPv6 without brackets).
pub fn url_host(text: &str) -> Option<String> {
    let url = http_url(text)?;
    crate::urls::url_host(&url).map(|host| host.to_string())
}

/// A DNS name (RFC 1123 labels) or an IP address.
pub fn is_hostname(text: &str) -> bool {
    if text.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = text.strip_suffix('.').unwrap_or(text);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The `user@host` part of `user@host` or `Name <user@host>`, if well formed.
pub fn mailbox_address(text: &str) -> Option<&str> {
    let text = text.trim();
    let address = match text.strip_suffix('>') {
        Some(rest) => {
            let open = rest.rfind('<')?;
            if rest[..open].contains(['<', '>']) {
                return None;
            }
            &rest[open + 1..]
        }
        None => text,
    };
    let (local, domain) = address.rsplit_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || "<>@()[]\\,;:\"".contains(c));
    (local_ok && is_hostname(domain)).then_some(address)
}

/// The lower-cased domain of a mailbox, for the domain allowlist.
pub fn mailbox_domain(text: &str) -> Option<String> {
    let address = mailbox_address(text)?;
    let (_, domain) = address.rsplit_once('@')?;
    Some(domain.trim_end_matches('.').to_ascii_lowercase())
}

/// RFC 3339 date-time (`2024-05-01T12:00:00Z`, fractions and offsets
/// allowed; a space may stand for the `T`).
pub fn is_date_time(text: &str) -> bool {
    static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$",
        )
        .expect("valid regex")
    });
    let Some(parts) = DATE_TIME.captures(text) else {
        return false;
    };
    let number = |i: usize| -> u32 { parts.get(i).map_or(0, |m| m.as_str().parse().unwrap_or(99)) };
    (1..=12).contains(&number(2))
        && (1..=31).contains(&number(3))
        && number(4) <= 23
        && number(5) <= 59
        && number(6) <= 60
        && number(9) <= 23
        && number(10) <= 59
}

fn type_matches(types: &Value, value: &Value) -> bool {
    match types {
        Value::String(name) => is_type(name, value),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| is_type(name, value)),
        _ => true,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => value.as_number().is_some_and(|n| {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn describe_types(types: &Value) -> String {
    let names: Vec<&str> = match types {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let described: Vec<&str> = names
        .into_iter()
        .map(|name| match name {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "a boolean",
            "object" => "an object",
            "array" => "an array",
            "null" => "null",
            other => other,
        })
        .collect();
    described.join(" or ")
}

/// Schema constants (enum options, bounds) as users write them: strings
/// bare, everything else as JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn validate_string(schema: &Map<String, Value>, text: &str, path: &str, out: &mut Violations) {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        if min == 1 {
            out.push(path, "must not be empty");
        } else {
            out.push(path, format!("must be at least {min} characters"));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        out.push(path, format!("must be at most {max} characters"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && !pattern_matches(pattern, text)
    {
        out.push(path, format!("must match the pattern {pattern}"));
    }
    if schema.get("format").and_then(Value::as_str) == Some("uri")
        && let Some((at, c)) = invalid_url_character(text)
    {
        out.push(
            path,
            format!(
                "must be a URL without spaces or other invalid characters ({c:?} at character {})",
                at + 1
            ),
        );
        return;
    }
    let format_message = match schema.get("format").and_then(Value::as_str) {
        Some("uri") if url_host(text).is_none() => Some("must be an absolute http(s) URL"),
        Some("hostname") if !is_hostname(text) => Some("must be a host name or IP address"),
        Some("mailbox") if mailbox_address(text).is_none() => {
            Some("must be an e-mail address (user@host or Name <user@host>)")
        }
        Some("date-time") if !is_date_time(text) => {
            Some("must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z")
        }
        _ => None,
    };
    if let Some(message) = format_message {
        out.push(path, message);
    }
}

/// Compiled patterns, kept because ingest validates params for every action.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Default::default);
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let regex = cache
        .entry(pattern.to_owned())
        .or_insert_with(|| Regex::new(pattern).ok());
    // A broken pattern is a catalog bug (a test compiles them all); failing
    // closed keeps it visible.
    regex.as_ref().is_some_and(|regex| regex.is_match(text))
}

fn validate_number(
    schema: &Map<String, Value>,
    number: &serde_json::Number,
    path: &str,
    out: &mut Violations,
) {
    let Some(value) = number.as_f64() else {
        return;
    };
    let min = schema.get("minimum");
    let max = schema.get("maximum");
    let below = min.and_then(Value::as_f64).is_some_and(|min| value < min);
    let above = max.and_then(Value::as_f64).is_some_and(|max| value > max);
    if !(below || above) {
        return;
    }
    let message = match (min, max) {
        (Some(min), Some(max)) => format!("must be {min}..{max}"),
        (Some(min), None) => format!("must be at least {min}"),
        (None, Some(max)) => format!("must be at most {max}"),
        (None, None) => unreachable!("a bound was crossed"),
    };
    out.push(path, message);
}

fn validate_array(schema: &Map<String, Value>, items: &[Value], path: &str, out: &mut Violations) {
    let count = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && count < min
    {
        if min == 1 {
            out.push(path, "must not be empty");
        } else {
            out.push(path, format!("must have at least {min} items"));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && count > max
    {
        out.push(path, format!("must have at most {max} items"));
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            validate(item_schema, item, &format!("{path}[{index}]"), out);
        }
    }
}

fn validate_object(
    schema: &Map<String, Value>,
    map: &Map<String, Value>,
    path: &str,
    out: &mut Violations,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let extra = schema.get("additionalProperties");
    for (key, value) in map {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => validate(property, value, &join(path, key), out),
            None => match extra {
                Some(Value::Bool(false)) => out.push(join(path, key), "unknown field"),
                Some(extra @ Value::Object(_)) => validate(extra, value, &join(path, key), out),
                _ => {}
            },
        }
    }
    for key in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(key) {
            out.push(join(path, key), "required");
        }
    }
    let count = map.len() as u64;
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && count < min
    {
        out.push(path, format!("must have at least {min} entries"));
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && count > max
    {
        out.push(path, format!("must have at most {max} entries"));
    }
}

/// The discriminator of a `oneOf`: a property that every branch pins with
/// `const`. `None` when the schema has no such property (a catalog bug that
/// a test rules out).
pub fn discriminator(branches: &[Value]) -> Option<&str> {
    let first = branches.first()?.get("properties")?.as_object()?;
    first.keys().map(String::as_str).find(|key| {
        branches.iter().all(|branch| {
            branch
                .pointer(&format!("/properties/{key}/const"))
                .is_some()
        })
    })
}

/// Picks the `oneOf` branch whose discriminator matches `value`. On failure,
/// `Some((key, names))` says which key to report and what it may be; `None`
/// means `value` is not an object at all.
fn select_branch<'a>(
    branches: &'a [Value],
    value: &Value,
) -> Result<&'a Value, Option<(&'a str, Vec<String>)>> {
    let Some(map) = value.as_object() else {
        return Err(None);
    };
    let Some(key) = discriminator(branches) else {
        return Err(None);
    };
    let constant = |branch: &'a Value| branch.pointer(&format!("/properties/{key}/const"));
    if let Some(given) = map.get(key)
        && let Some(branch) = branches.iter().find(|b| constant(b) == Some(given))
    {
        return Ok(branch);
    }
    let names = branches.iter().filter_map(constant).map(show).collect();
    Err(Some((key, names)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, value: Value) -> Vec<String> {
        let mut out = Violations::new();
        validate(&schema, &value, "config", &mut out);
        let mut found: Vec<String> = out.iter().map(|v| v.to_string()).collect();
        found.sort();
        found
    }

    #[test]
    fn types_including_nullable_unions() {
        let schema = json!({"type": "object", "properties": {
            "host": {"type": ["string", "null"]},
            "port": {"type": "integer"},
            "ratio": {"type": "number"},
            "on": {"type": "boolean"},
        }});
        assert!(
            check(
                schema.clone(),
                json!({"host": null, "port": 25, "ratio": 0.5, "on": true})
            )
            .is_empty()
        );
        assert_eq!(
            check(
                schema,
                json!({"host": 1, "port": 2.5, "ratio": "x", "on": "yes"})
            ),
            [
                "config.host: must be a string or null",
                "config.on: must be a boolean",
                "config.port: must be an integer",
                "config.ratio: must be a number",
            ]
        );
        assert_eq!(
            check(json!({"type": "object"}), json!([])),
            ["config: must be an object"]
        );
    }

    #[test]
    fn objects_required_unknown_and_maps() {
        let schema = json!({
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": {
                "url": {"type": "string"},
                "headers": {"type": "object", "maxProperties": 2, "additionalProperties": {"type": "string"}},
            },
        });
        assert_eq!(
            check(
                schema.clone(),
                json!({"foo": 1, "headers": {"X-A": 1, "X-B": "b", "X-C": "c"}})
            ),
            [
                "config.foo: unknown field",
                "config.headers.X-A: must be a string",
                "config.headers: must have at most 2 entries",
                "config.url: required",
            ]
        );
    }

    #[test]
    fn numbers_strings_arrays() {
        let schema = json!({"type": "object", "properties": {
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "low": {"type": "integer", "minimum": 1},
            "high": {"type": "integer", "maximum": 10},
            "name": {"type": "string", "minLength": 1, "maxLength": 3},
            "long": {"type": "string", "minLength": 5},
            "channel": {"type": "string", "pattern": "^#"},
            "tags": {"type": "array", "maxItems": 1, "items": {"type": "string", "maxLength": 2}},
            "some": {"type": "array", "minItems": 1},
        }});
        assert_eq!(
            check(
                schema.clone(),
                json!({"port": 0, "low": 0, "high": 11, "name": "", "long": "abc", "channel": "general",
                       "tags": ["abc", "d"], "some": []})
            ),
            [
                "config.channel: must match the pattern ^#",
                "config.high: must be at most 10",
                "config.long: must be at least 5 characters",
                "config.low: must be at least 1",
                "config.name: must not be empty",
                "config.port: must be 1..65535",
                "config.some: must not be empty",
                "config.tags: must have at most 1 items",
                "config.tags[0]: must be at most 2 characters",
            ]
        );
        assert_eq!(
            check(schema, json!({"name": "abcd"})),
            ["config.name: must be at most 3 characters"]
        );
    }

    #[test]
    fn enum_and_const() {
        let schema = json!({"type": "object", "properties": {
            "method": {"type": "string", "enum": ["post", "put"]},
            "auth": {"type": ["string", "null"], "enum": ["basic", null]},
            "kind": {"const": "x"},
        }});
        assert!(
            check(
                schema.clone(),
                json!({"method": "put", "auth": null, "kind": "x"})
            )
            .is_empty()
        );
        assert_eq!(
            check(
                schema,
                json!({"method": "head", "auth": "ssl", "kind": "y"})
            ),
            [
                "config.auth: must be one of: basic, null",
                "config.kind: must be x",
                "config.method: must be one of: post, put",
            ]
        );
    }

    #[test]
    fn formats() {
        let schema = json!({"type": "object", "properties": {
            "url": {"type": "string", "format": "uri"},
            "host": {"type": "string", "format": "hostname"},
            "from": {"type": "string", "format": "mailbox"},
            "at": {"type": "string", "format": "date-time"},
        }});
        for good in [
            json!({"url": "https://a.example.com/x?y=1", "host": "smtp.example.com", "from": "a@example.com", "at": "2024-05-01T12:00:00Z"}),
            json!({"url": "http://10.0.0.1:8080", "host": "10.0.0.1", "from": "Alerts <alerts@example.com>", "at": "2024-05-01T12:00:00.123+02:00"}),
            json!({"url": "https://example.com/issue/{{{external.system.id}}}", "host": "localhost", "from": "\"Ops, Team\" <ops@example.com>", "at": "2024-05-01 12:00:00z"}),
            json!({"host": "::1", "from": "<x@mail>"}),
        ] {
            assert!(check(schema.clone(), good.clone()).is_empty(), "{good}");
        }
        assert_eq!(
            check(
                schema.clone(),
                json!({"url": "ftp://example.com", "host": "bad host", "from": "nobody", "at": "yesterday"})
            ),
            [
                "config.at: must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z",
                "config.from: must be an e-mail address (user@host or Name <user@host>)",
                "config.host: must be a host name or IP address",
                "config.url: must be an absolute http(s) URL",
            ]
        );
        // The URL parser would drop or encode these; the URL sent would not
        // be the one written.
        for (url, found) in [
            ("https://example.com/a b", "' ' at character 22"),
            (" https://example.com/", "' ' at character 1"),
            ("https://example.com/\n", "'\\n' at character 21"),
            ("https://exa\tmple.com/", "'\\t' at character 12"),
            ("https://example.com/<x>", "'<' at character 21"),
            ("https://example.com/\"", "'\"' at character 21"),
        ] {
            assert_eq!(
                check(schema.clone(), json!({"url": url})),
                [format!(
                    "config.url: must be a URL without spaces or other invalid characters ({found})"
                )],
                "{url:?}"
            );
        }
        assert!(
            check(
                schema.clone(),
                json!({"url": "https://bücher.example/{{{ external.system.id }}}"})
            )
            .is_empty()
        );
        for bad_mailbox in [
            "a@",
            "@b.com",
            "a b@c.com",
            "Name <a@b.com",
            "a@b_c.com",
            "x <y> <a@b.com>",
        ] {
            assert!(mailbox_address(bad_mailbox).is_none(), "{bad_mailbox}");
        }
        assert!(!is_date_time("2024-13-01T00:00:00Z"));
        assert!(!is_hostname("-a.example.com"));
        assert_eq!(
            check(schema, json!({"url": "/relative"})),
            ["config.url: must be an absolute http(s) URL"]
        );
    }

    #[test]
    fn discriminated_one_of_reports_only_the_chosen_branch() {
        // `subAction` is left out of `required`: a missing discriminator is
        // reported once, with the names it may take.
        let schema = json!({
            "type": "object",
            "oneOf": [
                {"properties": {"subAction": {"const": "createAlert"},
                                "subActionParams": {"type": "object", "required": ["message"]}},
                 "additionalProperties": false},
                {"properties": {"subAction": {"const": "closeAlert"},
                                "subActionParams": {"type": "object", "required": ["alias"]}},
                 "additionalProperties": false},
            ],
        });
        let mut out = Violations::new();
        validate(
            &schema,
            &json!({"subAction": "closeAlert", "subActionParams": {}}),
            "",
            &mut out,
        );
        assert_eq!(out.to_string(), "subActionParams.alias: required");
        let mut out = Violations::new();
        validate(
            &schema,
            &json!({"subAction": "nope"}),
            "actions[0].params",
            &mut out,
        );
        assert_eq!(
            out.to_string(),
            "actions[0].params.subAction: must be one of: createAlert, closeAlert"
        );
        let mut out = Violations::new();
        validate(&schema, &json!({}), "", &mut out);
        assert_eq!(
            out.to_string(),
            "subAction: must be one of: createAlert, closeAlert"
        );
    }

    #[test]
    fn messages_never_echo_values() {
        let schema = json!({"type": "object", "additionalProperties": false, "properties": {
            "token": {"type": "string", "maxLength": 3, "pattern": "^x", "format": "uri", "enum": ["a"]},
        }});
        let secret = "s3cr3t-Value-that-must-not-leak";
        let mut out = Violations::new();
        validate(&schema, &json!({"token": secret}), "secrets", &mut out);
        assert_eq!(out.len(), 4);
        assert!(!out.to_string().contains(secret));
    }
}
