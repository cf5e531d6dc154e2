//! The DNS resolver of every outbound client: it resolves as the system
//! does, then keeps only the addresses the policy lets us connect to
//! (`Policy::allows_address`), so a public name that resolves to loopback,
//! a private network or the cloud metadata address is not followed, and a
//! rebinding DNS gains nothing: the address checked is the address used.
//!
//! reqwest calls it for each new connection (the pool reuses connections),
//! for the target and for an HTTP or `socks5://` proxy's own name, never
//! for IP literals: those are checked before sending (`Outbound::send`).
//! The operator's proxy (`OutboundSettings::proxy`) is trusted and
//! resolved unchecked; with `socks5h://` the proxy resolves the target, so
//! only its name is checked.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use herald_catalog::Policy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub(super) struct PolicyResolver {
    pub policy: Arc<Policy>,
    /// The operator's proxy host, resolved without the policy.
    pub trusted: Option<String>,
}

/// Every address of a name is internal and unlisted. Carried through
/// reqwest's error to `errors::from_reqwest`.
#[derive(Debug)]
pub struct InternalAddress {
    pub host: String,
    pub ip: IpAddr,
}

impl std::fmt::Display for InternalAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "host {} resolves to the internal address {}, which policy.allowed_hosts does not list",
            self.host, self.ip
        )
    }
}

impl std::error::Error for InternalAddress {}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        let trusted = self
            .trusted
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let found: Vec<SocketAddr> = if trusted {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            } else {
                lookup_allowed(&policy, &host, 0).await?
            };
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Why [`lookup_allowed`] found nothing to connect to.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("cannot resolve {host}: {source}")]
    Dns {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Internal(#[from] InternalAddress),
}

/// The addresses of `host` (a name or an IP literal) at `port` that the
/// policy lets us connect to, in the system resolver's order; an error
/// when it has addresses but none is allowed. The SMTP client opens its
/// own sockets through this too.
pub async fn lookup_allowed(
    policy: &Policy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, LookupError> {
    // A bracketed IPv6 literal is how a URL writes it; the resolver wants
    // it bare.
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let found = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|source| LookupError::Dns {
            host: host.to_owned(),
            source,
        })?;
    Ok(allowed_addresses(policy, bare, found.collect())?)
}

fn allowed_addresses(
    policy: &Policy,
    host: &str,
    mut found: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, InternalAddress> {
    let first = found.first().map(SocketAddr::ip);
    found.retain(|addr| policy.allows_address(host, addr.ip()));
    match first {
        Some(ip) if found.is_empty() => Err(InternalAddress {
            host: host.to_owned(),
            ip,
        }),
        _ => Ok(found),
    }
}
