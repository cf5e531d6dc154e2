use std::time::Duration;

use crate::delivery::{Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Slack, build, classify};
use crate::delivery::testing::{
    account, assert_no_secret, body_json as request_json, closed_port_url, delivered, delivery,
    headers, object, outbound, permanent, response, retry,
};

const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

fn slack_account(webhook_url: &str) -> crate::delivery::Account {
    account("slack", json!({}), json!({"webhookUrl": webhook_url}))
}

// ------------------------------------------------------------- request

#[test]
fn kibana_message_posts_text_to_the_webhook() {
    let request = build(
        &object(json!({"message": "*db-1* is down"})),
        &slack_account(HOOK),
    )
    .unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, HOOK);
    assert_eq!(headers(&request), [("content-type", "application/json")]);
    assert_eq!(request_json(&request), json!({"text": "*db-1* is down"}));
}

#[test]
fn signals_fields_use_slack_body_names() {
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*db-1* is down"}}]);
    let attachments = json!([{"color": "#ff0000", "text": "cpu 99%"}]);
    let params = json!({
        "message": "db-1 is down",
        "blocks": blocks,
        "attachments": attachments,
        "channel": "#ops",
        "username": "Herald",
        "iconEmoji": ":rotating_light:",
    });
    let request = build(&object(params), &slack_account(HOOK)).unwrap();
    assert_eq!(
        request_json(&request),
        json!({
            "text": "db-1 is down",
            "blocks": blocks,
            "attachments": attachments,
            "channel": "#ops",
            "username": "Herald",
            "icon_emoji": ":rotating_light:",
        })
    );
}

#[test]
fn empty_and_null_optional_fields_are_left_out() {
    let params = json!({"message": "hi", "channel": "", "username": null, "blocks": null});
    let request = build(&object(params), &slack_account(HOOK)).unwrap();
    assert_eq!(request_json(&request), json!({"text": "hi"}));
}

#[test]
fn bad_params_name_the_field() {
    let cases = [
        (json!({}), "message: required"),
        (json!({"message": ""}), "message: must not be empty"),
        (json!({"message": 7}), "message: must be a string"),
        (
            json!({"message": "hi", "blocks": {"type": "section"}}),
            "blocks: must be an array",
        ),
        (
            json!({"message": "hi", "attachments": "x"}),
            "attachments: must be an array",
        ),
        (
            json!({"message": "hi", "iconEmoji": 1}),
            "iconEmoji: must be a string",
        ),
        (
            json!({"message": "hi", "from": "Herald"}),
            "from: unknown field",
        ),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &slack_account(HOOK)).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
}

#[test]
fn bad_accounts_name_the_field_never_the_url() {
    let params = object(json!({"message": "hi"}));
    let cases = [
        (
            account("slack", json!({}), json!({})),
            "secrets.webhookUrl: required",
        ),
        (
            account(
                "slack",
                json!({}),
                json!({"webhookUrl": "hooks.slack.com/services/XXXXSECRET"}),
            ),
            "secrets.webhookUrl: must be an absolute http(s) URL",
        ),
        (
            account(
                "slack",
                json!({}),
                json!({"webhookUrl": "ftp://hooks.slack.com/XXXXSECRET"}),
            ),
            "secrets.webhookUrl: must be an absolute http(s) URL",
        ),
        (
            account(
                "slack",
                json!({"channel": "#ops"}),
                json!({"webhookUrl": HOOK}),
            ),
            "config.channel: unknown field",
        ),
        (
            account("slack", json!({}), json!({"webhookUrl": HOOK, "url": HOOK})),
            "secrets.url: unknown field",
        ),
    ];
    for (account, expected) in cases {
        let outcome = build(&params, &account).unwrap_err();
        assert_no_secret(&outcome, &["XXXXSECRET"]);
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidConfig, expected.to_owned())
        );
    }
}

// ------------------------------------------------------------- response

