//! Herald with TLS everywhere it listens: the registry and ingest serve
//! only TLS and require client certificates; ingest and the worker reach
//! the registry with theirs, and a producer posts over https.

use herald_test_support::TestPki;
use herald_tls::{CA_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE, ClientTls, PemFile, ServerTls};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_alert_is_delivered_with_mutual_tls_between_the_services() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue_files("server", &["127.0.0.1", "localhost"]);
    let (client_cert, client_key) = pki.issue_files("service", &["herald-service.test"]);
    let server_tls = ServerTls::from_paths(cert, key, Some(pki.ca_file())).unwrap();
    let client_tls = ClientTls::new(
        Some(&PemFile::new(CA_FILE, pki.ca_file())),
        Some(&PemFile::new(CLIENT_CERT_FILE, &client_cert)),
        Some(&PemFile::new(CLIENT_KEY_FILE, &client_key)),
    )
    .unwrap();
    let mut env = Env::start(move |options| {
        options.tls = Some(server_tls);
        options.client_tls = client_tls;
    })
    .await;
    assert!(env.stack.registry_url().starts_with("https://"));
    assert!(env.stack.ingest.http_url().starts_with("https://"));

    // Over mutual TLS to the registry.
    env.stack
        .put_account("ops-log", "server-log", json!({}), json!({}))
        .await
        .unwrap();

    // A producer without a client certificate is refused by ingest too.
    let trust = reqwest::Certificate::from_pem_bundle(pki.ca_pem().as_bytes()).unwrap();
    env.http = reqwest::Client::builder()
        .tls_certs_merge(trust.clone())
        .build()
        .unwrap();
    let event = json!({"actions": [{"account_id": "ops-log", "params": {"message": "over TLS"}}]});
    let refused = env
        .http
        .post(format!("{}/v1/events", env.stack.ingest.http_url()))
        .bearer_auth(&env.stack.producer_token)
        .json(&event)
        .send()
        .await;
    assert!(refused.is_err(), "answered without a client certificate");

    let mut identity = std::fs::read(&client_cert).unwrap();
    identity.extend(std::fs::read(&client_key).unwrap());
    env.http = reqwest::Client::builder()
        .tls_certs_merge(trust)
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .build()
        .unwrap();
    let (status, body) = env.submit(event).await;
    assert_eq!(status, 202, "{body}");
    let ids = action_ids(&body);
    let delivered = env.wait_for_state(&ids[0], "delivered").await;
    assert_eq!(delivered["attempts"], 1);
    env.stack.stop().await.unwrap();
}
