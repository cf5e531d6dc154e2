//! `outbound:`: how workers reach vendors, for every account at once
//! (Kibana's `xpack.actions` proxy, ssl, timeout and size settings, and its
//! `customHostSettings` for one host). An account's own `proxyUrl`, `ca` or
//! `verificationMode` still wins over these.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Kibana's `verificationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMode {
    /// The chain to a trusted root and the host name.
    Full,
    /// The chain only: any host name is accepted.
    Certificate,
    /// Nothing: any certificate is accepted.
    None,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboundConfig {
    /// The whole exchange, connect to last byte (Kibana's `responseTimeout`);
    /// `None` keeps each worker's default.
    pub response_timeout: Option<Duration>,
    /// Larger answers fail the send (Kibana's `maxResponseContentLength`).
    pub max_response_bytes: Option<u64>,
    /// For every TLS connection without settings of its own.
    pub verification_mode: Option<VerificationMode>,
    pub proxy: Option<ProxyConfig>,
    /// Settings for one origin, first match wins.
    pub custom_hosts: Vec<CustomHost>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// `http://`, `https://` or `socks5h://`.
    pub url: String,
    /// Hosts reached directly; every other host goes through the proxy.
    #[serde(default)]
    pub bypass_hosts: Vec<String>,
    /// Only these hosts go through the proxy. At most one of the two lists.
    #[serde(default)]
    pub only_hosts: Vec<String>,
    /// Sent to the proxy (CONNECT and plain requests), never to the vendor.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Of the proxy's own certificate, for an `https://` proxy.
    pub verification_mode: Option<VerificationMode>,
}

/// Kibana's `customHostSettings` entry, read: the file's CA files are
/// loaded, so a missing file stops the binary at start.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomHost {
    /// The origin as written (`smtp://mail.example.com:465`,
    /// `https://hooks.example.com`).
    pub url: String,
    pub scheme: String,
    /// Lower case, no brackets around IPv6.
    pub host: String,
    /// The scheme's default when not written (443, 80, 25).
    pub port: u16,
    pub smtp_ignore_tls: Option<bool>,
    pub smtp_require_tls: Option<bool>,
    pub verification_mode: Option<VerificationMode>,
    /// PEM, from `certificateAuthoritiesData` and each file.
    pub certificate_authorities: Vec<String>,
}

impl OutboundConfig {
    /// The settings for `scheme://host:port`, if an entry names it.
    pub fn custom_host(&self, scheme: &str, host: &str, port: u16) -> Option<&CustomHost> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.custom_hosts.iter().find(|custom| {
            custom.scheme.eq_ignore_ascii_case(scheme)
                && custom.host.eq_ignore_ascii_case(host)
                && custom.port == port
        })
    }
}

/// As the file gives it; Kibana's camelCase names are accepted too.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutbound {
    #[serde(default, deserialize_with = "optional_duration")]
    response_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "optional_size")]
    max_response_bytes: Option<u64>,
    verification_mode: Option<VerificationMode>,
    proxy: Option<ProxyConfig>,
    #[serde(default)]
    custom_hosts: Vec<RawCustomHost>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustomHost {
    url: String,
    smtp: Option<RawSmtp>,
    ssl: Option<RawSsl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    #[serde(alias = "ignoreTLS")]
    ignore_tls: Option<bool>,
    #[serde(alias = "requireTLS")]
    require_tls: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsl {
    #[serde(alias = "verificationMode")]
    verification_mode: Option<VerificationMode>,
    #[serde(
        default,
        alias = "certificateAuthoritiesFiles",
        deserialize_with = "one_or_many"
    )]
    certificate_authorities_files: Vec<PathBuf>,
    #[serde(alias = "certificateAuthoritiesData")]
    certificate_authorities_data: Option<String>,
}

