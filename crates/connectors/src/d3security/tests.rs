use crate::delivery::testing::{account, delivered, delivery, object, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{D3Security, build};
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const TOKEN: &str = "D3-TOKEN-SECRET";

fn d3_account(url: &str) -> Account {
    account("d3security", json!({"url": url}), json!({"token": TOKEN}))
}

async fn deliver(url: &str, params: Value) -> Outcome {
    D3Security
        .deliver(&delivery(d3_account(url), params), &outbound())
        .await
}

fn run(sub_action: &str, params: Value) -> Value {
    json!({"subAction": sub_action, "subActionParams": params})
}

#[tokio::test]
async fn posts_the_event_with_severity_and_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/VSOC/Api/Data/Elastic/Event"))
        .and(header("d3key", TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"rule": "disk", "host": "db-1", "severity": "high", "eventType": "alert"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"refid": "D3-778"})))
        .expect(2)
        .mount(&server)
        .await;
    let url = format!("{}/VSOC/Api/Data/Elastic/Event", server.uri());
    for sub_action in ["run", "test"] {
        let params = run(
            sub_action,
            json!({"body": "{\"rule\": \"disk\", \"host\": \"db-1\"}", "severity": "high", "eventType": "alert"}),
        );
        assert_eq!(
            delivered(deliver(&url, params).await),
            [("refid".to_owned(), "D3-778".to_owned())]
        );
    }
}

#[tokio::test]
async fn an_empty_body_posts_an_empty_event() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(json!({})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"refid": "1"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(&server.uri(), run("run", json!({"severity": ""}))).await;
    assert_eq!(delivered(outcome), [("refid".to_owned(), "1".to_owned())]);
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let params = run("run", json!({"body": "{}"}));
    assert_error_statuses(&server, "D3 Security", || deliver(&uri, params.clone())).await;
    assert_secrets_hidden(&server, &[TOKEN], || deliver(&uri, params.clone())).await;
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let url = "https://d3.example.com/event";
    let cases = [
        (
            d3_account(url),
            json!({"subAction": "stories"}),
            ErrorKind::InvalidParams,
            "subAction: must be run or test",
        ),
        (
            d3_account(url),
            run("run", json!({"body": "[1]"})),
            ErrorKind::InvalidParams,
            "subActionParams.body: must be a JSON object",
        ),
        (
            d3_account(url),
            run("run", json!({"body": "{x"})),
            ErrorKind::InvalidParams,
            "subActionParams.body: must be a JSON document",
        ),
        (
            account("d3security", json!({"url": url}), json!({})),
            run("run", json!({})),
            ErrorKind::InvalidConfig,
            "secrets.token: required",
        ),
    ];
    for (account, params, kind, reason) in cases {
        assert_eq!(
            permanent(build(&object(params), &account).unwrap_err()),
            (kind, reason.to_owned())
        );
    }
}
