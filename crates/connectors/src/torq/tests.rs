use crate::delivery::testing::{account, delivered, delivery, object, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Torq, build};
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const TOKEN: &str = "TORQ-TOKEN-SECRET";

fn torq_account(url: &str) -> Account {
    account(
        "torq",
        json!({"webhookIntegrationUrl": url}),
        json!({"token": TOKEN}),
    )
}

async fn deliver(url: &str, params: Value) -> Outcome {
    Torq.deliver(&delivery(torq_account(url), params), &outbound())
        .await
}

#[tokio::test]
async fn posts_the_body_with_the_token_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/triggers/abc/webhook"))
        .and(header("x-torq-token", TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"alert": "db-1 down", "used": 97})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"event_id": "e-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/v1/triggers/abc/webhook", server.uri());
    let outcome = deliver(
        &url,
        json!({"body": "{\"alert\": \"db-1 down\", \"used\": 97}"}),
    )
    .await;
    assert_eq!(delivered(outcome), []);
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let (uri, params) = (server.uri(), json!({"body": "{}"}));
    assert_error_statuses(&server, "Torq", || deliver(&uri, params.clone())).await;
    assert_secrets_hidden(&server, &[TOKEN], || deliver(&uri, params.clone())).await;
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let url = "https://hooks.torq.io/v1/x";
    let cases = [
        (
            torq_account(url),
            json!({}),
            ErrorKind::InvalidParams,
            "body: required",
        ),
        (
            torq_account(url),
            json!({"body": "{not json"}),
            ErrorKind::InvalidParams,
            "body: must be a JSON document",
        ),
        (
            account("torq", json!({"webhookIntegrationUrl": url}), json!({})),
            json!({"body": "{}"}),
            ErrorKind::InvalidConfig,
            "secrets.token: required",
        ),
        (
            account("torq", json!({}), json!({"token": TOKEN})),
            json!({"body": "{}"}),
            ErrorKind::InvalidConfig,
            "config.webhookIntegrationUrl: required",
        ),
    ];
    for (account, params, kind, reason) in cases {
        assert_eq!(
            permanent(build(&object(params), &account).unwrap_err()),
            (kind, reason.to_owned())
        );
    }
}
