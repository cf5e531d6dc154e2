//! What this crate's connector tests share: playing every error status and
//! every canned answer through a connector against one mock server.

use std::future::Future;
use std::time::Duration;

use crate::delivery::Outcome;
use crate::delivery::testing::{answers, assert_no_secret};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate};

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
