use std::time::Duration;

use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{DEFAULT_API_URL, Opsgenie, alias_of, build, classify};
use crate::delivery::testing::{
    account, answers, assert_no_secret, body_json as request_json, delivered, delivery, headers,
    object, outbound, permanent, response, retry,
};

const KEY: &str = "GEN1EKEYSECRET";

fn og_account(api_url: Option<&str>) -> Account {
    let config = api_url.map_or(json!({}), |url| json!({"apiUrl": url}));
    account("opsgenie", config, json!({"apiKey": KEY}))
}

fn create(params: Value) -> Value {
    json!({"subAction": "createAlert", "subActionParams": params})
}

#[test]
fn create_alert_sends_every_field_with_geniekey_auth() {
    let alert = json!({
        "message": "Disk full on db-1",
        "alias": "disk-db-1",
        "description": "97% used",
        "responders": [{"name": "ops", "type": "team"}, {"username": "a@example.com", "type": "user"}],
        "visibleTo": [{"id": "4513b7ea", "type": "team"}],
        "actions": ["restart"],
        "tags": ["disk", "prod"],
        "details": {"host": "db-1"},
        "entity": "db-1",
        "source": "herald",
        "priority": "P1",
        "user": "herald",
        "note": "first",
    });
    let request = build(&object(create(alert.clone())), &og_account(None)).unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, format!("{DEFAULT_API_URL}/v2/alerts"));
    assert_eq!(
        headers(&request),
        [
            ("content-type", "application/json"),
            ("authorization", "GenieKey GEN1EKEYSECRET")
        ]
    );
    assert_eq!(request_json(&request), alert);
}

#[test]
fn message_is_truncated_and_long_aliases_hashed() {
    let long_alias = "a".repeat(513);
    let params = create(json!({"message": "m".repeat(200), "alias": long_alias, "tags": null}));
    let request = build(
        &object(params),
        &og_account(Some("https://api.eu.opsgenie.com/")),
    )
    .unwrap();
    assert_eq!(request.url, "https://api.eu.opsgenie.com/v2/alerts");
    let body = request_json(&request);
    assert_eq!(body["message"], "m".repeat(130));
    assert_eq!(body["alias"], alias_of(&long_alias));
    assert!(
        body["alias"].as_str().unwrap().starts_with("sha-")
            && body["alias"].as_str().unwrap().len() == 68
    );
    assert_eq!(body.get("tags"), None);
    assert_eq!(alias_of("short"), "short");
}

#[test]
fn close_alert_names_the_alias() {
    let params = json!({"subAction": "closeAlert", "subActionParams": {"alias": "disk db/1", "note": "fixed", "user": ""}});
    let request = build(&object(params), &og_account(None)).unwrap();
    assert_eq!(
        request.url,
        format!("{DEFAULT_API_URL}/v2/alerts/disk%20db%2F1/close?identifierType=alias")
    );
    assert_eq!(request_json(&request), json!({"note": "fixed"}));
}

#[test]
fn bad_params_name_the_field() {
    let cases = [
        (
            json!({"subAction": "ackAlert"}),
            "subAction: must be createAlert or closeAlert",
        ),
        (create(json!({})), "subActionParams.message: required"),
        (
            create(json!({"message": "  "})),
            "subActionParams.message: must not be blank",
        ),
        (
            create(json!({"message": "m", "colour": "red"})),
            "subActionParams.colour: unknown field",
        ),
        (
            json!({"subAction": "closeAlert", "subActionParams": {}}),
            "subActionParams.alias: required",
        ),
        // `/v2/alerts/../close` would be `/v2/close`.
        (
            json!({"subAction": "closeAlert", "subActionParams": {"alias": ".."}}),
            "subActionParams.alias: must not be . or ..",
        ),
        (
            json!({"subAction": "closeAlert", "subActionParams": {"alias": "."}}),
            "subActionParams.alias: must not be . or ..",
        ),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &og_account(None)).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
    let outcome = build(
        &object(create(json!({"message": "m"}))),
        &account("opsgenie", json!({}), json!({})),
    )
    .unwrap_err();
    assert_eq!(
        permanent(outcome),
        (ErrorKind::InvalidConfig, "secrets.apiKey: required".into())
    );
}

#[test]
fn statuses() {
    let accepted = r#"{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c"}"#;
    assert_eq!(
        delivered(classify(&response(202, &[], accepted))),
        [("request_id".into(), "43a29c5c".into())]
    );
    let invalid = r#"{"message":"Request body is not processable. Please check the errors.","errors":{"message":"Message can not be empty."},"took":0.1,"requestId":"x"}"#;
    let (kind, reason) = permanent(classify(&response(422, &[], invalid)));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "Opsgenie answered 422: Request body is not processable. Please check the errors.; message: Message can not be empty."
    );
    let (_, reason) = permanent(classify(&response(
        401,
        &[],
        r#"{"message":"Key format is not valid!"}"#,
    )));
    assert_eq!(reason, "Opsgenie answered 401: Key format is not valid!");
    let (kind, after, _) = retry(classify(&response(429, &[("retry-after", "4")], "")));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(4)))
    );
    assert_eq!(
        retry(classify(&response(500, &[], ""))).0,
        ErrorKind::VendorTemporary
    );
}

async fn deliver(server: &MockServer, params: Value) -> Outcome {
    Opsgenie
        .deliver(
            &delivery(og_account(Some(&server.uri())), params),
            &outbound(),
        )
        .await
}

#[tokio::test]
async fn creates_and_closes_over_http() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/alerts"))
        .and(header("authorization", "GenieKey GEN1EKEYSECRET"))
        .and(body_json(
            json!({"message": "Disk full", "alias": "disk-db-1", "priority": "P2"}),
        ))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"result": "Request will be processed", "took": 0.1, "requestId": "r-1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/alerts/disk-db-1/close"))
        .and(query_param("identifierType", "alias"))
        .and(header("authorization", "GenieKey GEN1EKEYSECRET"))
        .and(body_json(json!({"source": "herald"})))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"result": "Request will be processed", "took": 0.1, "requestId": "r-2"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        create(json!({"message": "Disk full", "alias": "disk-db-1", "priority": "P2"})),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [
            ("alias".into(), "disk-db-1".into()),
            ("request_id".into(), "r-1".into())
        ]
    );
    let close = json!({"subAction": "closeAlert", "subActionParams": {"alias": "disk-db-1", "source": "herald"}});
    assert_eq!(
        delivered(deliver(&server, close).await)[1],
        ("request_id".into(), "r-2".into())
    );
    server.verify().await;
}

#[tokio::test]
async fn no_outcome_shows_the_key() {
    let server = MockServer::start().await;
    for answer in answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = deliver(&server, create(json!({"message": "m"}))).await;
        assert_no_secret(&outcome, &[KEY]);
    }
}
