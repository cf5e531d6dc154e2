//! Microsoft Graph (`service: exchange_server`) against wiremock: the token
//! request, the sendMail body, token reuse, a new token after a 401, and
//! throttling.

use std::time::Duration;

use crate::delivery::testing;
use herald_proto::v1::ErrorKind;
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::deliver;
use crate::email::Email;

const SECRET: &str = "graph-Client-Secret~42";
const SEND_PATH: &str = "/v1.0/users/alerts@example.com/sendMail";

fn account(server: &MockServer) -> crate::delivery::Account {
    testing::account(
        "email",
        json!({
            "service": "exchange_server", "from": "alerts@example.com",
            "tenantId": "tenant-1", "clientId": "client-1",
            "oauthTokenUrl": format!("{}/tenant-1/oauth2/v2.0/token", server.uri()),
            "graphApiUrl": format!("{}/v1.0", server.uri()),
        }),
        json!({"clientSecret": SECRET}),
    )
}

fn params() -> serde_json::Value {
    json!({
        "to": ["Bob <bob@example.org>"], "cc": ["carol@example.org"], "bcc": ["dave@example.org"],
        "subject": "Disk full", "message": "**Disk** full",
        "attachments": [{"filename": "a.txt", "contentType": "text/plain", "content": "aGVsbG8="}],
    })
}

fn token(access_token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"token_type": "Bearer", "expires_in": 3599, "access_token": access_token}),
    )
}

async fn mount_token(server: &MockServer, expected_calls: u64) {
    Mock::given(method("POST"))
        .and(path("/tenant-1/oauth2/v2.0/token"))
        .and(header(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        ))
        .and(body_string_contains("client_id=client-1"))
        .and(body_string_contains(
            "client_secret=graph-Client-Secret%7E42",
        ))
        .and(body_string_contains(
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(token("tok-1"))
        .expect(expected_calls)
        .mount(server)
        .await;
}

#[tokio::test]
async fn sends_graph_json_with_the_token_and_reuses_the_token() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .and(header("authorization", "Bearer tok-1"))
        .and(body_json(json!({"message": {
            "subject": "Disk full",
            "body": {"contentType": "HTML", "content": "<p><strong>Disk</strong> full</p>\n"},
            "toRecipients": [{"emailAddress": {"address": "bob@example.org", "name": "Bob"}}],
            "ccRecipients": [{"emailAddress": {"address": "carol@example.org"}}],
            "bccRecipients": [{"emailAddress": {"address": "dave@example.org"}}],
            "internetMessageId": "<act-1@example.com>",
            "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt",
                             "contentType": "text/plain", "contentBytes": "aGVsbG8="}],
        }})))
        .respond_with(ResponseTemplate::new(202))
        .expect(2)
        .mount(&server)
        .await;
    let email = Email::default();
    testing::delivered(deliver(&email, account(&server), params()).await);
    testing::delivered(deliver(&email, account(&server), params()).await);
}

#[tokio::test]
async fn a_401_drops_the_token_and_a_new_one_is_fetched() {
    let server = MockServer::start().await;
    mount_token(&server, 2).await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    testing::delivered(deliver(&Email::default(), account(&server), params()).await);
}

#[tokio::test]
async fn throttling_honours_retry_after() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(
                    json!({"error": {"code": "ApplicationThrottled", "message": "slow down"}}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3"))
        .mount(&server)
        .await;
    let email = Email::default();
    let (kind, after, reason) = testing::retry(deliver(&email, account(&server), params()).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(7)))
    );
    assert!(
        reason.contains("Microsoft Graph sendMail is rate limiting this account (429)"),
        "{reason}"
    );
    let (kind, after, _) = testing::retry(deliver(&email, account(&server), params()).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::VendorTemporary, Some(Duration::from_secs(3)))
    );
}

#[tokio::test]
async fn refused_client_credentials_fail_for_good_without_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-1/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"})))
        .mount(&server)
        .await;
    let outcome = deliver(&Email::default(), account(&server), params()).await;
    testing::assert_no_secret(&outcome, &[SECRET, "graph-Client-Secret%7E42"]);
    let (kind, reason) = testing::permanent(outcome);
    assert_eq!(kind, ErrorKind::Auth);
    assert!(
        reason.starts_with("Microsoft token endpoint answered 401: invalid_client; AADSTS7000215"),
        "{reason}"
    );
}

#[tokio::test]
async fn no_secret_in_any_outcome() {
    for answer in testing::answers() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/tenant-1/oauth2/v2.0/token"))
            .respond_with(token("tok-Secret-9"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(SEND_PATH))
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = deliver(&Email::default(), account(&server), params()).await;
        testing::assert_no_secret(&outcome, &[SECRET, "tok-Secret-9"]);
    }
}
