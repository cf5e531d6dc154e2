//! A throwaway certificate authority for TLS tests: real certificates
//! (rcgen), written to a temporary directory when a test needs files.

use std::path::PathBuf;

/// A CA, the certificates it signs, and a directory for their files.
pub struct TestPki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    dir: tempfile::TempDir,
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

impl TestPki {
    pub fn new() -> TestPki {
        let key = rcgen::KeyPair::generate().expect("generating a CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        // A name of its own, as real CAs have: with a shared one, a
        // certificate from another test CA would read as a bad signature
        // rather than an unknown issuer.
        let serial: u32 = rand::random();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("Herald test CA {serial:08x}"),
        );
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params.self_signed(&key).expect("self-signing the CA");
        TestPki {
            ca_pem: ca.pem(),
            issuer: rcgen::Issuer::new(params, key),
            dir: tempfile::tempdir().expect("a temporary directory for certificates"),
        }
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A certificate for `names` (DNS names or IP addresses), and its key,
    /// both PEM.
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("generating a key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = rcgen::CertificateParams::new(names)
            .expect("certificate params")
            .signed_by(&key, &self.issuer)
            .expect("signing a certificate");
        (cert.pem(), key.serialize_pem())
    }

    /// Writes `content` to `name` in this PKI's directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("writing a certificate file");
        path
    }

    /// The CA certificate as a file.
    pub fn ca_file(&self) -> PathBuf {
        self.write("ca.pem", &self.ca_pem)
    }

    /// A certificate for `names` and its key, as files `<stem>.pem` and
    /// `<stem>.key`: a server's (127.0.0.1, localhost) or a client's.
    pub fn issue_files(&self, stem: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let (cert, key) = self.issue(names);
        (
            self.write(&format!("{stem}.pem"), &cert),
            self.write(&format!("{stem}.key"), &key),
        )
    }
}
