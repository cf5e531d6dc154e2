//! Reading PEM files named by a variable or flag, with errors that name
//! both and never quote the file's content.

use std::path::PathBuf;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{name}: cannot read {path}: {source}")]
    Read {
        name: String,
        path: String,
        source: std::io::Error,
    },
    #[error("{name}: {path} {problem}")]
    Invalid {
        name: String,
        path: String,
        problem: String,
    },
    /// Variables that go together, given apart; or a URL that cannot be used.
    #[error("{0}")]
    Settings(String),
}

/// A PEM file and the variable (or flag) that named it, for errors.
#[derive(Debug, Clone)]
pub struct PemFile {
    name: String,
    path: PathBuf,
}

impl PemFile {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> PemFile {
        PemFile {
            name: name.into(),
            path: path.into(),
        }
    }

    /// The file named by `var`; an empty variable counts as unset.
    pub fn from_env(var: &str) -> Option<PemFile> {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(|path| PemFile::new(var, path))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn invalid(&self, problem: impl Into<String>) -> TlsError {
        TlsError::Invalid {
            name: self.name.clone(),
            path: self.path.display().to_string(),
            problem: problem.into(),
        }
    }

    pub(crate) fn read(&self) -> Result<Vec<u8>, TlsError> {
        std::fs::read(&self.path).map_err(|source| TlsError::Read {
            name: self.name.clone(),
            path: self.path.display().to_string(),
            source,
        })
    }

    /// Every certificate in the file; at least one.
    pub(crate) fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let bytes = self.read()?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, pem::Error>>()
            .map_err(|e| self.invalid(format!("is not valid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(self.invalid("holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
        }
        Ok(certs)
    }

    /// The file's private key (PKCS#8, PKCS#1 or SEC1). The parser's own
    /// message is left out: it could quote part of the key.
    pub(crate) fn private_key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        let bytes = self.read()?;
        if bytes.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
            return Err(self.invalid("holds an encrypted key; give the key without a passphrase"));
        }
        PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
            pem::Error::NoItemsFound => {
                self.invalid("holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")
            }
            _ => self.invalid("is not a valid PEM private key"),
        })
    }

    /// The file as PEM text after checking it holds certificates, for
    /// APIs that take PEM (tonic's client configuration).
    pub(crate) fn certificates_pem(&self) -> Result<Vec<u8>, TlsError> {
        self.certificates()?;
        self.read()
    }
}

/// A certificate chain and the key that goes with it, checked to match.
pub(crate) fn identity(
    cert: &PemFile,
    key: &PemFile,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain = cert.certificates()?;
    let private_key = key.private_key()?;
    rustls::sign::CertifiedKey::from_der(
        chain.clone(),
        private_key.clone_key(),
        &crate::provider(),
    )
    .map_err(|e| {
        key.invalid(format!(
            "does not go with the certificate in {} ({}): {e}",
            cert.name,
            cert.path.display()
        ))
    })?;
    Ok((chain, private_key))
}
