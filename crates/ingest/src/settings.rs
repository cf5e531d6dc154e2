//! Ingest's settings, from the environment (names in CONTRACT.md). Read once
//! by `main.rs`; tests and `heraldctl up` build a [`Settings`] themselves.

use std::net::SocketAddr;

use herald_catalog::Secret;
use herald_config::{ConfigError, EnvError, HeraldConfig};
use herald_proto::auth::TokenError;
use herald_tls::{ClientTls, ServerTls, TlsError};

use crate::auth::Tokens;

/// What one event may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// HERALD_INGEST_MAX_EVENT_BYTES: the largest event accepted, as the JSON
    /// body (HTTP, NATS) or the encoded protobuf message (gRPC).
    pub max_event_bytes: usize,
    /// Actions per event. An event is validated and published as one unit,
    /// so this bounds the work (and the registry lookups) of one request.
    pub max_actions: usize,
    /// Characters of an idempotency key.
    pub max_idempotency_key_len: usize,
    /// HERALD_INGEST_MAX_RENDERED_BYTES: what one event may become once
    /// rendered: the text its templates produce, and the encoded action
    /// requests of all its actions together. Templates repeat sections over
    /// lists, so a small event could otherwise fill JetStream.
    pub max_rendered_bytes: usize,
    /// HERALD_INGEST_MAX_RENDER_STEPS: the work rendering one event's
    /// templates may take, in tokens visited and section passes
    /// ([`herald_templates::Budget`]).
    pub max_render_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 1024 * 1024,
            max_actions: 100,
            max_idempotency_key_len: 256,
            max_rendered_bytes: herald_templates::MAX_RENDERED_LEN,
            max_render_steps: herald_templates::MAX_RENDER_STEPS,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// HERALD_INGEST_GRPC_ADDR
    pub grpc_addr: SocketAddr,
    /// HERALD_INGEST_HTTP_ADDR
    pub http_addr: SocketAddr,
    /// HERALD_NATS_URL
    pub nats_url: String,
    /// HERALD_REGISTRY_URL
    pub registry_url: String,
    /// The first HERALD_SERVICE_TOKEN: what ingest presents to the registry.
    pub service_token: Secret,
    /// HERALD_PRODUCER_TOKEN and HERALD_ADMIN_TOKEN may submit and read
    /// status; HERALD_SERVICE_TOKEN is recognised, and refused.
    pub tokens: Tokens,
    /// HERALD_CONFIG (ingest uses its `policy`).
    pub config: HeraldConfig,
    /// HERALD_SUBJECT_PREFIX, HERALD_DUPLICATE_WINDOW and the other
    /// messaging variables.
    pub messaging: herald_messaging::Settings,
    pub limits: Limits,
    /// HERALD_INGEST_CONCURRENCY: events from `herald.event` handled at once.
    pub intake_concurrency: usize,
    /// HERALD_METRICS_ADDR: a plain-HTTP listener of its own for `/metrics`,
    /// `/healthz` and `/readyz` (they are on the HTTP listener anyway).
    pub metrics_addr: Option<SocketAddr>,
    /// HERALD_TLS_CERT_FILE, HERALD_TLS_KEY_FILE, HERALD_TLS_CLIENT_CA_FILE:
    /// TLS on both listeners; `None` serves plain TCP.
    pub tls: Option<ServerTls>,
    /// HERALD_TLS_CA_FILE, HERALD_TLS_CLIENT_CERT_FILE,
    /// HERALD_TLS_CLIENT_KEY_FILE: for an `https://` HERALD_REGISTRY_URL.
    pub registry_tls: ClientTls,
}

