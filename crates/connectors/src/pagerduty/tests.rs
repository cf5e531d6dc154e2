use std::time::Duration;

use crate::delivery::{Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{DEFAULT_API_URL, PagerDuty, build, classify};
use crate::delivery::testing::{
    account, answers, assert_no_secret, body_json as request_json, closed_port_url, delivered,
    delivery, headers, object, outbound, permanent, response, retry,
};

const KEY: &str = "R0UT1NGKEYSECRET";

fn pd_account(api_url: Option<&str>) -> crate::delivery::Account {
    let config = match api_url {
        Some(url) => json!({"apiUrl": url}),
        None => json!({}),
    };
    account("pagerduty", config, json!({"routingKey": KEY}))
}

// ------------------------------------------------------------- request

#[test]
fn a_minimal_trigger_gets_kibana_defaults() {
    let request = build(&object(json!({})), &pd_account(None)).unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, DEFAULT_API_URL);
    assert_eq!(headers(&request), [("content-type", "application/json")]);
    assert_eq!(
        request_json(&request),
        json!({
            "routing_key": KEY,
            "event_action": "trigger",
            "payload": {
                "summary": "No summary provided.",
                "source": "Herald account test-pagerduty",
                "severity": "info",
            },
        })
    );
}

#[test]
fn a_full_trigger_maps_every_field() {
    let params = json!({
        "eventAction": "trigger",
        "dedupKey": "disk-db1",
        "summary": "Disk full on db-1",
        "source": "db-1",
        "severity": "critical",
        "timestamp": "2026-11-24T10:00:00Z",
        "component": "postgres",
        "group": "prod-db",
        "class": "disk",
        "customDetails": "{\"used\": 97}",
        "links": [{"href": "https://grafana/d/1", "text": "Dashboard"}],
        "images": [{"src": "https://grafana/render/1.png", "href": "https://grafana/d/1", "alt": "disk"}],
        "client": "Herald",
        "clientUrl": "https://herald.example.com/rules/1",
    });
    let request = build(
        &object(params),
        &pd_account(Some("https://pd.example.com/v2/enqueue")),
    )
    .unwrap();
    assert_eq!(request.url, "https://pd.example.com/v2/enqueue");
    assert_eq!(
        request_json(&request),
        json!({
            "routing_key": KEY,
            "event_action": "trigger",
            "dedup_key": "disk-db1",
            "payload": {
                "summary": "Disk full on db-1",
                "source": "db-1",
                "severity": "critical",
                "timestamp": "2026-11-24T10:00:00Z",
                "component": "postgres",
                "group": "prod-db",
                "class": "disk",
                "custom_details": {"used": 97},
            },
            "links": [{"href": "https://grafana/d/1", "text": "Dashboard"}],
            "images": [{"src": "https://grafana/render/1.png", "href": "https://grafana/d/1", "alt": "disk"}],
            "client": "Herald",
            "client_url": "https://herald.example.com/rules/1",
        })
    );
}

#[test]
fn acknowledge_and_resolve_send_only_the_dedup_key() {
    for action in ["acknowledge", "resolve"] {
        let params = json!({"eventAction": action, "dedupKey": "disk-db1", "summary": "ignored"});
        let request = build(&object(params), &pd_account(None)).unwrap();
        assert_eq!(
            request_json(&request),
            json!({"routing_key": KEY, "event_action": action, "dedup_key": "disk-db1"})
        );
    }
}

