//! The account: Kibana's e-mail connector config plus Search Guard Signals'
//! e-mail account, read into the settings of one of two transports, SMTP or
//! Microsoft Graph (`service: exchange_server`).

use std::time::Duration;

use crate::delivery::Account;
use crate::delivery::Outcome;
use crate::delivery::fields::{Fields, Secret};
use herald_catalog::email::well_known_service;
use serde_json::Value;

use super::smtp::tls::TlsOptions;

/// Used when `config.sessionTimeout` is not set: nodemailer's socket
/// timeout is 60 s too.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections kept open per account when `config.maxConnections` is not
/// set (nodemailer's pool has 5, lettre's 10).
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;
const LOGIN_URL: &str = "https://login.microsoftonline.com";
const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";

#[derive(Debug)]
pub struct EmailAccount {
    pub from: String,
    pub default_to: Vec<String>,
    pub default_cc: Vec<String>,
    pub default_bcc: Vec<String>,
    pub allow_html: bool,
    pub public_base_url: Option<String>,
    pub transport: Transport,
}

#[derive(Debug)]
pub enum Transport {
    Smtp(SmtpSettings),
    Graph(GraphSettings),
}

/// How the session is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`secure: true`, usually port 465).
    Implicit,
    /// STARTTLS when offered; `required` (`requireTls`) fails without it.
    StartTls { required: bool },
    /// Never TLS (`ignoreTls`).
    Plain,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Socks5Proxy {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, Secret)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, Secret)>,
    pub tls: TlsOptions,
    pub timeout: Duration,
    pub proxy: Option<Socks5Proxy>,
    pub debug: bool,
    pub max_connections: usize,
}

impl SmtpSettings {
    /// `host:port`, as reasons name the server.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphSettings {
    pub token_url: String,
    pub graph_url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

fn strings(fields: &Fields<'_>, name: &str) -> Result<Vec<String>, Outcome> {
    let Some(items) = fields.array(name)? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(text) => Ok(text.trim().to_owned()),
            _ => Err(fields.refuse(&format!("{name}[{index}]"), "must be a string")),
        })
        .filter(|item| !matches!(item, Ok(text) if text.is_empty()))
        .collect()
}

fn flag(
    fields: &Fields<'_>,
    map: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<bool>, Outcome> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(fields.refuse(name, "must be true or false")),
    }
}

fn number(
    fields: &Fields<'_>,
    map: &serde_json::Map<String, Value>,
    name: &str,
    max: u64,
) -> Result<Option<u64>, Outcome> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(fields.refuse(name, &format!("must be a whole number from 1 to {max}"))),
        },
    }
}

impl EmailAccount {
    pub fn parse(account: &Account) -> Result<EmailAccount, Outcome> {
        let map = &account.config;
        let config = Fields::config(map);
        let secrets = Fields::secrets(&account.secrets);
        let service = config.str("service")?.unwrap_or("other");
        let from = config.required_str("from")?.to_owned();
        let transport = if service == "exchange_server" {
            let tenant = config.required_str("tenantId")?;
            let token_url = match config.str("oauthTokenUrl")?.filter(|u| !u.is_empty()) {
                Some(url) => url.to_owned(),
                None => format!("{LOGIN_URL}/{tenant}/oauth2/v2.0/token"),
            };
            let graph_url = config
                .str("graphApiUrl")?
                .filter(|u| !u.is_empty())
                .unwrap_or(GRAPH_URL);
            config.url("oauthTokenUrl", &token_url)?;
            config.url("graphApiUrl", graph_url)?;
            Transport::Graph(GraphSettings {
                token_url,
                graph_url: graph_url.trim_end_matches('/').to_owned(),
                client_id: config.required_str("clientId")?.to_owned(),
                client_secret: Secret::new(secrets.required_str("clientSecret")?),
            })
        } else {
            Transport::Smtp(smtp_settings(service, map, &config, &secrets)?)
        };
        Ok(EmailAccount {
            from,
            default_to: strings(&config, "defaultTo")?,
            default_cc: strings(&config, "defaultCc")?,
            default_bcc: strings(&config, "defaultBcc")?,
            allow_html: flag(&config, map, "allowHtml")?.unwrap_or(false),
            public_base_url: config
                .str("publicBaseUrl")?
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
            transport,
        })
    }
}

fn smtp_settings(
    service: &str,
    map: &serde_json::Map<String, Value>,
    config: &Fields<'_>,
    secrets: &Fields<'_>,
) -> Result<SmtpSettings, Outcome> {
    // A well-known service fixes host, port and secure; the account's own
    // are ignored, as in Kibana.
    let (host, port, secure) = match service {
        "other" => {
            let host = config.required_str("host")?.to_owned();
            let port = number(config, map, "port", 65535)?
                .ok_or_else(|| config.refuse("port", "required when service is other"))?
                as u16;
            let secure = flag(config, map, "secure")?.unwrap_or(port == 465);
            (host, port, secure)
        }
        // Kibana's Elastic Cloud relay.
        "elastic_cloud" => ("dockerhost".to_owned(), 10025, false),
        name => {
            let endpoint = well_known_service(name).ok_or_else(|| {
                config.refuse(
                    "service",
                    "is not other, exchange_server, elastic_cloud or a well-known service",
                )
            })?;
            (endpoint.host.to_owned(), endpoint.port, endpoint.secure)
        }
    };
    let security = if secure {
        Security::Implicit
    } else if flag(config, map, "ignoreTls")?.unwrap_or(false) {
        Security::Plain
    } else {
        Security::StartTls {
            required: flag(config, map, "requireTls")?.unwrap_or(false),
        }
    };
    let credentials = if flag(config, map, "hasAuth")?.unwrap_or(true) {
        Some((
            secrets.required_str("user")?.to_owned(),
            Secret::new(secrets.required_str("password")?),
        ))
    } else {
        None
    };
    let proxy = match config.str("proxyHost")?.filter(|h| !h.is_empty()) {
        None => None,
        Some(proxy_host) => Some(Socks5Proxy {
            host: proxy_host.to_owned(),
            port: number(config, map, "proxyPort", 65535)?.unwrap_or(1080) as u16,
            credentials: match config.str("proxyUser")?.filter(|u| !u.is_empty()) {
                None => None,
                Some(user) => Some((
                    user.to_owned(),
                    Secret::new(secrets.required_str("proxyPassword")?),
                )),
            },
        }),
    };
    let mut tls = TlsOptions {
        ca: config
            .str("ca")?
            .filter(|c| !c.trim().is_empty())
            .map(str::to_owned),
        trust_all: flag(config, map, "trustAll")?.unwrap_or(false),
        trusted_hosts: strings(config, "trustedHosts")?,
    };
    // Kibana's rule for relays (PR #91760): opportunistic STARTTLS without
    // credentials does not check the certificate, since it protects nothing
    // an admin configured and self-signed relays are common.
    if security == (Security::StartTls { required: false })
        && credentials.is_none()
        && tls == TlsOptions::default()
    {
        tls.trust_all = true;
    }
    Ok(SmtpSettings {
        host,
        port,
        security,
        credentials,
        tls,
        timeout: number(config, map, "sessionTimeout", 3600)?
            .map_or(DEFAULT_SESSION_TIMEOUT, Duration::from_secs),
        proxy,
        debug: flag(config, map, "debug")?.unwrap_or(false),
        max_connections: number(config, map, "maxConnections", 100)?
            .map_or(DEFAULT_MAX_CONNECTIONS, |n| n as usize),
    })
}