pub const DEFAULT_INTAKE_CONCURRENCY: usize = 32;

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        let addr = |name: &str, default: &str| -> Result<SocketAddr, EnvError> {
            Ok(herald_config::env::addr(name, Some(default))?.expect("a default is given"))
        };
        let number = |name: &str, default: usize| -> Result<usize, EnvError> {
            match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(text) => match text.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(EnvError::new(
                        name,
                        format!("`{text}` is not a positive whole number"),
                    )),
                },
            }
        };
        let tokens = Tokens::from_env()?;
        if !(tokens.has(crate::auth::Role::Producer) || tokens.has(crate::auth::Role::Admin)) {
            return Err(SettingsError::NoSubmitter);
        }
        let service = var("HERALD_SERVICE_TOKEN", "");
        let service_token = service
            .split(',')
            .map(str::trim)
            .find(|t| !t.is_empty())
            .ok_or_else(|| {
                EnvError::new(
                    "HERALD_SERVICE_TOKEN",
                    "ingest needs it to read accounts from the registry",
                )
            })?;
        let limits = Limits {
            max_event_bytes: number(
                "HERALD_INGEST_MAX_EVENT_BYTES",
                Limits::default().max_event_bytes,
            )?,
            max_rendered_bytes: number(
                "HERALD_INGEST_MAX_RENDERED_BYTES",
                Limits::default().max_rendered_bytes,
            )?,
            max_render_steps: number(
                "HERALD_INGEST_MAX_RENDER_STEPS",
                Limits::default().max_render_steps as usize,
            )? as u64,
            ..Limits::default()
        };
        Ok(Settings {
            grpc_addr: addr("HERALD_INGEST_GRPC_ADDR", "127.0.0.1:50052")?,
            http_addr: addr("HERALD_INGEST_HTTP_ADDR", "127.0.0.1:8080")?,
            nats_url: var("HERALD_NATS_URL", "nats://127.0.0.1:4222"),
            registry_url: var("HERALD_REGISTRY_URL", "http://127.0.0.1:50051"),
            service_token: Secret::new(service_token),
            tokens,
            config: herald_config::from_env()?,
            messaging: herald_messaging::Settings::from_env()?,
            limits,
            intake_concurrency: number("HERALD_INGEST_CONCURRENCY", DEFAULT_INTAKE_CONCURRENCY)?,
            metrics_addr: herald_config::env::metrics_addr(None)?,
            tls: ServerTls::from_env()?,
            registry_tls: ClientTls::from_env()?,
        })
    }
}

/// An ingest setting from the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(
        "no producer or admin token is configured, so nobody could submit: set HERALD_PRODUCER_TOKEN"
    )]
    NoSubmitter,
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

#[cfg(test)]
mod tests {
    use super::*;

    // nextest runs each test in a process of its own, so setting variables
    // here touches no other test.
    fn set(vars: &[(&str, &str)]) {
        for (k, v) in vars {
            // SAFETY: single-threaded at this point of the test.
            unsafe { std::env::set_var(k, v) };
        }
    }

    #[test]
    fn from_env_reads_defaults_and_overrides() {
        set(&[
            ("HERALD_PRODUCER_TOKEN", "producer-token-0123456789"),
            (
                "HERALD_SERVICE_TOKEN",
                " service-token-0123456789 , service-token-next-0123",
            ),
            ("HERALD_INGEST_MAX_EVENT_BYTES", "2048"),
            ("HERALD_INGEST_MAX_RENDERED_BYTES", "65536"),
            ("HERALD_INGEST_HTTP_ADDR", "0.0.0.0:9000"),
        ]);
        let s = Settings::from_env().unwrap();
        assert_eq!(s.grpc_addr, "127.0.0.1:50052".parse().unwrap());
        assert_eq!(s.http_addr, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(s.nats_url, "nats://127.0.0.1:4222");
        assert_eq!(s.registry_url, "http://127.0.0.1:50051");
        assert_eq!(s.service_token.expose(), "service-token-0123456789");
        assert_eq!(s.limits.max_event_bytes, 2048);
        assert_eq!(s.limits.max_actions, 100);
        assert_eq!(s.limits.max_rendered_bytes, 65536);
        assert_eq!(
            s.limits.max_render_steps,
            herald_templates::MAX_RENDER_STEPS
        );
        assert_eq!(s.intake_concurrency, DEFAULT_INTAKE_CONCURRENCY);
        let printed = format!("{s:?}");
        assert!(!printed.contains("service-token-0123456789"), "{printed}");
        assert!(!printed.contains("producer-token-0123456789"), "{printed}");
    }

    #[test]
    fn from_env_names_a_bad_value() {
        set(&[
            ("HERALD_PRODUCER_TOKEN", "producer-token-0123456789"),
            ("HERALD_SERVICE_TOKEN", "service-token-0123456789"),
            ("HERALD_INGEST_MAX_EVENT_BYTES", "1MiB"),
        ]);
        let error = Settings::from_env().unwrap_err().to_string();
        assert!(
            error.starts_with("HERALD_INGEST_MAX_EVENT_BYTES"),
            "{error}"
        );
        set(&[
            ("HERALD_INGEST_MAX_EVENT_BYTES", "1024"),
            ("HERALD_SERVICE_TOKEN", ""),
        ]);
        let error = Settings::from_env().unwrap_err().to_string();
        assert!(error.starts_with("HERALD_SERVICE_TOKEN"), "{error}");
    }

    #[test]
    fn from_env_stops_on_half_a_tls_setting() {
        set(&[
            ("HERALD_PRODUCER_TOKEN", "producer-token-0123456789"),
            ("HERALD_SERVICE_TOKEN", "service-token-0123456789"),
            ("HERALD_TLS_KEY_FILE", "/etc/herald/ingest.key"),
        ]);
        let error = Settings::from_env().unwrap_err().to_string();
        assert_eq!(
            error,
            "HERALD_TLS_KEY_FILE is set but HERALD_TLS_CERT_FILE is not: give both, or neither"
        );
    }
}
