use crate::delivery::testing::{account, delivered, delivery, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::Swimlane;
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const TOKEN: &str = "SWIMLANE-TOKEN-SECRET";

fn field(id: &str) -> Value {
    json!({"id": id, "key": id, "name": id, "fieldType": "text"})
}

fn swimlane_account(url: &str) -> Account {
    account(
        "swimlane",
        json!({"apiUrl": url, "appId": "app1", "connectorType": "all", "mappings": {
            "ruleNameConfig": field("f-rule"), "alertIdConfig": field("f-alert"),
            "severityConfig": field("f-sev"), "descriptionConfig": field("f-desc"),
            "commentsConfig": field("f-comments"), "caseIdConfig": null}}),
        json!({"apiToken": TOKEN}),
    )
}

async fn deliver(url: &str, params: Value) -> Outcome {
    Swimlane
        .deliver(&delivery(swimlane_account(url), params), &outbound())
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
async fn push_creates_a_record_with_mapped_fields_then_comments() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/app/app1/record"))
        .and(header("private-token", TOKEN))
        .and(header("content-type", "application/json"))
        // caseName has no mapping: left out.
        .and(body_json(json!({"applicationId": "app1", "values": {
            "f-rule": "disk", "f-alert": "alert-1", "f-sev": "high", "f-desc": "db-1 down"}})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "aBc123", "name": "SW-12"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let comment_has_a_date = |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        body["createdDate"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z') && d.len() >= 20)
    };
    Mock::given(method("POST"))
        .and(path("/api/app/app1/record/aBc123/f-comments/comment"))
        .and(header("private-token", TOKEN))
        .and(body_partial_json(
            json!({"fieldId": "f-comments", "isRichText": true, "message": "still down"}),
        ))
        .and(comment_has_a_date)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let params = push(
        json!({"ruleName": "disk", "alertId": "alert-1", "severity": "high", "description": "db-1 down", "caseName": "c"}),
        json!([{"comment": "still down", "commentId": "1"}]),
    );
    let url = format!("{}/record/app1/aBc123", server.uri());
    assert_eq!(
        delivered(deliver(&server.uri(), params).await),
        strings(&[("name", "SW-12"), ("record_id", "aBc123"), ("url", &url)])
    );
}

#[tokio::test]
async fn push_updates_the_named_record() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/api/app/app1/record/aBc123"))
        .and(body_json(
            json!({"applicationId": "app1", "id": "aBc123", "values": {"f-desc": "resolved"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "aBc123", "name": "SW-12"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server.uri(),
        push(
            json!({"description": "resolved", "externalId": "aBc123"}),
            Value::Null,
        ),
    )
    .await;
    assert_eq!(
        delivered(outcome)[1],
        ("record_id".to_owned(), "aBc123".to_owned())
    );
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let params = push(
        json!({"ruleName": "r"}),
        json!([{"comment": "c", "commentId": "1"}]),
    );
    assert_error_statuses(&server, "Swimlane", || deliver(&uri, params.clone())).await;
    assert_secrets_hidden(&server, &[TOKEN], || deliver(&uri, params.clone())).await;
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"ErrorCode": 1051, "Argument": "ApplicationId"})),
        )
        .mount(&server)
        .await;
    assert_eq!(
        permanent(deliver(&uri, params).await),
        (
            ErrorKind::VendorRejected,
            "Swimlane answered 400: ErrorCode 1051: ApplicationId".into()
        )
    );
}

#[tokio::test]
async fn bad_params_and_accounts_name_the_field() {
    let url = "https://swimlane.example.com";
    let cases = [
        (
            swimlane_account(url),
            push(json!({"title": "x"}), Value::Null),
            ErrorKind::InvalidParams,
            "subActionParams.incident.title: unknown field",
        ),
        (
            swimlane_account(url),
            json!({"subAction": "getIncident"}),
            ErrorKind::InvalidParams,
            "subAction: must be pushToService",
        ),
        (
            swimlane_account(url),
            push(json!({"externalId": ".."}), Value::Null),
            ErrorKind::InvalidParams,
            "subActionParams.incident.externalId: must not be . or ..",
        ),
        (
            account(
                "swimlane",
                json!({"apiUrl": url, "appId": "a", "mappings": {"ruleNameConfig": {"key": "k"}}}),
                json!({"apiToken": TOKEN}),
            ),
            push(json!({}), Value::Null),
            ErrorKind::InvalidConfig,
            "config.mappings.ruleNameConfig.id: required",
        ),
        (
            account(
                "swimlane",
                json!({"apiUrl": url, "appId": "a", "mappings": {}}),
                json!({}),
            ),
            push(json!({}), Value::Null),
            ErrorKind::InvalidConfig,
            "secrets.apiToken: required",
        ),
    ];
    for (account, params, kind, reason) in cases {
        let outcome = Swimlane
            .deliver(&delivery(account, params), &outbound())
            .await;
        assert_eq!(permanent(outcome), (kind, reason.to_owned()));
    }
}
