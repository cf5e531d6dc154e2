//! The registry's settings, from the environment (names in CONTRACT.md).

use std::net::SocketAddr;

use herald_catalog::Secret;
use herald_config::{ConfigError, EnvError, HeraldConfig};
use herald_proto::auth::TokenError;
use herald_tls::{ClientTls, ServerTls, TlsError};

use crate::auth::Tokens;
use crate::execute::{DEFAULT_INGEST_URL, DEFAULT_TIMEOUT, ExecuteSettings};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://herald-data/registry.db";

#[derive(Debug, Clone)]
pub struct Settings {
    /// HERALD_REGISTRY_ADDR
    pub listen: SocketAddr,
    /// HERALD_REGISTRY_HTTP_ADDR: the REST listener; `None` serves none.
    pub http_listen: Option<SocketAddr>,
    /// HERALD_DATABASE_URL
    pub database_url: String,
    /// HERALD_MASTER_KEY: comma-separated base64 keys, current first.
    pub master_key: Secret,
    /// HERALD_ADMIN_TOKEN, HERALD_PRODUCER_TOKEN, HERALD_SERVICE_TOKEN
    pub tokens: Tokens,
    /// HERALD_CONFIG
    pub config: HeraldConfig,
    /// HERALD_NATS_URL; `None` runs without announcing changes.
    pub nats_url: Option<String>,
    /// HERALD_SUBJECT_PREFIX
    pub subject_prefix: String,
    /// HERALD_METRICS_ADDR: where `/metrics`, `/healthz` and `/readyz` are
    /// served (plain HTTP); `None` serves none.
    pub metrics_addr: Option<SocketAddr>,
    /// HERALD_TLS_CERT_FILE, HERALD_TLS_KEY_FILE, HERALD_TLS_CLIENT_CA_FILE;
    /// `None` serves plain TCP.
    pub tls: Option<ServerTls>,
    /// HERALD_INGEST_URL, HERALD_EXECUTE_TIMEOUT and the client TLS
    /// variables: how Kibana's `_execute` reaches ingest.
    pub execute: ExecuteSettings,
    /// HERALD_HISTORY_TTL: how long delivery history is kept.
    pub history: crate::history::HistorySettings,
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        let listen = herald_config::env::addr("HERALD_REGISTRY_ADDR", Some("127.0.0.1:50051"))?;
        Ok(Settings {
            listen: listen.expect("a default is given"),
            http_listen: herald_config::env::addr(
                "HERALD_REGISTRY_HTTP_ADDR",
                Some("127.0.0.1:8081"),
            )?,
            database_url: var("HERALD_DATABASE_URL", DEFAULT_DATABASE_URL),
            master_key: Secret::new(std::env::var("HERALD_MASTER_KEY").unwrap_or_default()),
            tokens: Tokens::from_env()?,
            config: herald_config::from_env()?,
            nats_url: Some(var("HERALD_NATS_URL", "nats://127.0.0.1:4222")),
            subject_prefix: var("HERALD_SUBJECT_PREFIX", "herald"),
            metrics_addr: herald_config::env::metrics_addr(Some("127.0.0.1:9101"))?,
            tls: ServerTls::from_env()?,
            execute: ExecuteSettings {
                ingest_url: var("HERALD_INGEST_URL", DEFAULT_INGEST_URL),
                tls: ClientTls::from_env()?,
                timeout: execute_timeout()?,
            },
            history: crate::history::HistorySettings {
                ttl: herald_config::env::duration("HERALD_HISTORY_TTL")?
                    .unwrap_or(crate::history::DEFAULT_TTL),
                enabled: true,
            },
        })
    }
}

/// HERALD_EXECUTE_TIMEOUT, more than zero.
fn execute_timeout() -> Result<std::time::Duration, EnvError> {
    const VAR: &str = "HERALD_EXECUTE_TIMEOUT";
    match herald_config::env::duration(VAR)? {
        None => Ok(DEFAULT_TIMEOUT),
        Some(timeout) if timeout.is_zero() => Err(EnvError::new(VAR, "must be more than 0s")),
        Some(timeout) => Ok(timeout),
    }
}

/// A registry setting from the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}
