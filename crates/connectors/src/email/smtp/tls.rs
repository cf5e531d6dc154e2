//! The TLS client settings of one SMTP account: the system's roots plus
//! `config.ca` and the operator's certificate authorities for the host,
//! checked in the operator's `verificationMode` (the host's
//! `customHostSettings` entry, or `ssl.verificationMode`); `trustAll` (any
//! certificate); `trustedHosts` with Search
//! Guard Signals' meaning: a certificate issued to one of these names is
//! accepted whoever issued it, and no other is; it must still be within
//! its validity period.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};

use crate::delivery::http::Verification;
use crate::delivery::tls::{self, provider};

/// How the server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsOptions {
    /// PEM certificates trusted besides the system's.
    pub ca: Option<String>,
    pub trust_all: bool,
    pub trusted_hosts: Vec<String>,
    /// Unless `trust_all` or `trusted_hosts` say otherwise.
    pub verification: Verification,
    /// PEM, the host's `customHostSettings` certificate authorities.
    pub host_ca: Vec<String>,
}

/// A client config for these options; the error names the field at fault.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let algorithms = provider().signature_verification_algorithms;
    let config = if options.trust_all {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptNamed {
                names: None,
                algorithms,
            }))
            .with_no_client_auth()
    } else if !options.trusted_hosts.is_empty() {
        let names = options
            .trusted_hosts
            .iter()
            .map(|host| {
                ServerName::try_from(host.trim().to_owned())
                    .map_err(|_| format!("config.trustedHosts: {host:?} is not a host name"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptNamed {
                names: Some(names),
                algorithms,
            }))
            .with_no_client_auth()
    } else {
        let mut roots = Vec::new();
        if let Some(ca) = &options.ca {
            let certs = CertificateDer::pem_slice_iter(ca.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| "config.ca is not valid PEM".to_owned())?;
            if certs.is_empty() {
                return Err("config.ca holds no PEM certificate".into());
            }
            roots.extend(certs);
        }
        for pem in &options.host_ca {
            roots.extend(tls::pem_certificates(pem.as_bytes()).ok_or_else(|| {
                "customHostSettings ssl.certificateAuthorities is not valid PEM".to_owned()
            })?);
        }
        let verifier = tls::verifier(options.verification, &roots)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// `trustAll` (`names: None`) or `trustedHosts`: the issuer is not checked;
/// with names, the certificate must be issued to one of them and valid now
/// (an expired certificate is as likely a stolen key as a forgotten
/// renewal; `trustAll` is the explicit "accept anything"). The
/// handshake's signatures are checked either way, so the server holds the
/// certificate's key.
#[derive(Debug)]
struct AcceptNamed {
    names: Option<Vec<ServerName<'static>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptNamed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(names) = &self.names else {
            return Ok(ServerCertVerified::assertion());
        };
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        if !names
            .iter()
            .any(|name| rustls::client::verify_server_name(&parsed, name).is_ok())
        {
            return Err(Error::General(
                "the certificate is not issued to any of config.trustedHosts".into(),
            ));
        }
        check_validity(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Whether `now` is within the certificate's notBefore..=notAfter, with
/// rustls's own errors (the TLS alert and the message say which end).
fn check_validity(certificate: &CertificateDer<'_>, now: UnixTime) -> Result<(), Error> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref())
        .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    let at = |timestamp: i64| {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(timestamp.max(0) as u64))
    };
    let time = now.as_secs() as i64;
    if time < validity.not_before.timestamp() {
        return Err(Error::InvalidCertificate(
            CertificateError::NotValidYetContext {
                time: now,
                not_before: at(validity.not_before.timestamp()),
            },
        ));
    }
    if time > validity.not_after.timestamp() {
        return Err(Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: now,
                not_after: at(validity.not_after.timestamp()),
            },
        ));
    }
    Ok(())
}
