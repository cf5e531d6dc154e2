//! The registry over TLS: real handshakes with certificates from a
//! throwaway CA, with and without client-certificate verification.

use herald_proto::v1::{self, account_registry_client::AccountRegistryClient};
use herald_registry::Server;
use herald_test_support::TestPki;
use herald_tls::{
    CA_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE, ClientTls, PemFile, ServerTls, error_chain,
};

use crate::helpers::*;

/// A registry serving TLS with a certificate from `pki` for 127.0.0.1;
/// with `verify_clients`, it requires client certificates signed by `pki`.
async fn tls_registry(pki: &TestPki, verify_clients: bool) -> (Server, tempfile::TempDir) {
    herald_test_support::init_tracing();
    let (cert, key) = pki.issue_files("registry", &["127.0.0.1", "localhost"]);
    let tls = ServerTls::from_paths(cert, key, verify_clients.then(|| pki.ca_file())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.tls = Some(tls);
    let server = Server::start(settings).await.expect("registry starts");
    (server, dir)
}

/// Trusts `ca`'s CA; presents a certificate from `identity` when given.
fn client_tls(ca: &TestPki, identity: Option<&TestPki>) -> ClientTls {
    let ca_file = PemFile::new(CA_FILE, ca.ca_file());
    let files = identity.map(|pki| pki.issue_files("client", &["herald-client.test"]));
    let cert = files
        .as_ref()
        .map(|(cert, _)| PemFile::new(CLIENT_CERT_FILE, cert));
    let key = files
        .as_ref()
        .map(|(_, key)| PemFile::new(CLIENT_KEY_FILE, key));
    ClientTls::new(Some(&ca_file), cert.as_ref(), key.as_ref()).unwrap()
}

/// One authenticated call; the error's whole chain as text otherwise.
async fn list_accounts(url: &str, tls: &ClientTls) -> Result<usize, String> {
    let channel = tls
        .endpoint("HERALD_REGISTRY_URL", url)
        .unwrap()
        .connect()
        .await
        .map_err(|e| error_chain(&e))?;
    let mut client = AccountRegistryClient::new(channel);
    client
        .list_accounts(authed(ADMIN, v1::ListAccountsRequest::default()))
        .await
        .map(|r| r.into_inner().accounts.len())
        .map_err(|status| error_chain(&status))
}

#[tokio::test]
async fn clients_trusting_the_ca_are_served_and_others_refused() {
    let pki = TestPki::new();
    let (server, _dir) = tls_registry(&pki, false).await;
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    assert_eq!(list_accounts(&url, &client_tls(&pki, None)).await, Ok(0));

    let stranger = TestPki::new();
    let error = list_accounts(&url, &client_tls(&stranger, None))
        .await
        .unwrap_err();
    assert!(
        error.contains("invalid peer certificate") && error.contains("UnknownIssuer"),
        "{error}"
    );

    // Plain HTTP/2 to the TLS port gets no answer from the service.
    let plain = url.replace("https://", "http://");
    assert!(
        list_accounts(&plain, &ClientTls::default()).await.is_err(),
        "plain gRPC was served on the TLS port"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn with_a_client_ca_only_clients_with_its_certificates_are_served() {
    let pki = TestPki::new();
    let (server, _dir) = tls_registry(&pki, true).await;
    let url = server.url();

    assert_eq!(
        list_accounts(&url, &client_tls(&pki, Some(&pki))).await,
        Ok(0)
    );

    let error = list_accounts(&url, &client_tls(&pki, None))
        .await
        .unwrap_err();
    assert!(error.contains("CertificateRequired"), "{error}");

    let stranger = TestPki::new();
    let error = list_accounts(&url, &client_tls(&pki, Some(&stranger)))
        .await
        .unwrap_err();
    assert!(error.contains("UnknownCA"), "{error}");
    server.stop().await.unwrap();
}
