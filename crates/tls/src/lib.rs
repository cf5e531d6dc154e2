//! TLS for Herald: the registry's and ingest's listeners ([`ServerTls`],
//! from `HERALD_TLS_CERT_FILE`, `HERALD_TLS_KEY_FILE` and
//! `HERALD_TLS_CLIENT_CA_FILE`) and the gRPC clients of ingest, workers and
//! heraldctl ([`ClientTls`], from `HERALD_TLS_CA_FILE`,
//! `HERALD_TLS_CLIENT_CERT_FILE` and `HERALD_TLS_CLIENT_KEY_FILE`).
//!
//! Files are read once, at start; every error names the variable (or flag)
//! and the file, never what the file holds. rustls runs on aws-lc-rs, the
//! provider reqwest already uses for outbound HTTPS, so one crypto stack
//! serves both directions.

mod client;
mod pem;
mod server;

use std::sync::Arc;

pub use client::{ClientTls, cleartext_warning, error_chain};
pub use pem::{PemFile, TlsError};
pub use server::{ServerTls, TlsListener, mode, serve_grpc, serve_http};

pub const CERT_FILE: &str = "HERALD_TLS_CERT_FILE";
pub const KEY_FILE: &str = "HERALD_TLS_KEY_FILE";
pub const CLIENT_CA_FILE: &str = "HERALD_TLS_CLIENT_CA_FILE";
pub const CA_FILE: &str = "HERALD_TLS_CA_FILE";
pub const CLIENT_CERT_FILE: &str = "HERALD_TLS_CLIENT_CERT_FILE";
pub const CLIENT_KEY_FILE: &str = "HERALD_TLS_CLIENT_KEY_FILE";

/// The provider is named rather than taken from the process default:
/// the workspace compiles rustls with both ring (async-nats) and aws-lc-rs,
/// and with two compiled in rustls refuses to pick a default.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
