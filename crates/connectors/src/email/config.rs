//! The account: Kibana's e-mail connector config plus Search Guard Signals'
//! e-mail account, read into the settings of one of two transports, SMTP or
//! Microsoft Graph (`service: exchange_server`).

use std::time::Duration;

use crate::delivery::fields::Fields;
use crate::delivery::http::{OutboundSettings, Verification};
use crate::delivery::{Account, Outcome, typed};
use herald_catalog::Secret;
use herald_catalog::email::well_known_service;

use super::smtp::tls::TlsOptions;
use super::spec::{Config, GRAPH_URL, LOGIN_URL, Secrets};

/// Used when `config.sessionTimeout` is not set: nodemailer's socket
/// timeout is 60 s too.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections kept open per account when `config.maxConnections` is not
/// set (nodemailer's pool has 5, lettre's 10).
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

#[derive(Debug)]
pub struct EmailAccount {
    /// The default sender; an action without one must give `from`.
    pub from: Option<String>,
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
    /// The operator's settings over the account's, as Kibana applies them:
    /// the `customHostSettings` entry of `smtp://host:port` (its
    /// `smtp.ignoreTLS` / `smtp.requireTLS` replace the account's; with
    /// implicit TLS they change nothing), then the check of the
    /// certificate: the account's `trustAll` or `trustedHosts` if it has
    /// them, else the entry's `ssl.verificationMode`, else
    /// `ssl.verificationMode`; the entry's certificate authorities are
    /// trusted besides the system's and `config.ca`.
    pub fn apply_outbound(&mut self, outbound: &OutboundSettings) {
        let custom = outbound
            .custom_host("smtp", &self.host, self.port)
            .map(|(_, custom)| custom);
        if let Some(custom) = custom
            && self.security != Security::Implicit
        {
            let mut ignore = self.security == Security::Plain;
            let mut require = self.security == (Security::StartTls { required: true });
            if let Some(value) = custom.smtp_ignore_tls {
                ignore = value;
            }
            if let Some(value) = custom.smtp_require_tls {
                require = value;
                ignore = ignore && !value;
            }
            self.security = if ignore {
                Security::Plain
            } else {
                Security::StartTls { required: require }
            };
        }
        if self.tls.trust_all || !self.tls.trusted_hosts.is_empty() {
            return;
        }
        // Kibana's rule for relays (PR #91760): opportunistic STARTTLS
        // without credentials does not check the certificate, since it
        // protects nothing an admin configured and self-signed relays are
        // common. A host entry's own mode still applies.
        let relay = self.security == (Security::StartTls { required: false })
            && self.credentials.is_none()
            && self.tls.ca.is_none();
        self.tls.verification = if relay {
            Verification::None
        } else {
            outbound.verification
        };
        if let Some(custom) = custom {
            if let Some(mode) = custom.verification {
                self.tls.verification = mode;
            }
            self.tls.host_ca = custom.certificate_authorities.clone();
        }
    }

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

/// A list's entries, trimmed, the blank ones left out.
fn listed(items: &Option<Vec<String>>) -> Vec<String> {
    items
        .iter()
        .flatten()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// A field the transport needs: given (not null) and not empty.
fn needed<'a>(fields: &Fields<'_>, name: &str, value: Option<&'a str>) -> Result<&'a str, Outcome> {
    match value {
        None => Err(fields.refuse(name, "required")),
        Some("") => Err(fields.refuse(name, "must not be empty")),
        Some(text) => Ok(text),
    }
}

/// A secret the transport needs: given (not null) and not empty.
fn needed_secret(
    fields: &Fields<'_>,
    name: &str,
    value: &Option<Secret>,
) -> Result<Secret, Outcome> {
    needed(fields, name, value.as_ref().map(Secret::expose)).map(Secret::new)
}

/// An optional text field, `""` counting as not given (Kibana leaves
/// optional fields as `""`).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}

impl EmailAccount {
    /// The account read into [`Config`] and [`Secrets`], then into the
    /// settings of its transport: what each `service` needs is checked here
    /// as well as in the spec's account rules.
    pub fn parse(account: &Account) -> Result<EmailAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let fields = Fields::config(&account.config);
        let secret_fields = Fields::secrets(&account.secrets);
        let service = config.service.as_deref().unwrap_or("other");
        let transport = if service == "exchange_server" {
            let tenant = needed(&fields, "tenantId", config.tenant_id.as_deref())?;
            let token_url = match given(&config.oauth_token_url) {
                Some(url) => url.to_owned(),
                None => format!("{LOGIN_URL}/{tenant}/oauth2/v2.0/token"),
            };
            let graph_url = given(&config.graph_api_url).unwrap_or(GRAPH_URL);
            fields.url("oauthTokenUrl", &token_url)?;
            fields.url("graphApiUrl", graph_url)?;
            Transport::Graph(GraphSettings {
                token_url,
                graph_url: graph_url.trim_end_matches('/').to_owned(),
                client_id: needed(&fields, "clientId", config.client_id.as_deref())?.to_owned(),
                client_secret: needed_secret(
                    &secret_fields,
                    "clientSecret",
                    &secrets.client_secret,
                )?,
            })
        } else {
            Transport::Smtp(smtp_settings(
                service,
                &config,
                &secrets,
                &fields,
                &secret_fields,
            )?)
        };
        Ok(EmailAccount {
            from: given(&config.from).map(str::to_owned),
            default_to: listed(&config.default_to),
            default_cc: listed(&config.default_cc),
            default_bcc: listed(&config.default_bcc),
            allow_html: config.allow_html.unwrap_or(false),
            public_base_url: given(&config.public_base_url).map(str::to_owned),
            transport,
        })
    }
}

fn smtp_settings(
    service: &str,
    config: &Config,
    secrets: &Secrets,
    fields: &Fields<'_>,
    secret_fields: &Fields<'_>,
) -> Result<SmtpSettings, Outcome> {
    // A well-known service fixes host, port and secure; the account's own
    // are ignored, as in Kibana.
    let (host, port, secure) = match service {
        "other" => {
            let host = needed(fields, "host", config.host.as_deref())?.to_owned();
            let port = config
                .port
                .ok_or_else(|| fields.refuse("port", "required when service is other"))?
                .port();
            let secure = config.secure.unwrap_or(port == 465);
            (host, port, secure)
        }
        // Kibana's Elastic Cloud relay.
        "elastic_cloud" => ("dockerhost".to_owned(), 10025, false),
        name => {
            let endpoint = well_known_service(name).ok_or_else(|| {
                fields.refuse(
                    "service",
                    "is not other, exchange_server, elastic_cloud or a well-known service",
                )
            })?;
            (endpoint.host.to_owned(), endpoint.port, endpoint.secure)
        }
    };
    let security = if secure {
        Security::Implicit
    } else if config.ignore_tls.unwrap_or(false) {
        Security::Plain
    } else {
        Security::StartTls {
            required: config.require_tls.unwrap_or(false),
        }
    };
    let credentials = if config.has_auth.unwrap_or(true) {
        Some((
            needed(secret_fields, "user", secrets.user.as_deref())?.to_owned(),
            needed_secret(secret_fields, "password", &secrets.password)?,
        ))
    } else {
        None
    };
    let proxy = match given(&config.proxy_host) {
        None => None,
        Some(proxy_host) => Some(Socks5Proxy {
            host: proxy_host.to_owned(),
            port: config.proxy_port.map_or(1080, |port| port.port()),
            credentials: match given(&config.proxy_user) {
                None => None,
                Some(user) => Some((
                    user.to_owned(),
                    needed_secret(secret_fields, "proxyPassword", &secrets.proxy_password)?,
                )),
            },
        }),
    };
    let tls = TlsOptions {
        ca: config
            .ca
            .as_deref()
            .filter(|ca| !ca.trim().is_empty())
            .map(str::to_owned),
        trust_all: config.trust_all.unwrap_or(false),
        trusted_hosts: listed(&config.trusted_hosts),
        ..TlsOptions::default()
    };
    Ok(SmtpSettings {
        host,
        port,
        security,
        credentials,
        tls,
        timeout: config
            .session_timeout
            .map_or(DEFAULT_SESSION_TIMEOUT, |seconds| {
                Duration::from_secs(seconds.get())
            }),
        proxy,
        debug: config.debug.unwrap_or(false),
        max_connections: config
            .max_connections
            .map_or(DEFAULT_MAX_CONNECTIONS, |n| n.get() as usize),
    })
}