impl RawOutbound {
    /// Checks the settings and reads the CA files. The error is (field,
    /// message), the field under `outbound`.
    pub(crate) fn read(self) -> Result<OutboundConfig, (String, String)> {
        if let Some(proxy) = &self.proxy {
            let scheme = proxy.url.split_once("://").map(|(scheme, _)| scheme);
            if !matches!(scheme, Some("http" | "https" | "socks5h" | "socks5")) {
                return Err((
                    "outbound.proxy.url".into(),
                    "must be an http://, https:// or socks5h:// URL".into(),
                ));
            }
            if !proxy.bypass_hosts.is_empty() && !proxy.only_hosts.is_empty() {
                return Err((
                    "outbound.proxy".into(),
                    "give bypass_hosts or only_hosts (proxyBypassHosts or proxyOnlyHosts), not both"
                        .into(),
                ));
            }
        }
        if self.response_timeout.is_some_and(|t| t.is_zero()) {
            return Err(("outbound.response_timeout".into(), "must be above 0".into()));
        }
        if self.max_response_bytes == Some(0) {
            return Err((
                "outbound.max_response_bytes".into(),
                "must be above 0".into(),
            ));
        }
        let mut custom_hosts = Vec::with_capacity(self.custom_hosts.len());
        for (index, raw) in self.custom_hosts.into_iter().enumerate() {
            let at = format!("outbound.custom_hosts[{index}]");
            custom_hosts.push(raw.read(&at)?);
        }
        Ok(OutboundConfig {
            response_timeout: self.response_timeout,
            max_response_bytes: self.max_response_bytes,
            verification_mode: self.verification_mode,
            proxy: self.proxy,
            custom_hosts,
        })
    }
}

impl RawCustomHost {
    fn read(self, at: &str) -> Result<CustomHost, (String, String)> {
        let bad_url = || {
            (
                format!("{at}.url"),
                "must be an origin such as smtp://mail.example.com:465 or https://hooks.example.com"
                    .to_owned(),
            )
        };
        let url = url::Url::parse(&self.url).map_err(|_| bad_url())?;
        let scheme = url.scheme().to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            "smtp" => 25,
            _ => return Err(bad_url()),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(bad_url)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let smtp = self.smtp.unwrap_or(RawSmtp {
            ignore_tls: None,
            require_tls: None,
        });
        if smtp.ignore_tls == Some(true) && smtp.require_tls == Some(true) {
            return Err((
                format!("{at}.smtp"),
                "ignoreTLS and requireTLS cannot both be true".into(),
            ));
        }
        let mut certificate_authorities = Vec::new();
        let mut verification_mode = None;
        if let Some(ssl) = self.ssl {
            verification_mode = ssl.verification_mode;
            if let Some(data) = ssl.certificate_authorities_data {
                certificate_authorities.push(data);
            }
            for (i, file) in ssl.certificate_authorities_files.iter().enumerate() {
                let field = format!("{at}.ssl.certificate_authorities_files[{i}]");
                let pem = std::fs::read_to_string(file).map_err(|e| {
                    (
                        field.clone(),
                        format!("cannot read {}: {e}", file.display()),
                    )
                })?;
                certificate_authorities.push(pem);
            }
            for pem in &certificate_authorities {
                if !pem.contains("-----BEGIN ") {
                    return Err((
                        format!("{at}.ssl"),
                        "certificate authorities must be PEM (-----BEGIN CERTIFICATE----- ...)"
                            .into(),
                    ));
                }
            }
        }
        Ok(CustomHost {
            url: self.url,
            port: url.port().unwrap_or(default_port),
            scheme,
            host,
            smtp_ignore_tls: smtp.ignore_tls,
            smtp_require_tls: smtp.require_tls,
            verification_mode,
            certificate_authorities,
        })
    }
}

fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    crate::parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A byte count, or Kibana's byte size text (`1mb`, `512kb`, `1gb`, `100b`).
fn optional_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => Ok(Some(n)),
        Size::Text(text) => parse_size(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let unit = match unit.trim() {
        "" | "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        "gb" => 1024 * 1024 * 1024,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|_| unit > 0)
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| format!("`{text}` is not a size such as 1048576, 512kb or 1mb"))
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    })
}
