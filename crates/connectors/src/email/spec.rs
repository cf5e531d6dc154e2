//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{is_set, is_true};
use herald_catalog::email::well_known_service;
use herald_catalog::schema::{check_host, join, url_host};
use herald_catalog::{ConnectorSpec, Escape, ParamEscape, Policy, Violations, WorkerBinary};

const LOGIN_URL: &str = "https://login.microsoftonline.com";
const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
/// Kibana's `service` values that are not nodemailer SMTP services.
const SPECIAL_SERVICES: &[&str] = &["other", "exchange_server", "elastic_cloud"];

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "email",
        name: "Email",
        worker: WorkerBinary::Email,
        config_schema: config_schema(),
        secrets_schema: secrets_schema(),
        params_schema: params_schema(),
        account_rules,
        params_rules,
        policy_rules,
        param_escape: ParamEscape::Fields(&[
            ("message", Escape::Markdown),
            ("messageHTML", Escape::Html),
        ]),
        readers: None,
        action_rules: recipient_rule,
        test_params: Some(|text| serde_json::json!({"subject": "Herald test", "message": text})),
    }
}

/// Kibana renders `message` as Markdown (it becomes the HTML part through a
/// Markdown renderer) and `messageHTML` as HTML; the rest is sent as given.
fn port() -> Value {
    json!({"type": ["integer", "null"], "minimum": 1, "maximum": 65535})
}

fn mailboxes(max: u64) -> Value {
    json!({
        "type": "array",
        "maxItems": max,
        "items": {"type": "string", "maxLength": 512, "format": "mailbox"},
    })
}

fn config_schema() -> Value {
    json!({
        "type": "object",
        "required": ["from"],
        "additionalProperties": false,
        "properties": {
            "service": {
                "type": "string",
                "default": "other",
                "description": "`other` (give host and port), `exchange_server` (Microsoft Graph), \
                    `elastic_cloud`, or a nodemailer well-known service such as gmail, outlook365, \
                    ses, ses-eu-west-1, sendgrid, mailgun, postmark, yahoo, zoho, fastmail",
            },
            "from": {"type": "string", "format": "mailbox", "description": "Sender, user@host or Name <user@host>"},
            "host": {"type": ["string", "null"], "format": "hostname", "description": "SMTP server, for service other"},
            "port": port(),
            "secure": {"type": ["boolean", "null"], "description": "Implicit TLS; otherwise STARTTLS when offered. Defaults to port == 465"},
            "hasAuth": {"type": "boolean", "default": true},
            "tenantId": {"type": ["string", "null"], "description": "Exchange: directory (tenant) id"},
            "clientId": {"type": ["string", "null"], "description": "Exchange: application (client) id"},
            "oauthTokenUrl": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "Exchange token endpoint; default https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token",
                // Used by Exchange accounts only; policy_rules checks it then.
                "x-policy": "manual",
            },
            "graphApiUrl": {
                "type": ["string", "null"],
                "format": "uri",
                "default": GRAPH_URL,
                "description": "Exchange: Microsoft Graph base URL, for sovereign clouds",
                "x-policy": "manual",
            },
            "defaultTo": mailboxes(100),
            "defaultCc": mailboxes(100),
            "defaultBcc": mailboxes(100),
            "trustAll": {"type": "boolean", "description": "Accept any server certificate (unsafe)"},
            "trustedHosts": {
                "type": "array",
                "items": {"type": "string", "format": "hostname"},
                "description": "Accept certificates issued to these names without checking the issuer",
                // Certificate names, not places we connect to.
                "x-policy": "manual",
            },
            "ca": {"type": "string", "description": "PEM CA certificate(s) to trust"},
            "requireTls": {"type": "boolean", "description": "Fail unless the server offers STARTTLS"},
            "ignoreTls": {"type": "boolean", "description": "Never use STARTTLS"},
            "sessionTimeout": {"type": "integer", "minimum": 1, "maximum": 3600, "description": "Seconds"},
            "maxConnections": {
                "type": "integer", "minimum": 1, "maximum": 100,
                "description": "SMTP connections kept open to the server at most (default 8)",
            },
            "proxyHost": {"type": ["string", "null"], "format": "hostname", "description": "SOCKS proxy"},
            "proxyPort": port(),
            "proxyUser": {"type": ["string", "null"]},
            "debug": {"type": "boolean", "description": "Log the SMTP conversation"},
            "allowHtml": {"type": "boolean", "description": "Allow params.messageHTML"},
            "publicBaseUrl": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "Base of the footer link back to Herald's user interface",
                // A link printed in mail, never fetched.
                "x-policy": "manual",
            },
        },
    })
}

fn secrets_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "user": {"type": ["string", "null"]},
            "password": {"type": ["string", "null"]},
            "clientSecret": {"type": ["string", "null"], "description": "Exchange: client secret"},
            "proxyPassword": {"type": ["string", "null"]},
        },
    })
}

fn params_schema() -> Value {
    json!({
        "type": "object",
        "required": ["subject", "message"],
        "additionalProperties": false,
        "properties": {
            "to": mailboxes(100),
            "cc": mailboxes(100),
            "bcc": mailboxes(100),
            "replyTo": mailboxes(10),
            "from": {"type": "string", "format": "mailbox", "description": "Overrides config.from"},
            "subject": {"type": "string"},
            "message": {"type": "string", "description": "Markdown; also sent as the plain-text part"},
            "messageHTML": {"type": ["string", "null"], "description": "HTML body; needs config.allowHtml"},
            "kibanaFooterLink": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "path": {"type": "string", "default": "/"},
                    "text": {"type": "string", "default": "Go to Elastic"},
                },
            },
            "attachments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["filename", "content"],
                    "additionalProperties": false,
                    "properties": {
                        "filename": {"type": "string", "minLength": 1},
                        "content": {"type": "string", "description": "base64, unless encoding says otherwise"},
                        "contentType": {"type": "string"},
                        "encoding": {"type": "string"},
                    },
                },
            },
        },
    })
}

