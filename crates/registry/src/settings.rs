//! The registry's settings, from the environment (names in CONTRACT.md).

use std::net::SocketAddr;

use anyhow::Context;
use herald_config::HeraldConfig;
use herald_tls::ServerTls;

use crate::auth::Tokens;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://herald-data/registry.db";

/// The master key(s); never printed.
#[derive(Clone)]
pub struct MasterKey(String);

impl MasterKey {
    pub fn new(spec: impl Into<String>) -> MasterKey {
        MasterKey(spec.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// HERALD_REGISTRY_ADDR
    pub listen: SocketAddr,
    /// HERALD_DATABASE_URL
    pub database_url: String,
    /// HERALD_MASTER_KEY: comma-separated base64 keys, current first.
    pub master_key: MasterKey,
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
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        let listen = var("HERALD_REGISTRY_ADDR", "127.0.0.1:50051");
        Ok(Settings {
            listen: listen.parse().with_context(|| {
                format!(
                    "HERALD_REGISTRY_ADDR: `{listen}` is not an address such as 127.0.0.1:50051"
                )
            })?,
            database_url: var("HERALD_DATABASE_URL", DEFAULT_DATABASE_URL),
            master_key: MasterKey(std::env::var("HERALD_MASTER_KEY").unwrap_or_default()),
            tokens: Tokens::from_env()?,
            config: herald_config::from_env()?,
            nats_url: Some(var("HERALD_NATS_URL", "nats://127.0.0.1:4222")),
            subject_prefix: var("HERALD_SUBJECT_PREFIX", "herald"),
            metrics_addr: herald_metrics::addr_from_env(Some("127.0.0.1:9101"))
                .map_err(anyhow::Error::msg)?,
            tls: ServerTls::from_env()?,
        })
    }
}
