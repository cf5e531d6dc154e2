//! [`ServerTls::listen`] under real rustls clients: a client certificate
//! signed by the client CA gets through; none, or another CA's, does not.

use std::sync::Arc;

use herald_test_support::TestPki;
use herald_tls::ServerTls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A rustls client trusting `pki`'s CA, presenting a certificate from
/// `identity` when given.
fn connector(pki: &TestPki, identity: Option<&TestPki>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(issuer) => {
            let (cert, key) = issuer.issue(&["client.test"]);
            builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                )
                .unwrap()
        }
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Connects, sends a line and reads the server's echo of it.
async fn echo(
    addr: std::net::SocketAddr,
    connector: tokio_rustls::TlsConnector,
) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(b"ping\n").await?;
    let mut buf = [0u8; 5];
    tls.read_exact(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[tokio::test]
async fn client_certificates_are_verified_against_the_client_ca() {
    herald_test_support::init_tracing();
    let pki = TestPki::new();
    let (cert, key) = pki.issue_files("server", &["127.0.0.1"]);
    let tls = ServerTls::from_paths(cert, key, Some(pki.ca_file())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut incoming = tls.listen(listener);
    tokio::spawn(async move {
        use axum::serve::Listener;
        loop {
            let (mut stream, _) = incoming.accept().await;
            tokio::spawn(async move {
                let mut buf = [0u8; 5];
                if stream.read_exact(&mut buf).await.is_ok() {
                    let _ = stream.write_all(&buf).await;
                }
            });
        }
    });

    assert_eq!(
        echo(addr, connector(&pki, Some(&pki))).await.unwrap(),
        "ping\n"
    );
    let error = echo(addr, connector(&pki, None)).await.unwrap_err();
    assert!(error.to_string().contains("CertificateRequired"), "{error}");
    let error = echo(addr, connector(&pki, Some(&TestPki::new())))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("UnknownCA"), "{error}");
}
