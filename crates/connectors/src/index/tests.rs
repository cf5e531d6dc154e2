use std::time::{Duration, SystemTime};

use crate::delivery::{Account, Connector};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Index, build, classify, rfc3339};
use crate::delivery::testing::{
    account, answers, assert_no_secret, delivered, delivery, headers, object, outbound, permanent,
    response, retry,
};

const API_KEY: &str = "AP1KEYSECRET";
const PASSWORD: &str = "ESPASSWORDSECRET";

fn es_account(config: Value, secrets: Value) -> Account {
    account("index", config, secrets)
}

#[test]
fn formats_rfc3339() {
    assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_600_800_123);
    assert_eq!(rfc3339(t), "2026-11-25T10:00:00.123Z");
    let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
}

#[test]
fn bulk_creates_with_execution_time_and_api_key() {
    let account = es_account(
        json!({"index": "alerts", "refresh": true, "executionTimeField": "@timestamp", "url": "https://es.example.com:9200/"}),
        json!({"apiKey": API_KEY}),
    );
    let params = object(json!({"documents": [{"host": "db-1"}, {"host": "db-2"}]}));
    let request = build(&params, &account, SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(
        request.url,
        "https://es.example.com:9200/_bulk?refresh=true"
    );
    assert_eq!(
        headers(&request),
        [
            ("content-type", "application/x-ndjson"),
            ("authorization", "ApiKey AP1KEYSECRET")
        ]
    );
    assert_eq!(
        String::from_utf8(request.body.unwrap()).unwrap(),
        "{\"create\":{\"_index\":\"alerts\"}}\n{\"@timestamp\":\"1970-01-01T00:00:00.000Z\",\"host\":\"db-1\"}\n\
         {\"create\":{\"_index\":\"alerts\"}}\n{\"@timestamp\":\"1970-01-01T00:00:00.000Z\",\"host\":\"db-2\"}\n"
    );
}

#[test]
fn bad_input_names_the_field() {
    let basic = es_account(
        json!({"index": "alerts"}),
        json!({"username": "elastic", "password": PASSWORD}),
    );
    let cases = [
        (json!({}), "documents: required"),
        (json!({"documents": []}), "documents: must not be empty"),
        (json!({"documents": [1]}), "documents[0]: must be an object"),
        (
            json!({"documents": [{}], "indexOverride": "other"}),
            "indexOverride: must start with kibana-alert-history-",
        ),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &basic, SystemTime::now()).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
    let both = es_account(
        json!({"index": "a"}),
        json!({"apiKey": API_KEY, "username": "u", "password": PASSWORD}),
    );
    let outcome = build(
        &object(json!({"documents": [{}]})),
        &both,
        SystemTime::now(),
    )
    .unwrap_err();
    assert_no_secret(&outcome, &[API_KEY, PASSWORD]);
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::InvalidConfig,
            "secrets.apiKey: cannot be combined with username and password".into()
        )
    );
}

#[test]
fn per_item_errors_are_reported() {
    let ok =
        r#"{"took":3,"errors":false,"items":[{"create":{"_index":"a","_id":"1","status":201}}]}"#;
    assert_eq!(
        delivered(classify(&response(200, &[], ok))),
        [("indexed".into(), "1".into())]
    );
    let partial = r#"{"took":3,"errors":true,"items":[
        {"create":{"_index":"a","_id":"1","status":201}},
        {"create":{"_index":"a","status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [used]","caused_by":{"type":"x","reason":"not a number"}}}}]}"#;
    let (kind, reason) = permanent(classify(&response(200, &[], partial)));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "1 of 2 documents not indexed: documents[1]: 400 document_parsing_exception: failed to parse field [used] (not a number)"
    );
    let pushed_back = r#"{"errors":true,"items":[{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}"#;
    assert_eq!(
        retry(classify(&response(200, &[], pushed_back))).0,
        ErrorKind::Throttled
    );
    let (_, reason) = permanent(classify(&response(
        403,
        &[],
        r#"{"error":{"type":"security_exception","reason":"action [indices:data/write/bulk] is unauthorized"},"status":403}"#,
    )));
    assert_eq!(
        reason,
        "Elasticsearch answered 403: action [indices:data/write/bulk] is unauthorized"
    );
    assert_eq!(
        retry(classify(&response(503, &[], ""))).0,
        ErrorKind::VendorTemporary
    );
    assert_eq!(
        permanent(classify(&response(200, &[], "ok"))).0,
        ErrorKind::VendorRejected
    );
}

#[tokio::test]
async fn indexes_over_http_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .and(query_param("refresh", "true"))
        .and(header("content-type", "application/x-ndjson"))
        .and(header(
            "authorization",
            "Basic ZWxhc3RpYzpFU1BBU1NXT1JEU0VDUkVU",
        ))
        .and(body_string(
            "{\"create\":{\"_index\":\"kibana-alert-history-x\"}}\n{\"host\":\"db-1\"}\n",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"took": 1, "errors": false, "items": [{"create": {"status": 201}}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let account = es_account(
        json!({"index": "alerts", "refresh": true, "url": server.uri()}),
        json!({"username": "elastic", "password": PASSWORD}),
    );
    let params =
        json!({"documents": [{"host": "db-1"}], "indexOverride": "kibana-alert-history-x"});
    let outcome = Index.deliver(&delivery(account, params), &outbound()).await;
    assert_eq!(delivered(outcome), [("indexed".into(), "1".into())]);
    server.verify().await;
}

#[tokio::test]
async fn no_outcome_shows_a_credential() {
    let server = MockServer::start().await;
    for answer in answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        for secrets in [
            json!({"apiKey": API_KEY}),
            json!({"username": "elastic", "password": PASSWORD}),
        ] {
            let account = es_account(json!({"index": "alerts", "url": server.uri()}), secrets);
            let outcome = Index
                .deliver(&delivery(account, json!({"documents": [{}]})), &outbound())
                .await;
            assert_no_secret(
                &outcome,
                &[API_KEY, PASSWORD, "ZWxhc3RpYzpFU1BBU1NXT1JEU0VDUkVU"],
            );
        }
    }
}
