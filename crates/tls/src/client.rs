//! The gRPC clients' side: what an `https://` URL trusts (the system's
//! roots plus HERALD_TLS_CA_FILE) and presents (HERALD_TLS_CLIENT_CERT_FILE
//! and HERALD_TLS_CLIENT_KEY_FILE), and a warning when a plain `http://`
//! URL would carry bearer tokens off this host.

use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::pem::{PemFile, TlsError, identity};
use crate::{CA_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE};

/// Extra roots and a client identity, as PEM read at start. The default
/// trusts the system's roots only and presents no certificate.
#[derive(Clone, Default)]
pub struct ClientTls {
    ca: Option<Vec<u8>>,
    identity: Option<Identity>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("extra_roots", &self.ca.is_some())
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

impl ClientTls {
    /// From HERALD_TLS_CA_FILE, HERALD_TLS_CLIENT_CERT_FILE and
    /// HERALD_TLS_CLIENT_KEY_FILE (each optional; the last two together).
    pub fn from_env() -> Result<ClientTls, TlsError> {
        ClientTls::new(
            PemFile::from_env(CA_FILE).as_ref(),
            PemFile::from_env(CLIENT_CERT_FILE).as_ref(),
            PemFile::from_env(CLIENT_KEY_FILE).as_ref(),
        )
    }

    pub fn new(
        ca: Option<&PemFile>,
        cert: Option<&PemFile>,
        key: Option<&PemFile>,
    ) -> Result<ClientTls, TlsError> {
        let ca = match ca {
            None => None,
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for der in ca.certificates()? {
                    roots.add(der).map_err(|e| {
                        ca.invalid(format!("holds a certificate rustls cannot trust: {e}"))
                    })?;
                }
                Some(ca.certificates_pem()?)
            }
        };
        let identity = match (cert, key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                identity(cert, key)?;
                Some(Identity::from_pem(cert.read()?, key.read()?))
            }
            (Some(given), None) | (None, Some(given)) => {
                return Err(TlsError::Settings(format!(
                    "{} is set alone: a client certificate needs both its certificate and its key",
                    given.name()
                )));
            }
        };
        Ok(ClientTls { ca, identity })
    }

    /// An endpoint for `url` (named `url_name` in errors): TLS when it is
    /// `https://`; a warning in the log when it is plain `http://` to
    /// another host, since every Herald client sends a bearer token.
    pub fn endpoint(&self, url_name: &str, url: &str) -> Result<Endpoint, TlsError> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|e| TlsError::Settings(format!("{url_name}: `{url}` is not a URL: {e}")))?;
        if endpoint.uri().scheme_str() != Some("https") {
            if let Some(warning) = cleartext_warning(url_name, url) {
                tracing::warn!("{warning}");
            }
            return Ok(endpoint);
        }
        endpoint
            .tls_config(self.config(url_name)?)
            .map_err(|e| TlsError::Settings(format!("{url_name} `{url}`: {e}")))
    }

    fn config(&self, url_name: &str) -> Result<ClientTlsConfig, TlsError> {
        let mut config = ClientTlsConfig::new();
        if system_has_roots() {
            config = config.with_native_roots();
        } else if self.ca.is_none() {
            return Err(TlsError::Settings(format!(
                "{url_name} is https:// but this system has no trusted root certificates: \
                 set {CA_FILE} to the CA that signed the server's certificate"
            )));
        }
        if let Some(ca) = &self.ca {
            config = config.ca_certificate(Certificate::from_pem(ca));
        }
        if let Some(identity) = &self.identity {
            config = config.identity(identity.clone());
        }
        Ok(config)
    }
}

/// tonic refuses `with_native_roots` when the system has none (a slim
/// container without ca-certificates), which is fine when
/// HERALD_TLS_CA_FILE names the roots to trust.
fn system_has_roots() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| !rustls_native_certs::load_native_certs().certs.is_empty())
}

/// An error with its causes. tonic's connection errors say only
/// "transport error"; why the handshake failed (an unknown issuer, a
/// certificate required) is in their sources.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// The warning for a plain `http://` URL to a host other than this one,
/// where a bearer token would cross the network in clear; `None` for
/// `https://` and loopback.
pub fn cleartext_warning(url_name: &str, url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    if uri.scheme_str() != Some("http") {
        return None;
    }
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "{url_name} {url} is plain http to another host: bearer tokens cross the network \
             in clear; use https:// (the server needs HERALD_TLS_CERT_FILE and HERALD_TLS_KEY_FILE)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_for_plain_http_to_another_host_only() {
        for quiet in [
            "http://127.0.0.1:50051",
            "http://localhost:50051",
            "http://[::1]:50051",
            "https://registry.example:50051",
        ] {
            assert_eq!(
                cleartext_warning("HERALD_REGISTRY_URL", quiet),
                None,
                "{quiet}"
            );
        }
        let warning =
            cleartext_warning("HERALD_REGISTRY_URL", "http://registry.example:50051").unwrap();
        assert!(
            warning.starts_with("HERALD_REGISTRY_URL http://registry.example:50051 is plain http"),
            "{warning}"
        );
        assert!(cleartext_warning("HERALD_INGEST_URL", "http://10.0.0.5:50052").is_some());
    }
}
