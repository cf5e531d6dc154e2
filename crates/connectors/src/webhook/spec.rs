//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{is_set, no_params_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Violations, WorkerBinary};

pub const AUTH_BASIC: &str = "webhook-authentication-basic";
/// Herald's addition: `Authorization: Bearer <secrets.token>`.
pub const AUTH_BEARER: &str = "webhook-authentication-bearer";
pub const AUTH_SSL: &str = "webhook-authentication-ssl";
pub const AUTH_OAUTH2: &str = "webhook-oauth2-client-credentials";
pub const AUTH_QUERY_PARAM: &str = "http-authentication-query-param";
/// Kibana's cap on configured headers.
const MAX_HEADERS: u64 = 20;

pub fn spec() -> ConnectorSpec {
    let mut properties = json!({
        "url": {"type": "string", "format": "uri"},
        "method": {"type": "string", "enum": ["post", "put", "patch", "get", "delete"], "default": "post"},
        "headers": headers(),
    });
    properties
        .as_object_mut()
        .expect("object literal")
        .extend(auth_properties());
    ConnectorSpec {
        id: "webhook",
        name: "Webhook",
        worker: WorkerBinary::Incident,
        config_schema: json!({
            "type": "object",
            "required": ["url"],
            "additionalProperties": false,
            "properties": properties,
        }),
        secrets_schema: secrets_schema(),
        params_schema: json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "body": {"type": "string", "description": "Request body; not sent with get or delete"},
            },
        }),
        account_rules: auth_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("body", Escape::Json)]),
        readers: None,
    }
}

/// The body is usually a JSON document with `"{{x}}"` inside strings.
pub(crate) fn headers() -> Value {
    json!({
        "type": ["object", "null"],
        "maxProperties": MAX_HEADERS,
        "additionalProperties": {"type": "string"},
    })
}

/// Kibana's `AuthConfiguration`.
pub(crate) fn auth_properties() -> Map<String, Value> {
    let properties = json!({
        "hasAuth": {"type": "boolean", "default": true},
        "authType": {
            "type": ["string", "null"],
            "enum": [AUTH_BASIC, AUTH_SSL, AUTH_OAUTH2, AUTH_QUERY_PARAM, AUTH_BEARER, null],
            "default": AUTH_BASIC,
        },
        "certType": {"type": "string", "enum": ["ssl-crt-key", "ssl-pfx"]},
        "ca": {"type": "string", "description": "CA certificate (PEM, base64) to trust"},
        "verificationMode": {"type": "string", "enum": ["none", "certificate", "full"]},
        "accessTokenUrl": {"type": "string", "format": "uri", "description": "OAuth2 token endpoint"},
        "clientId": {"type": "string"},
        "scope": {"type": "string"},
        "additionalFields": {
            "type": ["string", "null"],
            "description": "JSON object of extra token request fields",
        },
    });
    match properties {
        Value::Object(map) => map,
        _ => unreachable!("object literal"),
    }
}

/// Kibana's `SecretConfiguration`, plus encrypted headers.
pub(crate) fn secrets_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "user": {"type": ["string", "null"]},
            "password": {"type": ["string", "null"], "description": "Basic auth, or the key's passphrase"},
            "crt": {"type": ["string", "null"], "description": "Client certificate (PEM, base64)"},
            "key": {"type": ["string", "null"], "description": "Client key (PEM, base64)"},
            "pfx": {"type": ["string", "null"], "description": "Client certificate and key (PFX, base64)"},
            "clientSecret": {"type": ["string", "null"], "description": "OAuth2 client secret"},
            "token": {"type": ["string", "null"], "description": "Bearer token"},
            "secretHeaders": {
                "type": ["object", "null"],
                "maxProperties": MAX_HEADERS,
                "additionalProperties": {"type": "string"},
                "description": "Headers stored encrypted, merged with config.headers",
            },
        },
    })
}

/// The credentials each auth type needs, and Kibana's rule that an account
/// holds one kind of credential only.
pub(crate) fn auth_rules(
    config: &Map<String, Value>,
    secrets: &Map<String, Value>,
    out: &mut Violations,
) {
    let kinds = [
        is_set(secrets, "user"),
        is_set(secrets, "crt") || is_set(secrets, "key"),
        is_set(secrets, "pfx"),
        is_set(secrets, "clientSecret"),
        is_set(secrets, "token"),
    ];
    if kinds.iter().filter(|given| **given).count() > 1 {
        out.push(
            "secrets",
            "use one kind of credential: user and password; crt and key; pfx; clientSecret; or token",
        );
    }
    if let Some(Value::String(fields)) = config.get("additionalFields")
        && !matches!(serde_json::from_str(fields), Ok(Value::Object(_)))
    {
        out.push(
            "config.additionalFields",
            "must be a string holding a JSON object",
        );
    }
    if let (Some(Value::Object(headers)), Some(Value::Object(secret_headers))) =
        (config.get("headers"), secrets.get("secretHeaders"))
    {
        for name in secret_headers.keys() {
            if headers.keys().any(|h| h.eq_ignore_ascii_case(name)) {
                out.push(
                    join("secrets.secretHeaders", name),
                    "also set in config.headers",
                );
            }
        }
    }
    check_credentials(config, secrets, out);
}

fn check_credentials(
    config: &Map<String, Value>,
    secrets: &Map<String, Value>,
    out: &mut Violations,
) {
    if config.get("hasAuth").and_then(Value::as_bool) == Some(false) {
        return;
    }
    let require =
        |map: &Map<String, Value>, scope: &str, field: &str, why: &str, out: &mut Violations| {
            if !is_set(map, field) {
                out.push(join(scope, field), format!("required for {why}"));
            }
        };
    match config
        .get("authType")
        .and_then(Value::as_str)
        .unwrap_or(AUTH_BASIC)
    {
        AUTH_SSL => match config.get("certType").and_then(Value::as_str) {
            Some("ssl-crt-key") => {
                require(secrets, "secrets", "crt", "certType ssl-crt-key", out);
                require(secrets, "secrets", "key", "certType ssl-crt-key", out);
            }
            Some("ssl-pfx") => require(secrets, "secrets", "pfx", "certType ssl-pfx", out),
            _ => out.push(
                "config.certType",
                format!("required when authType is {AUTH_SSL}"),
            ),
        },
        AUTH_OAUTH2 => {
            let why = "OAuth2 client credentials";
            require(config, "config", "accessTokenUrl", why, out);
            require(config, "config", "clientId", why, out);
            require(secrets, "secrets", "clientSecret", why, out);
        }
        AUTH_BEARER => require(secrets, "secrets", "token", "bearer authentication", out),
        // The parameter's name and value live in the URL or headers.
        AUTH_QUERY_PARAM => {}
        _ => {
            require(secrets, "secrets", "user", "basic authentication", out);
            require(secrets, "secrets", "password", "basic authentication", out);
        }
    }
}
