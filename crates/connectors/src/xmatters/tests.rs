use crate::delivery::testing::{account, delivered, delivery, object, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{XMatters, build};
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const PASSWORD: &str = "XM-PASSWORD-SECRET";
const API_KEY: &str = "XM-APIKEY-SECRET";

fn basic(url: &str) -> Account {
    account(
        "xmatters",
        json!({"configUrl": url, "usesBasic": true}),
        json!({"user": "herald", "password": PASSWORD}),
    )
}

fn url_key(url: &str) -> Account {
    account(
        "xmatters",
        json!({"usesBasic": false}),
        json!({"secretsUrl": format!("{url}/api/integration/1/functions/abc/triggers?apiKey={API_KEY}")}),
    )
}

async fn deliver(account: Account, params: Value) -> Outcome {
    XMatters
        .deliver(&delivery(account, params), &outbound())
        .await
}

fn alert() -> Value {
    json!({"alertActionGroupName": "Threshold met", "signalId": "alert-1", "ruleName": "disk",
           "date": "2026-01-01T10:00:00Z", "severity": "Critical", "spaceId": "default", "tags": "db,prod"})
}

#[tokio::test]
async fn basic_auth_posts_the_alert_fields() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/integration/1/functions/abc/triggers"))
        // herald:XM-PASSWORD-SECRET
        .and(header(
            "authorization",
            "Basic aGVyYWxkOlhNLVBBU1NXT1JELVNFQ1JFVA==",
        ))
        .and(header("content-type", "application/json"))
        .and(body_json(alert()))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": "f2f6d9b4-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/api/integration/1/functions/abc/triggers", server.uri());
    let outcome = deliver(basic(&url), alert()).await;
    assert_eq!(
        delivered(outcome),
        [("request_id".to_owned(), "f2f6d9b4-1".to_owned())]
    );
}

#[tokio::test]
async fn url_with_api_key_posts_without_auth_and_defaults_severity() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/integration/1/functions/abc/triggers"))
        .and(query_param("apiKey", API_KEY))
        .and(body_json(json!({"ruleName": "disk", "severity": "High"})))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": "r-2"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        url_key(&server.uri()),
        json!({"ruleName": "disk", "severity": ""}),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [("request_id".to_owned(), "r-2".to_owned())]
    );
    let request = &server.received_requests().await.unwrap()[0];
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    assert_error_statuses(&server, "xMatters", || deliver(basic(&uri), alert())).await;
    for account in [basic(&uri), url_key(&uri)] {
        let secrets = [PASSWORD, API_KEY, "aGVyYWxkOlhNLVBBU1NXT1JELVNFQ1JFVA"];
        assert_secrets_hidden(&server, &secrets, || deliver(account.clone(), alert())).await;
    }
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let url = "https://acme.xmatters.com/api/x";
    let cases = [
        (
            basic(url),
            json!({"severity": 1}),
            ErrorKind::InvalidParams,
            "severity: must be a string",
        ),
        (
            basic(url),
            json!({"message": "x"}),
            ErrorKind::InvalidParams,
            "message: unknown field",
        ),
        (
            account("xmatters", json!({"configUrl": url}), json!({"user": "u"})),
            json!({}),
            ErrorKind::InvalidConfig,
            "secrets.password: required",
        ),
        (
            account("xmatters", json!({"usesBasic": false}), json!({})),
            json!({}),
            ErrorKind::InvalidConfig,
            "secrets.secretsUrl: required",
        ),
        (
            account(
                "xmatters",
                json!({"usesBasic": false}),
                json!({"secretsUrl": format!("acme/{API_KEY}")}),
            ),
            json!({}),
            ErrorKind::InvalidConfig,
            "secrets.secretsUrl: must be an absolute http(s) URL",
        ),
    ];
    for (account, params, kind, reason) in cases {
        assert_eq!(
            permanent(build(&object(params), &account).unwrap_err()),
            (kind, reason.to_owned())
        );
    }
}
