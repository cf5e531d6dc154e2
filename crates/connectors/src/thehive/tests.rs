use crate::delivery::testing::{account, delivered, delivery, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::TheHive;
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const API_KEY: &str = "HIVE-APIKEY-SECRET";
const BEARER: &str = "Bearer HIVE-APIKEY-SECRET";

fn hive_account(url: &str) -> Account {
    account(
        "thehive",
        json!({"url": url, "organisation": "soc"}),
        json!({"apiKey": API_KEY}),
    )
}

async fn deliver(url: &str, params: Value) -> Outcome {
    TheHive
        .deliver(&delivery(hive_account(url), params), &outbound())
        .await
}

fn push(incident: Value, comments: Value) -> Value {
    json!({"subAction": "pushToService", "subActionParams": {"incident": incident, "comments": comments}})
}

fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn push_creates_the_case_then_comments() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/case"))
        .and(header("authorization", BEARER))
        .and(header("x-organisation", "soc"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"title": "db-1 down", "description": "disk full", "severity": 3, "tlp": 1, "tags": ["db"]})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"_id": "~41", "number": 7, "title": "db-1 down"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/case/~41/comment"))
        .and(header("authorization", BEARER))
        .and(body_json(json!({"message": "still down"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"_id": "~99"})))
        .expect(1)
        .mount(&server)
        .await;
    let params = push(
        json!({"title": "db-1 down", "description": "disk full", "severity": 3, "tlp": 1, "tags": ["db"]}),
        json!([{"comment": "still down", "commentId": "c1"}]),
    );
    let url = format!("{}/cases/~41/details", server.uri());
    assert_eq!(
        delivered(deliver(&server.uri(), params).await),
        strings(&[("case_id", "~41"), ("case_number", "7"), ("url", &url)])
    );
}

#[tokio::test]
async fn push_updates_the_named_case_with_default_severity_and_tlp() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/case/~41"))
        .and(body_json(
            json!({"title": "t", "description": "d", "severity": 2, "tlp": 2}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server.uri(),
        push(
            json!({"title": "t", "description": "d", "externalId": "~41"}),
            Value::Null,
        ),
    )
    .await;
    let url = format!("{}/cases/~41/details", server.uri());
    assert_eq!(
        delivered(outcome),
        strings(&[("case_id", "~41"), ("url", &url)])
    );
}

#[tokio::test]
async fn create_alert_merges_the_body_under_the_named_fields() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/alert"))
        .and(header("authorization", BEARER))
        .and(body_json(
            json!({"title": "t", "description": "d", "type": "herald", "source": "herald",
            "sourceRef": "alert-1", "severity": 4, "tlp": 2, "tags": ["x"],
            "observables": [{"dataType": "ip", "data": "10.0.0.1"}]}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"_id": "~77", "_type": "Alert"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let params = json!({"subAction": "createAlert", "subActionParams": {"title": "t", "description": "d",
        "type": "herald", "source": "herald", "sourceRef": "alert-1", "severity": 4, "isRuleSeverity": false,
        "tags": ["x"], "body": "{\"observables\": [{\"dataType\": \"ip\", \"data\": \"10.0.0.1\"}], \"title\": \"ignored\"}"}});
    assert_eq!(
        delivered(deliver(&server.uri(), params).await),
        strings(&[("alert_id", "~77")])
    );
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let case = push(
        json!({"title": "t", "description": "d"}),
        json!([{"comment": "c", "commentId": "1"}]),
    );
    assert_error_statuses(&server, "TheHive", || deliver(&uri, case.clone())).await;
    assert_secrets_hidden(&server, &[API_KEY], || deliver(&uri, case.clone())).await;
    // A duplicate sourceRef: TheHive's own words reach the result.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"type": "CreateError", "message": "Alert already exists"})),
        )
        .mount(&server)
        .await;
    let alert = json!({"subAction": "createAlert", "subActionParams": {"title": "t", "description": "d", "type": "a", "source": "b", "sourceRef": "c"}});
    assert_eq!(
        permanent(deliver(&uri, alert).await),
        (
            ErrorKind::VendorRejected,
            "TheHive answered 400: Alert already exists".into()
        )
    );
}

#[tokio::test]
async fn bad_params_name_the_field() {
    let cases = [
        (
            push(json!({"title": "t"}), Value::Null),
            "subActionParams.incident.description: required",
        ),
        (
            push(
                json!({"title": "t", "description": "d", "severity": 9}),
                Value::Null,
            ),
            "subActionParams.incident.severity: must be an integer from 1 to 4",
        ),
        (
            push(
                json!({"title": "t", "description": "d", "tags": [1]}),
                Value::Null,
            ),
            "subActionParams.incident.tags[0]: must be a string",
        ),
        (
            json!({"subAction": "createAlert", "subActionParams": {"title": "t"}}),
            "subActionParams.description: required",
        ),
        (
            json!({"subAction": "closeCase"}),
            "subAction: must be pushToService or createAlert",
        ),
        (
            push(
                json!({"title": "t", "description": "d", "externalId": ".."}),
                Value::Null,
            ),
            "subActionParams.incident.externalId: must not be . or ..",
        ),
    ];
    for (params, reason) in cases {
        assert_eq!(
            permanent(deliver("https://hive.example.com", params).await),
            (ErrorKind::InvalidParams, reason.to_owned())
        );
    }
}
