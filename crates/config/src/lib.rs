//! `HERALD_CONFIG`, the operator's YAML file: read-only (preconfigured)
//! accounts, the delivery policy and delivery settings. Every binary reads it
//! once at start; an unknown key or a bad value stops the binary with a
//! message naming it, rather than running with a setting silently ignored.

mod duration;
pub mod env;
pub mod kibana;
pub mod outbound;
pub mod routes;
mod secret_ref;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_catalog::account::{self, AccountId};
use herald_catalog::{Policy, SecretMap};
use herald_connectors::catalog;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use duration::{format_duration, parse_duration};
pub use env::EnvError;
pub use outbound::{CustomHost, OutboundConfig, ProxyConfig, VerificationMode};
pub use routes::{Grouping, RouteActionDocument, RouteDocument};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("HERALD_CONFIG {path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("HERALD_CONFIG {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Everything `HERALD_CONFIG` holds, validated as far as it can be without
/// the registry (account documents are checked against the catalog by the
/// registry at start).
#[derive(Debug, Clone, Default)]
pub struct HeraldConfig {
    pub preconfigured: Vec<PreconfiguredAccount>,
    pub policy: Policy,
    pub delivery: DeliveryPolicy,
    pub outbound: OutboundConfig,
    /// Where Herald's user interface is reached (Kibana's
    /// `server.publicBaseUrl`): the link of an e-mail's footer when its
    /// account sets no `publicBaseUrl` of its own.
    pub public_base_url: Option<String>,
    /// Read-only routes (`routes:`), checked here as far as they can be
    /// without the accounts; the registry checks them against those at start.
    pub routes: Vec<RouteDocument>,
}

/// Kibana's preconfigured alert history index connector, by its id.
pub const ALERT_HISTORY_ID: &str = "preconfigured-alert-history-es-index";
pub const ALERT_HISTORY_NAME: &str = "Alert history Elasticsearch index";
pub const ALERT_HISTORY_PREFIX: &str = "kibana-alert-history-";
pub const ALERT_HISTORY_DEFAULT_INDEX: &str = "kibana-alert-history-default";

/// A read-only account defined in the file. Its secrets are already resolved
/// from `${ENV}` and `file:` references, which is why they are a
/// [`SecretMap`].
#[derive(Debug, Clone)]
pub struct PreconfiguredAccount {
    pub id: AccountId,
    pub name: String,
    /// The canonical type id (`slack`, never `.slack`).
    pub connector_type: String,
    pub config: Map<String, Value>,
    pub secrets: SecretMap,
    /// Kibana's `exposeConfig`: whether readers without secrets see `config`.
    pub expose_config: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPolicy {
    /// Attempts before an action fails for good.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default)]
    pub backoff: Backoff,
    /// Per account, keyed by connector type.
    #[serde(default)]
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// Deliveries of one account in flight at once in one worker process:
    /// a slow or stuck vendor account takes at most this many of the
    /// worker's slots, and the others keep theirs. `None`: a quarter of the
    /// worker's concurrency (64 of 256), which one fast account rarely
    /// needs more of.
    #[serde(default)]
    pub max_in_flight_per_account: Option<u32>,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            max_attempts: default_max_attempts(),
            backoff: Backoff::default(),
            rate_limits: BTreeMap::new(),
            max_in_flight_per_account: None,
        }
    }
}

fn default_max_attempts() -> u32 {
    5
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    #[serde(default = "default_initial", with = "duration::serde_text")]
    pub initial: Duration,
    #[serde(default = "default_max", with = "duration::serde_text")]
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: default_initial(),
            max: default_max(),
        }
    }
}

fn default_initial() -> Duration {
    Duration::from_secs(1)
}
fn default_max() -> Duration {
    Duration::from_secs(300)
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained sends per second; 0 turns the limit off.
    pub per_second: f64,
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_burst() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    // Kibana's key is accepted so a kibana.yml section can be pasted whole.
    #[serde(default, alias = "xpack.actions.preconfigured")]
    preconfigured: BTreeMap<String, RawAccount>,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    delivery: DeliveryPolicy,
    #[serde(default)]
    outbound: outbound::RawOutbound,
    public_base_url: Option<String>,
    preconfigured_alert_history: Option<AlertHistory>,
    #[serde(default)]
    routes: BTreeMap<String, RouteDocument>,
}

/// `preconfigured_alert_history`: where the alert history account writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertHistory {
    /// Elasticsearch; the index connector's default when left out.
    url: Option<String>,
    #[serde(default = "default_alert_history_index")]
    index: String,
    /// The index connector's secrets (`apiKey`, or `username` and
    /// `password`), `${ENV}` and `file:` references allowed.
    #[serde(default)]
    secrets: Map<String, Value>,
}

fn default_alert_history_index() -> String {
    ALERT_HISTORY_DEFAULT_INDEX.to_owned()
}

/// Both the contract's shape and Kibana's `xpack.actions.preconfigured` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    name: String,
    #[serde(alias = "actionTypeId")]
    connector_type: String,
    #[serde(default)]
    config: Option<Map<String, Value>>,
    #[serde(default)]
    secrets: Option<Map<String, Value>>,
    #[serde(default, alias = "exposeConfig")]
    expose_config: bool,
}

/// Reads the file named by `HERALD_CONFIG`; no variable means defaults.
pub fn from_env() -> Result<HeraldConfig, ConfigError> {
    match std::env::var_os("HERALD_CONFIG") {
        Some(path) if !path.is_empty() => load(Path::new(&path), &|name| std::env::var(name).ok()),
        _ => Ok(HeraldConfig::default()),
    }
}