fn service(config: &Map<String, Value>) -> &str {
    config
        .get("service")
        .and_then(Value::as_str)
        .unwrap_or("other")
}

fn account_rules(config: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    let service = service(config);
    let known = SPECIAL_SERVICES.contains(&service) || well_known_service(service).is_some();
    if !known {
        out.push(
            "config.service",
            "must be other, exchange_server, elastic_cloud or a well-known service \
             (gmail, outlook365, ses, ses-<region>, sendgrid, ...)",
        );
    }
    if service == "other" {
        for field in ["host", "port"] {
            if !is_set(config, field) {
                out.push(join("config", field), "required when service is other");
            }
        }
    }
    let exchange = service == "exchange_server";
    if exchange {
        for field in ["tenantId", "clientId"] {
            if !is_set(config, field) {
                out.push(
                    join("config", field),
                    "required when service is exchange_server",
                );
            }
        }
        if !is_set(secrets, "clientSecret") {
            out.push(
                "secrets.clientSecret",
                "required when service is exchange_server",
            );
        }
    }
    let has_auth = config
        .get("hasAuth")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if has_auth && !exchange {
        for field in ["user", "password"] {
            if !is_set(secrets, field) {
                out.push(join("secrets", field), "required when hasAuth is true");
            }
        }
    }
    if is_true(config, "ignoreTls") {
        if is_true(config, "requireTls") {
            out.push("config.ignoreTls", "cannot be true when requireTls is true");
        }
        if is_true(config, "secure") {
            out.push(
                "config.ignoreTls",
                "cannot be true when secure is true (implicit TLS)",
            );
        }
    }
    if is_set(config, "proxyUser") && !is_set(secrets, "proxyPassword") {
        out.push("secrets.proxyPassword", "required when proxyUser is set");
    }
    if !is_set(config, "proxyHost") {
        if is_set(config, "proxyUser") {
            out.push("config.proxyHost", "required when proxyUser is set");
        } else if is_set(config, "proxyPort") {
            out.push("config.proxyHost", "required when proxyPort is set");
        }
    }
    if service == "elastic_cloud" && is_true(config, "allowHtml") {
        out.push(
            "config.allowHtml",
            "cannot be true when service is elastic_cloud",
        );
    }
    if let Some(ca) = config.get("ca").and_then(Value::as_str)
        && !ca.contains("-----BEGIN ")
    {
        out.push("config.ca", "must be PEM (-----BEGIN CERTIFICATE----- ...)");
    }
}

/// Params are checked without the account here, so the "at least one of
/// to, cc, bcc" rule is [`recipient_rule`], which ingest applies with the
/// account (whose `defaultTo` may supply them).
fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let attachments = params.get("attachments").and_then(Value::as_array);
    for (index, attachment) in attachments.into_iter().flatten().enumerate() {
        let encoding = attachment.get("encoding").and_then(Value::as_str);
        let base64 = encoding.is_none_or(|e| e.eq_ignore_ascii_case("base64"));
        if base64
            && let Some(content) = attachment.get("content").and_then(Value::as_str)
            && !is_base64(content)
        {
            out.push(
                join(prefix, &format!("attachments[{index}].content")),
                "must be base64",
            );
        }
    }
}

/// An e-mail needs a recipient: `to`, `cc` or `bcc` in the params, or a
/// `defaultTo`, `defaultCc` or `defaultBcc` in the account's config.
/// Reported at `prefix.to`.
pub fn recipient_rule(
    params: &Map<String, Value>,
    config: &Map<String, Value>,
    prefix: &str,
    out: &mut Violations,
) {
    // As the worker reads them: blank entries do not count.
    let any = |map: &Map<String, Value>, fields: [&str; 3]| {
        fields.iter().any(|field| {
            map.get(*field)
                .and_then(Value::as_array)
                .is_some_and(|list| {
                    list.iter()
                        .any(|item| item.as_str().is_some_and(|text| !text.trim().is_empty()))
                })
        })
    };
    if !any(params, ["to", "cc", "bcc"]) && !any(config, ["defaultTo", "defaultCc", "defaultBcc"]) {
        out.push(
            join(prefix, "to"),
            "no recipient: give to, cc or bcc, or set config.defaultTo, defaultCc or defaultBcc on the account",
        );
    }
}

fn is_base64(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = compact
        .strip_suffix(b"==")
        .or_else(|| compact.strip_suffix(b"="))
        .unwrap_or(&compact);
    compact.len().is_multiple_of(4)
        && body
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// Hosts that follow from other fields: a well-known service's SMTP host,
/// and for Exchange the token and Graph endpoints (their defaults included).
fn policy_rules(
    config: &Map<String, Value>,
    _: &Map<String, Value>,
    policy: &Policy,
    out: &mut Violations,
) {
    let service = service(config);
    if service == "exchange_server" {
        let tenant = config
            .get("tenantId")
            .and_then(Value::as_str)
            .unwrap_or("common");
        let default_token_url = format!("{LOGIN_URL}/{tenant}/oauth2/v2.0/token");
        for (field, default) in [
            ("oauthTokenUrl", default_token_url.as_str()),
            ("graphApiUrl", GRAPH_URL),
        ] {
            let url = config.get(field).and_then(Value::as_str).unwrap_or(default);
            if let Some(host) = url_host(url) {
                check_host(&host, &join("config", field), policy, out);
            }
        }
    } else if let Some(endpoint) = well_known_service(service) {
        check_host(endpoint.host, "config.service", policy, out);
    }
}