#[test]
fn ok_is_delivered() {
    assert_eq!(delivered(classify(&response(200, &[], "ok"))), []);
}

#[test]
fn a_2xx_without_ok_is_rejected_with_the_body() {
    let (kind, reason) = permanent(classify(&response(200, &[], "<html>proxy</html>")));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "Slack answered 200 with \"<html>proxy</html>\" instead of \"ok\""
    );
    let Outcome::Permanent {
        response: Some(vendor),
        ..
    } = classify(&response(204, &[], ""))
    else {
        panic!()
    };
    assert_eq!(vendor.status, 204);
}

#[test]
fn webhook_error_codes() {
    let cases = [
        (400, "invalid_payload", ErrorKind::InvalidParams),
        (400, "no_text", ErrorKind::InvalidParams),
        (400, "too_many_attachments", ErrorKind::InvalidParams),
        (404, "channel_not_found", ErrorKind::VendorRejected),
        (410, "channel_is_archived", ErrorKind::VendorRejected),
        (404, "user_not_found", ErrorKind::VendorRejected),
        (403, "action_prohibited", ErrorKind::VendorRejected),
        (
            400,
            "posting_to_general_channel_denied",
            ErrorKind::VendorRejected,
        ),
        (403, "invalid_token", ErrorKind::Auth),
        (404, "no_service", ErrorKind::InvalidConfig),
        (410, "no_service", ErrorKind::InvalidConfig),
        (404, "no_team", ErrorKind::InvalidConfig),
        (410, "no_active_hooks", ErrorKind::InvalidConfig),
        (404, "", ErrorKind::InvalidConfig),
        (400, "something_new", ErrorKind::VendorRejected),
        (401, "", ErrorKind::Auth),
        (403, "", ErrorKind::Auth),
    ];
    for (status, code, expected) in cases {
        let outcome = classify(&response(status, &[], code));
        let Outcome::Permanent {
            kind,
            reason,
            response,
        } = outcome
        else {
            panic!("{status} {code}: {outcome:?}")
        };
        assert_eq!(kind, expected, "{status} {code}: {reason}");
        assert!(reason.contains(code), "{status} {code}: {reason}");
        assert_eq!(response.unwrap().body, code);
    }
    let (_, reason) = permanent(classify(&response(410, &[], "no_service")));
    assert_eq!(
        reason,
        "Slack does not know this webhook (410: no_service): it was revoked or its app removed; \
         replace secrets.webhookUrl"
    );
}

#[test]
fn throttling_and_failures_are_retried() {
    let (kind, after, reason) = retry(classify(&response(
        429,
        &[("retry-after", "2")],
        "rate_limited",
    )));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    assert_eq!(reason, "Slack is rate limiting this webhook (429)");
    assert_eq!(retry(classify(&response(429, &[], ""))).1, None);
    for status in [500, 502, 503, 504, 408] {
        let (kind, after, reason) = retry(classify(&response(status, &[], "rollup_error")));
        assert_eq!(
            (kind, after),
            (ErrorKind::VendorTemporary, None),
            "{status}"
        );
        assert_eq!(reason, format!("Slack answered {status}: rollup_error"));
    }
    let (_, after, _) = retry(classify(&response(503, &[("retry-after", "30")], "")));
    assert_eq!(after, Some(Duration::from_secs(30)));
}

// ------------------------------------------------------------- through the network

const SECRET_PATH: &str = "/services/T000/B000/XXXXSECRET";

/// Delivers `params` to a mock webhook that expects exactly `body` and
/// answers `answer`; returns the outcome and the webhook URL.
async fn deliver(params: Value, body: Value, answer: ResponseTemplate) -> (Outcome, String) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SECRET_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(&body))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{SECRET_PATH}", server.uri());
    let outcome = Slack
        .deliver(&delivery(slack_account(&url), params), &outbound())
        .await;
    server.verify().await;
    (outcome, url)
}