#[test]
fn the_summary_is_truncated_to_pagerduty_limit() {
    let long = "é".repeat(1500);
    let request = build(&object(json!({"summary": long})), &pd_account(None)).unwrap();
    let summary = request_json(&request)["payload"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(summary.chars().count(), 1024);
}

#[test]
fn bad_params_name_the_field() {
    let cases = [
        (
            json!({"eventAction": "resolve"}),
            "dedupKey: required when eventAction is resolve",
        ),
        (
            json!({"eventAction": "acknowledge", "dedupKey": ""}),
            "dedupKey: required when eventAction is acknowledge",
        ),
        (
            json!({"eventAction": "page"}),
            "eventAction: must be trigger, acknowledge or resolve",
        ),
        (
            json!({"dedupKey": "k".repeat(256)}),
            "dedupKey: must be at most 255 characters",
        ),
        (
            json!({"severity": "fatal"}),
            "severity: must be critical, error, warning or info",
        ),
        (
            json!({"customDetails": "[1]"}),
            "customDetails: must be an object or a string holding a JSON object",
        ),
        (json!({"links": {}}), "links: must be an array"),
        (json!({"routingKey": "x"}), "routingKey: unknown field"),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &pd_account(None)).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
}

#[test]
fn bad_accounts_name_the_field_never_the_key() {
    let cases = [
        (
            account("pagerduty", json!({}), json!({})),
            "secrets.routingKey: required",
        ),
        (
            account(
                "pagerduty",
                json!({"apiUrl": "events"}),
                json!({"routingKey": KEY}),
            ),
            "config.apiUrl: must be an absolute http(s) URL",
        ),
        (
            account("pagerduty", json!({"url": "x"}), json!({"routingKey": KEY})),
            "config.url: unknown field",
        ),
    ];
    for (account, expected) in cases {
        let outcome = build(&object(json!({})), &account).unwrap_err();
        assert_no_secret(&outcome, &[KEY]);
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidConfig, expected.to_owned())
        );
    }
}

// ------------------------------------------------------------- response

#[test]
fn accepted_events_carry_the_dedup_key() {
    let body = r#"{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}"#;
    assert_eq!(
        delivered(classify(&response(202, &[], body))),
        [("dedup_key".to_owned(), "srv01/HTTP".to_owned())]
    );
}

#[test]
fn error_statuses() {
    let invalid = r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'dedup_key' is too long"]}"#;
    let (kind, reason) = permanent(classify(&response(400, &[], invalid)));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "PagerDuty answered 400: Event object is invalid; Length of 'dedup_key' is too long"
    );
    let (kind, after, reason) = retry(classify(&response(429, &[("retry-after", "5")], "")));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(5)))
    );
    assert_eq!(reason, "PagerDuty is rate limiting this account (429)");
    for status in [500, 502, 503] {
        assert_eq!(
            retry(classify(&response(status, &[], ""))).0,
            ErrorKind::VendorTemporary
        );
    }
    assert_eq!(
        permanent(classify(&response(403, &[], ""))).0,
        ErrorKind::Auth
    );
    assert_eq!(
        permanent(classify(&response(404, &[], ""))).0,
        ErrorKind::VendorRejected
    );
}

// ------------------------------------------------------------- through the network

async fn deliver(server: &MockServer, params: Value) -> Outcome {
    let url = format!("{}/v2/enqueue", server.uri());
    PagerDuty
        .deliver(&delivery(pd_account(Some(&url)), params), &outbound())
        .await
}

#[tokio::test]
async fn triggers_and_resolves_over_http() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "routing_key": KEY,
            "event_action": "trigger",
            "payload": {"summary": "Disk full", "source": "db-1", "severity": "error"},
        })))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "generated-1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(body_json(
            json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "generated-1"}),
        ))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "generated-1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        json!({"summary": "Disk full", "source": "db-1", "severity": "error"}),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [("dedup_key".into(), "generated-1".into())]
    );
    let outcome = deliver(
        &server,
        json!({"eventAction": "resolve", "dedupKey": "generated-1"}),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [("dedup_key".into(), "generated-1".into())]
    );
    server.verify().await;
}

#[tokio::test]
async fn classifies_answers_over_http() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"status": "invalid event", "message": "Event object is invalid", "errors": ["'payload.summary' is missing"]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (kind, reason) = permanent(deliver(&server, json!({})).await);
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(reason.contains("'payload.summary' is missing"), "{reason}");
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .mount(&server)
        .await;
    let (kind, after, _) = retry(deliver(&server, json!({})).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(3)))
    );
}

#[tokio::test]
async fn no_outcome_shows_the_routing_key() {
    let server = MockServer::start().await;
    for answer in answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = deliver(&server, json!({"summary": "hi"})).await;
        assert_no_secret(&outcome, &[KEY]);
    }
    let outcome = PagerDuty
        .deliver(
            &delivery(pd_account(Some(&closed_port_url())), json!({})),
            &outbound(),
        )
        .await;
    assert_no_secret(&outcome, &[KEY]);
    assert_eq!(retry(outcome).0, ErrorKind::Network);
}