/// `env` looks up the variables that `${NAME}` secret references name.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HeraldConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, env).map_err(|(field, message)| ConfigError::Invalid {
        path: format!("{}: {field}", path.display()),
        message,
    })
}

/// Parses and checks the YAML text. The error is (field path, message).
pub fn parse(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HeraldConfig, (String, String)> {
    // An empty file is a valid, all-defaults configuration.
    let text = if text.trim().is_empty() { "{}" } else { text };
    let yaml = |e: serde_yaml_ng::Error| ("yaml".to_owned(), e.to_string());
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(yaml)?;
    // Read from the text when nothing moved, so errors keep their line.
    let raw: RawConfig = if kibana::translate(&mut value)? {
        serde_yaml_ng::from_value(value).map_err(yaml)?
    } else {
        serde_yaml_ng::from_str(text).map_err(yaml)?
    };

    let mut preconfigured = Vec::with_capacity(raw.preconfigured.len());
    for (id, account) in raw.preconfigured {
        // Escaped: the key may hold anything, a line break included.
        let id = AccountId::parse(id.as_str())
            .map_err(|problem| ("preconfigured".to_owned(), format!("id {id:?}: {problem}")))?;
        let at = format!("preconfigured.{id}");
        if let Some(problem) = account::name_problem(&account.name) {
            return Err((format!("{at}.name"), problem));
        }
        let spec = catalog().get(&account.connector_type).ok_or_else(|| {
            (
                format!("{at}.connector_type"),
                format!("unknown connector type {}", account.connector_type),
            )
        })?;
        let mut secrets = account.secrets.unwrap_or_default();
        for (field, value) in secrets.iter_mut() {
            secret_ref::resolve(value, env)
                .map_err(|message| (format!("{at}.secrets.{field}"), message))?;
        }
        preconfigured.push(PreconfiguredAccount {
            id,
            name: account.name,
            connector_type: spec.id.to_owned(),
            config: account.config.unwrap_or_default(),
            secrets: SecretMap(secrets),
            expose_config: account.expose_config,
        });
    }

    if let Some(history) = raw.preconfigured_alert_history {
        preconfigured.push(alert_history(history, &preconfigured, env)?);
    }
    if let Some(url) = &raw.public_base_url
        && herald_catalog::schema::url_host(url).is_none()
    {
        return Err((
            "public_base_url".into(),
            "must be an absolute http(s) URL".into(),
        ));
    }
    let outbound = raw.outbound.read()?;
    let routes = routes::read(raw.routes)?;

    for pattern in &raw.policy.enabled_connector_types {
        if pattern != "*" && catalog().get(pattern).is_none() {
            return Err((
                "policy.enabled_connector_types".into(),
                format!("unknown connector type {pattern}"),
            ));
        }
    }
    let delivery = raw.delivery;
    if delivery.max_attempts == 0 {
        return Err(("delivery.max_attempts".into(), "must be at least 1".into()));
    }
    if delivery.max_in_flight_per_account == Some(0) {
        return Err((
            "delivery.max_in_flight_per_account".into(),
            "must be at least 1".into(),
        ));
    }
    if delivery.backoff.initial.is_zero() || delivery.backoff.initial > delivery.backoff.max {
        return Err((
            "delivery.backoff".into(),
            "initial must be above 0 and at most max".into(),
        ));
    }
    for (connector_type, limit) in &delivery.rate_limits {
        let at = format!("delivery.rate_limits.{connector_type}");
        if catalog().get(connector_type).is_none() {
            return Err((at, format!("unknown connector type {connector_type}")));
        }
        if !(limit.per_second.is_finite() && limit.per_second >= 0.0) {
            return Err((format!("{at}.per_second"), "must be 0 or more".into()));
        }
        if limit.burst == 0 {
            return Err((format!("{at}.burst"), "must be at least 1".into()));
        }
    }

    Ok(HeraldConfig {
        preconfigured,
        policy: raw.policy,
        delivery,
        outbound,
        public_base_url: raw.public_base_url,
        routes,
    })
}

/// The read-only `index` account Kibana calls the alert history connector.
fn alert_history(
    history: AlertHistory,
    preconfigured: &[PreconfiguredAccount],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PreconfiguredAccount, (String, String)> {
    let at = "preconfigured_alert_history";
    if !history.index.starts_with(ALERT_HISTORY_PREFIX) || history.index == ALERT_HISTORY_PREFIX {
        return Err((
            format!("{at}.index"),
            format!(
                "must start with {ALERT_HISTORY_PREFIX}, as Kibana's alert history index template expects"
            ),
        ));
    }
    if preconfigured
        .iter()
        .any(|a| a.id.as_str() == ALERT_HISTORY_ID)
    {
        return Err((
            format!("preconfigured.{ALERT_HISTORY_ID}"),
            format!("is the alert history account's id; remove it or {at}"),
        ));
    }
    let mut config = Map::new();
    config.insert("index".into(), history.index.into());
    if let Some(url) = history.url {
        config.insert("url".into(), url.into());
    }
    let mut secrets = history.secrets;
    for (field, value) in secrets.iter_mut() {
        secret_ref::resolve(value, env)
            .map_err(|message| (format!("{at}.secrets.{field}"), message))?;
    }
    Ok(PreconfiguredAccount {
        id: AccountId::parse(ALERT_HISTORY_ID).expect("a valid id"),
        name: ALERT_HISTORY_NAME.to_owned(),
        connector_type: "index".to_owned(),
        config,
        secrets: SecretMap(secrets),
        expose_config: true,
    })
}

#[cfg(test)]
mod tests;
