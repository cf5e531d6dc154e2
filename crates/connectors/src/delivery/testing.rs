//! What connector tests share (feature `testing`): accounts, deliveries, canned responses,
//! a real `Outbound` that may reach the loopback mock server, the
//! assertions on outcomes, and every error status and canned answer played
//! through a connector against one mock server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::delivery::http::{Outbound, OutboundSettings};
use crate::delivery::{Account, Delivery, HttpRequest, HttpResponse, Outcome};
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use serde_json::{Map, Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub fn account(connector_type: &str, config: Value, secrets: Value) -> Account {
    Account {
        id: format!("test-{connector_type}"),
        connector_type: connector_type.to_owned(),
        name: format!("Test {connector_type}"),
        version: 1,
        config: object(config),
        secrets: herald_catalog::SecretMap(object(secrets)),
    }
}

pub fn delivery(account: Account, params: Value) -> Delivery {
    Delivery {
        action_id: "act-1".into(),
        attempt: 1,
        params: object(params),
        account: Arc::new(account),
    }
}

/// An `Outbound` whose policy allows every public host and loopback. One per
/// test thread (libtest runs each test on its own thread, each tokio test
/// its own runtime, so pooled connections never outlive theirs): building
/// one loads the root certificates, which is most of a test's time.
pub fn outbound() -> Outbound {
    thread_local! {
        static OUTBOUND: Outbound =
            Outbound::new(OutboundSettings::default(), Policy::default().with_loopback()).expect("outbound client");
    }
    OUTBOUND.with(Outbound::clone)
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    HttpResponse {
        status,
        headers: map,
        body: bytes::Bytes::copy_from_slice(body.as_bytes()),
    }
}

pub fn body_json(request: &HttpRequest) -> Value {
    serde_json::from_slice(request.body.as_deref().expect("a body")).expect("a JSON body")
}

pub fn headers(request: &HttpRequest) -> Vec<(&str, &str)> {
    request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

#[track_caller]
pub fn permanent(outcome: Outcome) -> (ErrorKind, String) {
    match outcome {
        Outcome::Permanent { kind, reason, .. } => (kind, reason),
        other => panic!("expected a permanent outcome, got {other:?}"),
    }
}

#[track_caller]
pub fn retry(outcome: Outcome) -> (ErrorKind, Option<Duration>, String) {
    match outcome {
        Outcome::Retry {
            kind,
            after,
            reason,
            ..
        } => (kind, after, reason),
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[track_caller]
pub fn delivered(outcome: Outcome) -> Vec<(String, String)> {
    match outcome {
        Outcome::Delivered { handles, .. } => handles.into_iter().collect(),
        other => panic!("expected delivered, got {other:?}"),
    }
}

/// Neither the reason nor anything else the outcome prints holds a secret.
#[track_caller]
pub fn assert_no_secret(outcome: &Outcome, secrets: &[&str]) {
    let printed = format!("{outcome:?}");
    let reason = match outcome {
        Outcome::Retry { reason, .. } | Outcome::Permanent { reason, .. } => reason.as_str(),
        Outcome::Delivered { .. } => "",
    };
    for secret in secrets {
        assert!(
            !printed.contains(secret),
            "outcome shows a secret: {printed}"
        );
        assert!(!reason.contains(secret), "reason shows a secret: {reason}");
    }
}

/// `http://127.0.0.1:<port>` where nothing listens: a port the OS just gave
/// out and took back. (A dropped `MockServer` goes back to wiremock's pool
/// and keeps answering.)
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The answers every "no secret in any outcome" test plays back: success,
/// an error inside a 2xx, and each error status a vendor gives.
pub fn answers() -> Vec<wiremock::ResponseTemplate> {
    use wiremock::ResponseTemplate;
    let mut answers = vec![
        ResponseTemplate::new(200).set_body_string("ok"),
        ResponseTemplate::new(200).set_body_string("invalid_payload"),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true, "ts": "1.2"})),
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"ok": false, "error": "invalid_auth"})),
        ResponseTemplate::new(200).set_body_string("ErrorCode:ApplicationThrottled"),
        ResponseTemplate::new(429).insert_header("retry-after", "2"),
    ];
    for status in [400, 401, 403, 404, 410, 500, 503] {
        answers.push(ResponseTemplate::new(status).set_body_string("no_service"));
    }
    answers
}

/// Every error status, answered to every request `deliver` makes, ends as
/// the vendor documents: 4xx refused for good with the vendor's message,
/// 401/403 an auth failure, 429 and 5xx retried honouring `Retry-After`.
pub async fn assert_error_statuses<F, Fut>(server: &MockServer, vendor: &str, deliver: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Outcome>,
{
    let message = json!({"message": "Invalid field: title"});
    let cases = [
        (
            ResponseTemplate::new(400).set_body_json(&message),
            format!("permanent VendorRejected {vendor} answered 400: Invalid field: title"),
        ),
        (
            ResponseTemplate::new(401).set_body_json(&message),
            format!("permanent Auth {vendor} answered 401: Invalid field: title"),
        ),
        (
            ResponseTemplate::new(403).set_body_string("forbidden"),
            format!("permanent Auth {vendor} answered 403: forbidden"),
        ),
        (
            ResponseTemplate::new(404).set_body_string("Not Found"),
            format!("permanent VendorRejected {vendor} answered 404: Not Found"),
        ),
        (
            ResponseTemplate::new(429).insert_header("retry-after", "3"),
            format!("retry Throttled {vendor} is rate limiting this account (429) 3s"),
        ),
        (
            ResponseTemplate::new(500),
            format!("retry VendorTemporary {vendor} answered 500 -"),
        ),
        (
            ResponseTemplate::new(503)
                .insert_header("retry-after", "5")
                .set_body_string("maintenance"),
            format!("retry VendorTemporary {vendor} answered 503: maintenance 5s"),
        ),
    ];
    for (answer, expected) in cases {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(answer)
            .mount(server)
            .await;
        let got = match deliver().await {
            Outcome::Permanent {
                kind,
                reason,
                response,
            } => {
                assert!(response.is_some(), "{reason}: the vendor's answer is kept");
                format!("permanent {kind:?} {reason}")
            }
            Outcome::Retry {
                kind,
                reason,
                after,
                ..
            } => {
                let after = after.map_or("-".to_owned(), |a: Duration| format!("{}s", a.as_secs()));
                format!("retry {kind:?} {reason} {after}")
            }
            other => panic!("{expected}: {other:?}"),
        };
        assert_eq!(got, expected);
    }
}

/// No outcome of `deliver`, whatever the vendor answers, shows a secret.
pub async fn assert_secrets_hidden<F, Fut>(server: &MockServer, secrets: &[&str], deliver: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Outcome>,
{
    for answer in answers() {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(answer)
            .mount(server)
            .await;
        assert_no_secret(&deliver().await, secrets);
    }
}
