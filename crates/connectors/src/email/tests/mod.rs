//! The email connector against real servers: aiosmtpd on loopback for SMTP
//! (`smtp.rs`), wiremock for Microsoft Graph (`graph.rs`); and the pure
//! message build (`message.rs`).

mod graph;
mod message;
mod smtp;

use crate::delivery::testing;
use crate::delivery::{Account, Outcome};
use serde_json::Value;

use super::Email;

/// A self-signed certificate for `names`: (certificate PEM, key PEM).
pub fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names).expect("a certificate");
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

/// A self-signed certificate for `names` valid only from `not_before` to
/// `not_after` (year, month, day): (certificate PEM, key PEM).
pub fn self_signed_valid(
    names: &[&str],
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("params");
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = params.self_signed(&key).expect("a certificate");
    (cert.pem(), key.serialize_pem())
}

/// A CA and a certificate it issued for `names`: (CA PEM, certificate
/// PEM, key PEM).
pub fn ca_signed(names: &[&str]) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("a key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Herald test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
    let key = rcgen::KeyPair::generate().expect("a key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let cert = rcgen::CertificateParams::new(names)
        .expect("params")
        .signed_by(&key, &ca)
        .expect("a certificate");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

pub async fn deliver(email: &Email, account: Account, params: Value) -> Outcome {
    use crate::delivery::Connector as _;
    let delivery = testing::delivery(account, params);
    email.deliver(&delivery, &testing::outbound()).await
}

/// Runs `work` with a subscriber that keeps every log line (INFO and up)
/// and returns them with its result.
pub async fn with_logs<T>(work: impl std::future::Future<Output = T>) -> (T, String) {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let result = work.await;
    drop(guard);
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (result, logs)
}
