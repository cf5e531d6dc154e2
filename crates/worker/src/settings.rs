//! A worker's settings, from the environment (CONTRACT.md names the shared
//! ones; the HERALD_WORKER_* ones are the runtime's own).

use std::net::SocketAddr;
use std::time::Duration;

use herald_catalog::Secret;
use herald_config::{ConfigError, EnvError, HeraldConfig};
use herald_tls::{ClientTls, TlsError};

use crate::http::{CustomHost, OutboundSettings, Verification};

#[derive(Clone)]
pub struct WorkerSettings {
    /// The binary's name, for logs and consumer descriptions.
    pub name: String,
    /// HERALD_NATS_URL
    pub nats_url: String,
    /// HERALD_REGISTRY_URL
    pub registry_url: String,
    /// HERALD_SERVICE_TOKEN: the worker's credential towards the registry.
    pub service_token: Secret,
    /// HERALD_TLS_CA_FILE, HERALD_TLS_CLIENT_CERT_FILE,
    /// HERALD_TLS_CLIENT_KEY_FILE: for an `https://` HERALD_REGISTRY_URL.
    pub registry_tls: ClientTls,
    pub messaging: herald_messaging::Settings,
    /// HERALD_CONFIG: policy and delivery settings.
    pub config: HeraldConfig,
    /// HERALD_WORKER_CONCURRENCY: deliveries in flight per process.
    pub concurrency: usize,
    /// HERALD_WORKER_ACK_WAIT: how long JetStream waits for an ack before
    /// redelivering; progress acks extend it during long sends.
    pub ack_wait: Duration,
    /// HERALD_WORKER_SHUTDOWN_GRACE: time in-flight deliveries get on SIGTERM.
    pub shutdown_grace: Duration,
    /// HERALD_WORKER_ACCOUNT_TTL: how long a resolved account is reused.
    pub account_ttl: Duration,
    /// HERALD_WORKER_OPENER_WAIT: how long an action that follows another
    /// (an alert's repeat or resolve) waits for that one to end before it
    /// is delivered without its handles. Longer than an opener's retries
    /// usually take, so a resolve reaches what the firing opened.
    pub opener_wait: Duration,
    pub outbound: OutboundSettings,
    /// HERALD_METRICS_ADDR: where `/metrics`, `/healthz` and `/readyz` are
    /// served; `None` serves none (the runtime inside `heraldctl up`).
    pub metrics_addr: Option<SocketAddr>,
}

/// Each worker binary's default HERALD_METRICS_ADDR, one port apiece so
/// they can share a host.
const DEFAULT_METRICS_ADDRS: &[(&str, &str)] = &[
    ("herald-chat-worker", "127.0.0.1:9102"),
    ("herald-email-worker", "127.0.0.1:9103"),
    ("herald-incident-worker", "127.0.0.1:9104"),
    ("herald-ai-worker", "127.0.0.1:9105"),
];

impl std::fmt::Debug for WorkerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerSettings")
            .field("name", &self.name)
            .field("nats_url", &self.nats_url)
            .field("registry_url", &self.registry_url)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl WorkerSettings {
    pub fn new(name: &str) -> WorkerSettings {
        let mut settings = WorkerSettings::common(name);
        // A model call takes seconds to minutes: a long response timeout,
        // and few slots so that waiting calls do not pile up memory and
        // vendor quota (HERALD_CONFIG and the environment still override).
        if name == "herald-ai-worker" {
            settings.concurrency = 16;
            settings.outbound.response_timeout = Duration::from_secs(300);
            // JetStream must not redeliver a call still waiting for its answer.
            settings.ack_wait = Duration::from_secs(330);
            // On SIGTERM a call gets two minutes to answer; one still waiting
            // then is NAKed and asked again by another replica.
            settings.shutdown_grace = Duration::from_secs(120);
        }
        settings
    }

    fn common(name: &str) -> WorkerSettings {
        WorkerSettings {
            name: name.to_owned(),
            nats_url: "nats://127.0.0.1:4222".into(),
            registry_url: "http://127.0.0.1:50051".into(),
            service_token: Secret::new(""),
            registry_tls: ClientTls::default(),
            messaging: herald_messaging::Settings::default(),
            config: HeraldConfig::default(),
            concurrency: 256,
            ack_wait: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(25),
            account_ttl: herald_registry_client::DEFAULT_TTL,
            opener_wait: Duration::from_secs(15 * 60),
            outbound: OutboundSettings::default(),
            metrics_addr: None,
        }
    }

    pub fn from_env(name: &str) -> Result<WorkerSettings, SettingsError> {
        let mut s = WorkerSettings::new(name);
        let var = herald_config::env::var;
        if let Some(v) = var("HERALD_NATS_URL") {
            s.nats_url = v;
        }
        if let Some(v) = var("HERALD_REGISTRY_URL") {
            s.registry_url = v;
        }
        s.service_token = var("HERALD_SERVICE_TOKEN")
            .and_then(|t| t.split(',').next().map(str::trim).map(Secret::new))
            .ok_or_else(|| {
                EnvError::new(
                    "HERALD_SERVICE_TOKEN",
                    "not set: workers read accounts from the registry with it",
                )
            })?;
        s.registry_tls = ClientTls::from_env()?;
        s.messaging = herald_messaging::Settings::from_env()?;
        s.config = herald_config::from_env()?;
        s.outbound = outbound_settings(&s.config, s.outbound.clone())?;
        if let Some(v) = var("HERALD_WORKER_CONCURRENCY") {
            s.concurrency = v
                .parse()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    EnvError::new(
                        "HERALD_WORKER_CONCURRENCY",
                        format!("`{v}` is not 1..10000"),
                    )
                })?;
        }
        for (name, field) in [
            ("HERALD_WORKER_ACK_WAIT", &mut s.ack_wait),
            ("HERALD_WORKER_SHUTDOWN_GRACE", &mut s.shutdown_grace),
            ("HERALD_WORKER_ACCOUNT_TTL", &mut s.account_ttl),
            ("HERALD_WORKER_OPENER_WAIT", &mut s.opener_wait),
        ] {
            if let Some(duration) = herald_config::env::duration(name)? {
                *field = duration;
            }
        }
        let default_metrics_addr = DEFAULT_METRICS_ADDRS
            .iter()
            .find(|(binary, _)| *binary == name)
            .map(|(_, addr)| *addr);
        s.metrics_addr = herald_config::env::metrics_addr(default_metrics_addr)?;
        if s.ack_wait < Duration::from_secs(3) {
            return Err(EnvError::new("HERALD_WORKER_ACK_WAIT", "must be at least 3s").into());
        }
        Ok(s)
    }
}