async fn deliver_message(answer: ResponseTemplate) -> Outcome {
    let (outcome, url) = deliver(
        json!({"message": "db-1 is down"}),
        json!({"text": "db-1 is down"}),
        answer,
    )
    .await;
    assert_no_secret(&outcome, &[&url, "XXXXSECRET"]);
    outcome
}

#[tokio::test]
async fn delivers_over_http() {
    let outcome = deliver_message(ResponseTemplate::new(200).set_body_string("ok")).await;
    assert_eq!(delivered(outcome), []);
}

#[tokio::test]
async fn delivers_signals_fields_over_http() {
    let params = json!({
        "message": "db-1 is down",
        "blocks": [{"type": "divider"}],
        "channel": "#ops",
        "username": "Herald",
        "iconEmoji": ":fire:",
    });
    let body = json!({
        "text": "db-1 is down",
        "blocks": [{"type": "divider"}],
        "channel": "#ops",
        "username": "Herald",
        "icon_emoji": ":fire:",
    });
    let (outcome, _) = deliver(
        params,
        body,
        ResponseTemplate::new(200).set_body_string("ok"),
    )
    .await;
    assert_eq!(delivered(outcome), []);
}

#[tokio::test]
async fn classifies_answers_over_http() {
    let cases: [(u16, Option<&str>, &str, ErrorKind); 7] = [
        (200, None, "invalid_payload", ErrorKind::VendorRejected),
        (400, None, "invalid_payload", ErrorKind::InvalidParams),
        (403, None, "invalid_token", ErrorKind::Auth),
        (404, None, "no_service", ErrorKind::InvalidConfig),
        (429, Some("2"), "", ErrorKind::Throttled),
        (500, None, "rollup_error", ErrorKind::VendorTemporary),
        (503, None, "", ErrorKind::VendorTemporary),
    ];
    for (status, retry_after, body, expected) in cases {
        let mut answer = ResponseTemplate::new(status).set_body_string(body);
        if let Some(seconds) = retry_after {
            answer = answer.insert_header("retry-after", seconds);
        }
        let outcome = deliver_message(answer).await;
        match (status, outcome) {
            (429, Outcome::Retry { kind, after, .. }) => {
                assert_eq!((kind, after), (expected, Some(Duration::from_secs(2))));
            }
            (500.., Outcome::Retry { kind, .. }) => assert_eq!(kind, expected),
            (_, Outcome::Permanent { kind, .. }) => assert_eq!(kind, expected, "{status} {body}"),
            (_, other) => panic!("{status} {body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_webhook_is_retried_without_showing_the_url() {
    let url = format!("{}{SECRET_PATH}", closed_port_url());
    let outcome = Slack
        .deliver(
            &delivery(slack_account(&url), json!({"message": "hi"})),
            &outbound(),
        )
        .await;
    assert_no_secret(&outcome, &[&url, "XXXXSECRET"]);
    assert_eq!(retry(outcome).0, ErrorKind::Network);
}

#[tokio::test]
async fn no_outcome_shows_the_webhook_url() {
    let server = MockServer::start().await;
    // One client for the whole test: building one loads the root certificates.
    let outbound = outbound();
    for answer in crate::delivery::testing::answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let url = format!("{}{SECRET_PATH}", server.uri());
        let outcome = Slack
            .deliver(
                &delivery(slack_account(&url), json!({"message": "hi"})),
                &outbound,
            )
            .await;
        assert_no_secret(&outcome, &[&url, "XXXXSECRET"]);
    }
    let bad = format!("{}{SECRET_PATH}", closed_port_url()).replace("http://", "");
    let outcome = Slack
        .deliver(
            &delivery(slack_account(&bad), json!({"message": "hi"})),
            &outbound,
        )
        .await;
    assert_no_secret(&outcome, &[&bad, "XXXXSECRET"]);
}
