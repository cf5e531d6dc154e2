//! `HERALD_CONFIG`, the operator's YAML file: read-only (preconfigured)
//! accounts, the delivery policy and delivery settings. Every binary reads it
//! once at start; an unknown key or a bad value stops the binary with a
//! message naming it, rather than running with a setting silently ignored.

mod duration;
pub mod env;
mod secret_ref;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_catalog::account::{self, AccountId};
use herald_catalog::{Policy, SecretMap};
use herald_connectors::catalog;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use duration::parse_duration;
pub use env::EnvError;

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
}

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
    let raw: RawConfig = if text.trim().is_empty() {
        serde_yaml_ng::from_str("{}")
    } else {
        serde_yaml_ng::from_str(text)
    }
    .map_err(|e| ("yaml".to_owned(), e.to_string()))?;

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
    })
}

#[cfg(test)]
mod tests;
