//! Clients for accounts with their own TLS or proxy options (Kibana's
//! per-connector `ca`, `verificationMode`, client certificate and
//! `proxyUrl`). Each is built once per account version and kept in a small
//! cache, since a client owns its connection pool and building one parses
//! certificates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use herald_catalog::Policy;

use super::resolver::PolicyResolver;
use super::{SendError, errors, parse_proxy};
use crate::delivery::connector::Account;

/// Accounts with their own client kept at once; the least recently used
/// goes first. Few accounts have options, so this is generous.
const MAX_ACCOUNT_CLIENTS: usize = 256;

/// Kibana's `verificationMode`: an account's `config.verificationMode`, or
/// `xpack.actions.ssl.verificationMode` for every connection without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verification {
    #[default]
    /// The chain to a trusted root and the host name.
    Full,
    /// The chain only: any host name is accepted.
    Certificate,
    /// Nothing: any certificate is accepted.
    None,
}

/// The account's network options, as written in its config and secrets.
#[derive(Debug)]
pub(super) struct AccountOptions<'a> {
    ca: Option<&'a str>,
    verification: Verification,
    crt: Option<&'a str>,
    key: Option<&'a str>,
    pfx: bool,
    proxy: Option<&'a str>,
}

/// `None` when the account uses the defaults (`global` is the operator's
/// verification mode), which is the common case and only costs a few map
/// look-ups.
pub(super) fn options_of(account: &Account, global: Verification) -> Option<AccountOptions<'_>> {
    let config = |field| account.config_str(field).filter(|v| !v.trim().is_empty());
    let secret = |field| account.secret_str(field).filter(|v| !v.trim().is_empty());
    // An unknown mode falls back to the safe default, as in Kibana.
    let verification = match config("verificationMode") {
        Some(mode) if mode.eq_ignore_ascii_case("certificate") => Verification::Certificate,
        Some(mode) if mode.eq_ignore_ascii_case("none") => Verification::None,
        Some(_) => Verification::Full,
        None => global,
    };
    let options = AccountOptions {
        ca: config("ca"),
        verification,
        crt: secret("crt"),
        key: secret("key"),
        pfx: secret("pfx").is_some(),
        proxy: config("proxyUrl"),
    };
    let default = options.ca.is_none()
        && options.verification == global
        && options.crt.is_none()
        && options.key.is_none()
        && !options.pfx
        && options.proxy.is_none();
    (!default).then_some(options)
}

#[derive(Default)]
pub(super) struct AccountClients {
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    by_account: HashMap<String, Entry>,
    clock: u64,
}

struct Entry {
    version: i64,
    client: reqwest::Client,
    last_used: u64,
}

impl AccountClients {
    /// The account's client, built from `base` (the shared settings) on the
    /// first use of this account version. A build failure is not cached:
    /// the send fails for good anyway, and the fixed account is a new
    /// version.
    pub(super) fn get_or_build(
        &self,
        account: &Account,
        options: AccountOptions<'_>,
        base: impl FnOnce() -> reqwest::ClientBuilder,
        policy: &Arc<Policy>,
        global_proxy: Option<&(reqwest::Proxy, String)>,
    ) -> Result<reqwest::Client, SendError> {
        {
            let mut cache = self.cache.lock().expect("client cache lock");
            cache.clock += 1;
            let now = cache.clock;
            if let Some(entry) = cache.by_account.get_mut(&account.id)
                && entry.version == account.version
            {
                entry.last_used = now;
                return Ok(entry.client.clone());
            }
        }
        // Built outside the lock: it parses certificates. Two sends racing
        // here build twice and keep one, which is harmless.
        let client = build(options, base(), policy, global_proxy)?;
        let mut cache = self.cache.lock().expect("client cache lock");
        cache.clock += 1;
        let now = cache.clock;
        if cache.by_account.len() >= MAX_ACCOUNT_CLIENTS
            && !cache.by_account.contains_key(&account.id)
            && let Some(oldest) = cache
                .by_account
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(id, _)| id.clone())
        {
            cache.by_account.remove(&oldest);
        }
        cache.by_account.insert(
            account.id.clone(),
            Entry {
                version: account.version,
                client: client.clone(),
                last_used: now,
            },
        );
        Ok(client)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.cache
            .lock()
            .expect("client cache lock")
            .by_account
            .len()
    }
}

