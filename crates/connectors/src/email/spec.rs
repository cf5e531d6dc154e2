//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::schema_parts::{Bounded, is_set, is_true};
use herald_catalog::email::well_known_service;
use herald_catalog::schema::{check_host, join, url_host};
use herald_catalog::signals::{SignalsAccount, SignalsField, Translation};
use herald_catalog::typed::{NonEmpty, schema_of};
use herald_catalog::{
    ConnectorSpec, Escape, Extras, ParamEscape, Policy, Readers, Secret, Violations, WorkerBinary,
};

pub const LOGIN_URL: &str = "https://login.microsoftonline.com";
pub const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
/// Kibana's `service` values that are not nodemailer SMTP services.
const SPECIAL_SERVICES: &[&str] = &["other", "exchange_server", "elastic_cloud"];

const SERVICE: &str = "`other` (give host and port), `exchange_server` (Microsoft Graph), \
    `elastic_cloud`, or a nodemailer well-known service such as gmail, outlook365, \
    ses, ses-eu-west-1, sendgrid, mailgun, postmark, yahoo, zoho, fastmail";

/// `config`: Kibana's e-mail connector config plus Search Guard Signals'
/// e-mail account. Which fields a `service` needs is in `account_rules`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(description = SERVICE, extend("default" = "other"))]
    pub service: Option<String>,
    /// Default sender, user@host or Name <user@host>; an action may give
    /// its own (params.from), and then this may be left out
    #[schemars(extend("format" = "mailbox"))]
    pub from: Option<String>,
    /// SMTP server, for service other
    #[schemars(extend("format" = "hostname"))]
    pub host: Option<String>,
    pub port: Option<Port>,
    /// Implicit TLS; otherwise STARTTLS when offered. Defaults to port == 465
    pub secure: Option<bool>,
    #[schemars(extend("default" = true))]
    pub has_auth: Option<bool>,
    /// Exchange: directory (tenant) id
    pub tenant_id: Option<String>,
    /// Exchange: application (client) id
    pub client_id: Option<String>,
    /// Exchange token endpoint; default https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token
    // Used by Exchange accounts only; policy_rules checks it then.
    #[schemars(extend("format" = "uri", "x-policy" = "manual"))]
    pub oauth_token_url: Option<String>,
    /// Exchange: Microsoft Graph base URL, for sovereign clouds
    #[schemars(extend("format" = "uri", "default" = GRAPH_URL, "x-policy" = "manual"))]
    pub graph_api_url: Option<String>,
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub default_to: Option<Vec<String>>,
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub default_cc: Option<Vec<String>>,
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub default_bcc: Option<Vec<String>>,
    /// Accept any server certificate (unsafe)
    pub trust_all: Option<bool>,
    /// Accept certificates issued to these names without checking the issuer
    // Certificate names, not places we connect to.
    #[schemars(extend(
        "items" = {"type": "string", "format": "hostname"},
        "x-policy" = "manual"
    ))]
    pub trusted_hosts: Option<Vec<String>>,
    /// PEM CA certificate(s) to trust
    pub ca: Option<String>,
    /// Fail unless the server offers STARTTLS
    pub require_tls: Option<bool>,
    /// Never use STARTTLS
    pub ignore_tls: Option<bool>,
    /// Seconds
    pub session_timeout: Option<Bounded<1, 3600>>,
    /// SMTP connections kept open to the server at most (default 8)
    pub max_connections: Option<Bounded<1, 100>>,
    /// SOCKS proxy
    #[schemars(extend("format" = "hostname"))]
    pub proxy_host: Option<String>,
    pub proxy_port: Option<Port>,
    pub proxy_user: Option<String>,
    /// Log the SMTP conversation
    pub debug: Option<bool>,
    /// Allow params.messageHTML
    pub allow_html: Option<bool>,
    /// Base of the footer link back to Herald's user interface
    // A link printed in mail, never fetched.
    #[schemars(extend("format" = "uri", "x-policy" = "manual"))]
    pub public_base_url: Option<String>,
}

/// `secrets`: SMTP credentials, the Exchange client secret, the proxy's
/// password; which are needed is in `account_rules`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Exchange: client secret
    pub client_secret: Option<Secret>,
    pub proxy_password: Option<Secret>,
}

/// `params`. A recipient may come from the account's `defaultTo`, and
/// `messageHTML` needs `config.allowHtml`: the worker checks both with the
/// account ([`addressing_rules`] for ingest).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub to: Option<Vec<String>>,
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub cc: Option<Vec<String>>,
    #[schemars(length(max = 100), extend("items" = mailbox()))]
    pub bcc: Option<Vec<String>>,
    #[schemars(length(max = 10), extend("items" = mailbox()))]
    pub reply_to: Option<Vec<String>>,
    /// Overrides config.from
    #[schemars(extend("format" = "mailbox"))]
    pub from: Option<String>,
    pub subject: String,
    /// Markdown; also sent as the plain-text part
    pub message: String,
    /// HTML body; needs config.allowHtml
    #[serde(rename = "messageHTML")]
    pub message_html: Option<String>,
    pub kibana_footer_link: Option<FooterLink>,
    pub attachments: Option<Vec<AttachmentParams>>,
    /// Herald extension: the Message-ID this mail answers, <id@host> (SMTP; Microsoft Graph cannot set it)
    pub in_reply_to: Option<String>,
    /// Herald extension: the Message-IDs of the thread, oldest first, each <id@host> (SMTP)
    #[schemars(length(max = 20))]
    pub references: Option<Vec<String>>,
}