/// HERALD_CONFIG's `outbound:` (and Kibana's `xpack.actions` settings) as
/// the HTTP client takes them, over `defaults` (the binary's own: the AI
/// worker waits longer for an answer).
pub fn outbound_settings(
    config: &HeraldConfig,
    defaults: OutboundSettings,
) -> Result<OutboundSettings, SettingsError> {
    let outbound = &config.outbound;
    let mut settings = defaults;
    if let Some(timeout) = outbound.response_timeout {
        settings.response_timeout = timeout;
    }
    if let Some(bytes) = outbound.max_response_bytes {
        settings.max_response_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    if let Some(proxy) = &outbound.proxy {
        settings.proxy_verification = proxy.verification_mode.map(verification);
        settings.proxy = Some(proxy.url.clone());
        settings.proxy_bypass_hosts = proxy.bypass_hosts.clone();
        settings.proxy_only_hosts = proxy.only_hosts.clone();
        settings.proxy_headers = proxy
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
    }
    if let Some(mode) = outbound.verification_mode {
        settings.verification = verification(mode);
    }
    settings.custom_hosts = outbound
        .custom_hosts
        .iter()
        .map(|custom| CustomHost {
            scheme: custom.scheme.clone(),
            host: custom.host.clone(),
            port: custom.port,
            verification: custom.verification_mode.map(verification),
            certificate_authorities: custom.certificate_authorities.clone(),
            smtp_require_tls: custom.smtp_require_tls,
            smtp_ignore_tls: custom.smtp_ignore_tls,
        })
        .collect();
    settings.public_base_url = config.public_base_url.clone();
    Ok(settings)
}

/// A worker setting from the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn verification(mode: herald_config::VerificationMode) -> Verification {
    match mode {
        herald_config::VerificationMode::Full => Verification::Full,
        herald_config::VerificationMode::Certificate => Verification::Certificate,
        herald_config::VerificationMode::None => Verification::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ai_worker_waits_longer_unless_herald_config_says_otherwise() {
        let ai = WorkerSettings::new("herald-ai-worker");
        let incident = WorkerSettings::new("herald-incident-worker");
        assert_eq!(ai.outbound.response_timeout, Duration::from_secs(300));
        assert!(incident.outbound.response_timeout < ai.outbound.response_timeout);
        assert!(ai.concurrency < incident.concurrency);
        assert!(ai.ack_wait > ai.outbound.response_timeout);

        let kept = outbound_settings(&HeraldConfig::default(), ai.outbound.clone()).unwrap();
        assert_eq!(kept.response_timeout, Duration::from_secs(300));
        let mut config = HeraldConfig::default();
        config.outbound.response_timeout = Some(Duration::from_secs(90));
        let set = outbound_settings(&config, ai.outbound).unwrap();
        assert_eq!(set.response_timeout, Duration::from_secs(90));
    }

    #[test]
    fn ssl_verification_mode_applies_to_every_connection_without_its_own() {
        let defaults = OutboundSettings::default();
        let unset = outbound_settings(&HeraldConfig::default(), defaults.clone()).unwrap();
        assert_eq!(unset.verification, Verification::Full);
        let mut config = HeraldConfig::default();
        config.outbound.verification_mode = Some(herald_config::VerificationMode::Certificate);
        let set = outbound_settings(&config, defaults).unwrap();
        assert_eq!(set.verification, Verification::Certificate);
    }

    #[test]
    fn custom_hosts_and_the_proxy_mode_reach_the_client_settings() {
        let config = herald_config::parse(
            r#"
outbound:
  proxy: { url: "https://proxy.internal:3128", verification_mode: none }
  custom_hosts:
    - url: smtp://Mail.Example.com:465
      smtp: { requireTLS: true }
      ssl: { verificationMode: certificate }
    - url: https://hooks.example.com
      ssl: { verificationMode: none }
"#,
            &|_| None,
        )
        .unwrap();
        let set = outbound_settings(&config, OutboundSettings::default()).unwrap();
        assert_eq!(set.proxy_verification, Some(Verification::None));
        let (index, mail) = set.custom_host("smtp", "mail.example.com", 465).unwrap();
        assert_eq!(index, 0);
        assert_eq!(mail.smtp_require_tls, Some(true));
        assert_eq!(mail.verification, Some(Verification::Certificate));
        let (_, hooks) = set.custom_host("https", "hooks.example.com", 443).unwrap();
        assert_eq!(hooks.verification, Some(Verification::None));
        assert!(
            set.custom_host("https", "hooks.example.com", 8443)
                .is_none()
        );
        assert!(set.custom_host("smtp", "hooks.example.com", 443).is_none());
    }
}