fn build(
    options: AccountOptions<'_>,
    base: reqwest::ClientBuilder,
    policy: &Arc<Policy>,
    global_proxy: Option<&(reqwest::Proxy, String)>,
) -> Result<reqwest::Client, SendError> {
    let mut builder = base;
    // The account's proxy replaces the global one. Unlike the operator's,
    // it is a place the account points us to, so the policy applies to it
    // as to any host: here by name or IP, in the resolver by address.
    let trusted = match options.proxy {
        Some(proxy) => {
            let (proxy, host) = parse_proxy(proxy)
                .map_err(|e| SendError::InvalidConfig(format!("config.proxyUrl: {e}")))?;
            if !policy.allows_host(&host) {
                return Err(SendError::Policy { host });
            }
            builder = builder.proxy(proxy);
            None
        }
        None => match global_proxy {
            Some((proxy, host)) => {
                builder = builder.proxy(proxy.clone());
                Some(host.clone())
            }
            None => None,
        },
    };
    builder = builder.dns_resolver(Arc::new(PolicyResolver {
        policy: Arc::clone(policy),
        trusted,
    }));

    let mut roots = Vec::new();
    if let Some(ca) = options.ca {
        let pem = decode_pem("config.ca", ca)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| SendError::Tls("config.ca is not a valid PEM certificate".into()))?;
        if certs.is_empty() {
            return Err(SendError::Tls("config.ca holds no PEM certificate".into()));
        }
        roots = certs;
    }
    builder = verify(builder, options.verification, roots);

    if options.pfx {
        return Err(SendError::Tls(
            "secrets.pfx: PFX client certificates are not supported; give secrets.crt and secrets.key as PEM".into(),
        ));
    }
    match (options.crt, options.key) {
        (None, None) => {}
        (Some(crt), Some(key)) => {
            let mut pem = decode_pem("secrets.crt", crt)?;
            let key = decode_pem("secrets.key", key)?;
            if key.windows(9).any(|w| w == b"ENCRYPTED") {
                return Err(SendError::Tls(
                    "secrets.key is encrypted; give the key without a passphrase".into(),
                ));
            }
            pem.push(b'\n');
            pem.extend_from_slice(&key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                SendError::Tls(
                    "secrets.crt and secrets.key are not a PEM certificate and private key".into(),
                )
            })?;
            builder = builder.identity(identity);
        }
        _ => {
            return Err(SendError::Tls(
                "secrets.crt and secrets.key are needed together".into(),
            ));
        }
    }

    builder
        .build()
        .map_err(|e| SendError::Tls(errors::describe(&e.without_url())))
}

/// `roots` are trusted beside the system's.
pub(super) fn verify(
    builder: reqwest::ClientBuilder,
    verification: Verification,
    mut roots: Vec<reqwest::Certificate>,
) -> reqwest::ClientBuilder {
    match verification {
        Verification::Full if roots.is_empty() => builder,
        Verification::Full => builder.tls_certs_merge(roots),
        // rustls checks a chain without the name only against an explicit
        // root list, so the system's roots are listed too.
        Verification::Certificate => {
            roots.extend(system_roots().iter().cloned());
            builder
                .tls_certs_only(roots)
                .tls_danger_accept_invalid_hostnames(true)
        }
        Verification::None => builder.tls_danger_accept_invalid_certs(true),
    }
}

/// PEM as Kibana's webhook stores it (base64 of the PEM text) or as PEM.
/// Errors name the field, never the value.
fn decode_pem(field: &str, value: &str) -> Result<Vec<u8>, SendError> {
    if value.contains("-----BEGIN ") {
        return Ok(value.as_bytes().to_vec());
    }
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(compact) {
        Ok(pem) if pem.windows(11).any(|w| w == b"-----BEGIN ") => Ok(pem),
        _ => Err(SendError::Tls(format!(
            "{field} is neither PEM nor base64-encoded PEM"
        ))),
    }
}

/// The system's trusted roots, read once.
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::debug!(
                errors = found.errors.len(),
                "some system root certificates could not be read"
            );
        }
        found
            .certs
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok())
            .collect()
    })
}
