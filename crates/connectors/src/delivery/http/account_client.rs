//! Clients for accounts with their own TLS or proxy options (Kibana's
//! per-connector `ca`, `verificationMode`, client certificate and
//! `proxyUrl`). Each is built once per account version and kept in a small
//! cache, since a client owns its connection pool and building one parses
//! certificates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use herald_catalog::Policy;

use super::CustomHost;
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
/// verification mode for the request's host: its `customHostSettings`
/// entry's, or `ssl.verificationMode`), which is the common case and only
/// costs a few map look-ups.
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

/// An account's client for one `customHostSettings` entry (by index) or
/// for every other host (`None`).
type Key = (String, Option<usize>);

#[derive(Default)]
struct Cache {
    by_account: HashMap<Key, Entry>,
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
    #[allow(clippy::too_many_arguments)]
    pub(super) fn get_or_build(
        &self,
        account: &Account,
        options: AccountOptions<'_>,
        custom: Option<(usize, &CustomHost)>,
        base: impl FnOnce() -> reqwest::ClientBuilder,
        policy: &Arc<Policy>,
        global_proxy: Option<&(reqwest::Proxy, String)>,
        proxy_tls: Option<(String, Verification)>,
    ) -> Result<reqwest::Client, SendError> {
        let key: Key = (account.id.clone(), custom.map(|(index, _)| index));
        {
            let mut cache = self.cache.lock().expect("client cache lock");
            cache.clock += 1;
            let now = cache.clock;
            if let Some(entry) = cache.by_account.get_mut(&key)
                && entry.version == account.version
            {
                entry.last_used = now;
                return Ok(entry.client.clone());
            }
        }
        // Built outside the lock: it parses certificates. Two sends racing
        // here build twice and keep one, which is harmless.
        let client = build(
            options,
            custom.map(|(_, custom)| custom),
            base(),
            policy,
            global_proxy,
            proxy_tls,
        )?;
        let mut cache = self.cache.lock().expect("client cache lock");
        cache.clock += 1;
        let now = cache.clock;
        if cache.by_account.len() >= MAX_ACCOUNT_CLIENTS
            && !cache.by_account.contains_key(&key)
            && let Some(oldest) = cache
                .by_account
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(id, _)| id.clone())
        {
            cache.by_account.remove(&oldest);
        }
        cache.by_account.insert(
            key,
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
    custom: Option<&CustomHost>,
    base: reqwest::ClientBuilder,
    policy: &Arc<Policy>,
    global_proxy: Option<&(reqwest::Proxy, String)>,
    proxy_tls: Option<(String, Verification)>,
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
    // `ssl.proxyVerificationMode` is the operator's, for the operator's proxy.
    let proxy_tls = proxy_tls.filter(|_| trusted.is_some());
    builder = builder.dns_resolver(Arc::new(PolicyResolver {
        policy: Arc::clone(policy),
        trusted,
    }));

    let mut tls = Tls::new(options.verification);
    if let Some(ca) = options.ca {
        tls.roots
            .push(("config.ca".into(), decode_pem("config.ca", ca)?));
    }
    if let Some(custom) = custom {
        tls.add_host_cas(custom);
    }
    if options.pfx {
        return Err(SendError::Tls(
            "secrets.pfx: PFX client certificates are not supported; give secrets.crt and secrets.key as PEM".into(),
        ));
    }
    match (options.crt, options.key) {
        (None, None) => {}
        (Some(crt), Some(key)) => {
            let crt = decode_pem("secrets.crt", crt)?;
            let key = decode_pem("secrets.key", key)?;
            if key.windows(9).any(|w| w == b"ENCRYPTED") {
                return Err(SendError::Tls(
                    "secrets.key is encrypted; give the key without a passphrase".into(),
                ));
            }
            tls.identity = Some((crt, key));
        }
        _ => {
            return Err(SendError::Tls(
                "secrets.crt and secrets.key are needed together".into(),
            ));
        }
    }
    builder = apply_tls(builder, tls, proxy_tls.as_ref())?;

    builder
        .build()
        .map_err(|e| SendError::Tls(errors::describe(&e.without_url())))
}

/// What a client checks and presents: the verification mode, the PEM
/// roots trusted besides the system's (each with the setting it came
/// from, for errors), and a client certificate and key as PEM.
pub(super) struct Tls {
    verification: Verification,
    roots: Vec<(String, Vec<u8>)>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl Tls {
    pub(super) fn new(verification: Verification) -> Tls {
        Tls {
            verification,
            roots: Vec::new(),
            identity: None,
        }
    }

    /// The certificate authorities a `customHostSettings` entry trusts.
    pub(super) fn add_host_cas(&mut self, custom: &CustomHost) {
        for pem in &custom.certificate_authorities {
            self.roots
                .push(("ssl.certificateAuthorities".into(), pem.as_bytes().to_vec()));
        }
    }
}

/// Applies `tls` with reqwest's own settings; or, when the operator's
/// `https://` proxy is checked in a mode of its own (`proxy_tls`: its host
/// and mode), with a rustls configuration that picks the check by server
/// name, since reqwest uses one TLS configuration for the proxy and the
/// vendor.
pub(super) fn apply_tls(
    builder: reqwest::ClientBuilder,
    tls: Tls,
    proxy_tls: Option<&(String, Verification)>,
) -> Result<reqwest::ClientBuilder, SendError> {
    let Some((proxy_host, proxy_mode)) = proxy_tls else {
        let mut roots = Vec::new();
        for (field, pem) in &tls.roots {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|_| SendError::Tls(format!("{field} is not a valid PEM certificate")))?;
            if certs.is_empty() {
                return Err(SendError::Tls(format!("{field} holds no PEM certificate")));
            }
            roots.extend(certs);
        }
        let mut builder = verify(builder, tls.verification, roots);
        if let Some((crt, key)) = tls.identity {
            let mut pem = crt;
            pem.push(b'\n');
            pem.extend_from_slice(&key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(identity_error)?;
            builder = builder.identity(identity);
        }
        return Ok(builder);
    };
    use crate::delivery::tls;
    use rustls::pki_types::{PrivateKeyDer, ServerName, pem::PemObject};
    let mut roots = Vec::new();
    for (field, pem) in &tls.roots {
        roots
            .extend(tls::pem_certificates(pem).ok_or_else(|| {
                SendError::Tls(format!("{field} is not a valid PEM certificate"))
            })?);
    }
    let others = tls::verifier(tls.verification, &roots).map_err(SendError::Tls)?;
    let for_name = tls::verifier(*proxy_mode, &[]).map_err(SendError::Tls)?;
    let name = ServerName::try_from(proxy_host.clone()).map_err(|_| {
        SendError::InvalidConfig("the proxy URL's host is not a server name".into())
    })?;
    let config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| SendError::Tls(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(tls::ByServerName {
            name,
            for_name,
            others,
        }));
    let config = match tls.identity {
        None => config.with_no_client_auth(),
        Some((crt, key)) => {
            let certs = tls::pem_certificates(&crt).ok_or_else(|| identity_error(()))?;
            let key = PrivateKeyDer::from_pem_slice(&key).map_err(identity_error)?;
            config
                .with_client_auth_cert(certs, key)
                .map_err(identity_error)?
        }
    };
    Ok(builder.tls_backend_preconfigured(config))
}

fn identity_error(_: impl Sized) -> SendError {
    SendError::Tls("secrets.crt and secrets.key are not a PEM certificate and private key".into())
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
