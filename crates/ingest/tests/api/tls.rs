//! Ingest's listeners over TLS: `POST /v1/events` over https with a real
//! handshake, gRPC `Submit` over TLS, and plain HTTP refused on the TLS port.

use herald_ingest::Settings;
use herald_proto::v1::ingest_client::IngestClient;
use herald_test_support::TestPki;
use herald_tls::{CA_FILE, ClientTls, PemFile, ServerTls};
use serde_json::{Value, json};

use crate::helpers::*;

fn serve_tls(pki: &TestPki) -> impl FnOnce(&mut Settings) {
    let (cert, key) = pki.issue_files("ingest", &["127.0.0.1", "localhost"]);
    let tls = ServerTls::from_paths(cert, key, None).unwrap();
    move |settings| settings.tls = Some(tls)
}

#[tokio::test]
async fn events_are_accepted_over_https_and_plain_http_is_refused() {
    let pki = TestPki::new();
    let mut app = TestApp::start_with(serve_tls(&pki)).await;
    let url = app.http_url("/v1/events");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    app.http = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(pki.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let event = json!({"actions": [{"account_id": "ops-slack", "params": {"message": "hi"}}]});
    let response = app.post_event(Some(PRODUCER), &event).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["actions"][0]["connector_type"], "slack");

    // gRPC on the other listener, same certificate.
    let ca = PemFile::new(CA_FILE, pki.ca_file());
    let channel = ClientTls::new(Some(&ca), None, None)
        .unwrap()
        .endpoint("HERALD_INGEST_URL", &app.ingest.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    app.grpc = IngestClient::new(channel);
    let submitted = app.submit(PRODUCER, request(&event)).await.unwrap();
    assert_eq!(submitted.actions.len(), 1);
    assert_eq!(app.action_count().await, 2);

    // The token never goes out in clear: plain HTTP to the TLS port fails
    // at the connection, before any response.
    let plain = url.replace("https://", "http://");
    let refused = reqwest::Client::new()
        .post(&plain)
        .bearer_auth(PRODUCER)
        .json(&event)
        .send()
        .await;
    assert!(refused.is_err(), "plain HTTP was answered: {refused:?}");
}