// The link back to the user interface under the message, when the
// account has a `publicBaseUrl`. (Not a doc comment: it would become the
// schema's description.)
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FooterLink {
    #[schemars(extend("default" = FOOTER_PATH))]
    pub path: Option<String>,
    #[schemars(extend("default" = FOOTER_TEXT))]
    pub text: Option<String>,
}

/// What the footer link says and where it points when the params do not
/// say: the schema publishes these defaults and the worker applies them.
pub const FOOTER_TEXT: &str = "Go to Herald";
pub const FOOTER_PATH: &str = "/";

// One attachment as the params give it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttachmentParams {
    pub filename: NonEmpty,
    /// base64, unless encoding says otherwise
    pub content: String,
    pub content_type: Option<String>,
    pub encoding: Option<String>,
}

/// One address of a recipient list: `user@host` or `Name <user@host>`.
fn mailbox() -> Value {
    json!({"type": "string", "maxLength": 512, "format": "mailbox"})
}

/// A TCP port, 1 to 65535.
pub type Port = Bounded<1, 65535>;

impl Port {
    pub fn port(self) -> u16 {
        u16::try_from(self.0).expect("a port is at most 65535")
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "email",
        name: "Email",
        worker: WorkerBinary::Email,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules,
        params_rules,
        policy_rules,
        // Kibana renders `message` as Markdown (it becomes the HTML part
        // through a Markdown renderer) and `messageHTML` as HTML; the rest
        // is sent as given.
        param_escape: ParamEscape::Fields(&[
            ("message", Escape::Markdown),
            ("messageHTML", Escape::Html),
        ]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: addressing_rules,
        test_params: Some(|text| serde_json::json!({"subject": "Herald test", "message": text})),
        extras: Extras {
            signals: Some(&SIGNALS),
            alert_params: Some(super::alert::params),
            follow_up: Some(super::alert::follow_up),
            ..Extras::default()
        },
    }
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
/// to, cc, bcc" and "a sender" rules are [`addressing_rules`], which ingest
/// applies with the account (whose `defaultTo` and `from` may supply them).
fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(id) = params.get("inReplyTo").and_then(Value::as_str)
        && !is_message_id(id)
    {
        out.push(join(prefix, "inReplyTo"), MESSAGE_ID);
    }
    let references = params.get("references").and_then(Value::as_array);
    for (index, id) in references.into_iter().flatten().enumerate() {
        if !id.as_str().is_some_and(is_message_id) {
            out.push(join(prefix, &format!("references[{index}]")), MESSAGE_ID);
        }
    }
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
/// `defaultTo`, `defaultCc` or `defaultBcc` in the account's config
/// (reported at `prefix.to`); and a sender: `from` in the params or in the
/// config, as Kibana's guidance allows either (reported at `prefix.from`).
pub fn addressing_rules(
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
    let text = |map: &Map<String, Value>| {
        map.get("from")
            .and_then(Value::as_str)
            .is_some_and(|from| !from.trim().is_empty())
    };
    if !text(params) && !text(config) {
        out.push(
            join(prefix, "from"),
            "no sender: give from, or set config.from on the account",
        );
    }
}

const MESSAGE_ID: &str = "must be a Message-ID: <id@host>";

/// RFC 5322's `msg-id` as mail carries it: `<left@right>`, printable and
/// without spaces or angle brackets inside, so that it cannot break the
/// header it goes into.
pub fn is_message_id(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
        return false;
    };
    text.len() <= 998
        && inner
            .split_once('@')
            .is_some_and(|(left, right)| !left.is_empty() && !right.is_empty())
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>'))
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

/// A Signals e-mail account: SMTP settings by their Signals names.
static SIGNALS: SignalsAccount = SignalsAccount {
    fields: &[
        ("host", SignalsField::Config("host")),
        ("port", SignalsField::Config("port")),
        ("user", SignalsField::Secret("user")),
        ("password", SignalsField::Secret("password")),
        ("enable_tls", SignalsField::Config("secure")),
        ("enable_start_tls", SignalsField::Config("requireTls")),
        ("trusted_hosts", SignalsField::ConfigList("trustedHosts")),
        ("trust_all", SignalsField::Config("trustAll")),
        ("default_from", SignalsField::Config("from")),
        ("default_to", SignalsField::ConfigList("defaultTo")),
        ("default_cc", SignalsField::ConfigList("defaultCc")),
        ("default_bcc", SignalsField::ConfigList("defaultBcc")),
        ("session_timeout", SignalsField::Config("sessionTimeout")),
        ("proxy_host", SignalsField::Config("proxyHost")),
        ("proxy_port", SignalsField::Config("proxyPort")),
        ("proxy_user", SignalsField::Config("proxyUser")),
        ("proxy_password", SignalsField::Secret("proxyPassword")),
        ("debug", SignalsField::Config("debug")),
    ],
    // Without default_from, each action gives its own `from`.
    required: &[],
    finish: Some(signals_auth),
};

/// Signals sends without AUTH when an account has neither `user` nor
/// `password`; Herald's accounts say so with `hasAuth: false`. A secret kept
/// from the stored account (a write through the Signals API) counts as given.
fn signals_auth(t: &mut Translation) {
    if !t.has_secret("user") && !t.has_secret("password") {
        t.config.insert("hasAuth".into(), false.into());
        t.translated
            .push("no user or password -> config.hasAuth = false".into());
    }
}
