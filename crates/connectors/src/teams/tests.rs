use std::time::Duration;

use crate::delivery::{Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Teams, build, classify};
use crate::delivery::testing::{
    account, assert_no_secret, body_json as request_json, closed_port_url, delivered, delivery,
    headers, object, outbound, permanent, response, retry,
};

const HOOK: &str = "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SIGSECRET";

fn teams_account(webhook_url: &str) -> crate::delivery::Account {
    account("teams", json!({}), json!({"webhookUrl": webhook_url}))
}

// ------------------------------------------------------------- request

#[test]
fn posts_text_to_the_webhook() {
    let request = build(
        &object(json!({"message": "db-1 is down"})),
        &teams_account(HOOK),
    )
    .unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, HOOK);
    assert_eq!(headers(&request), [("content-type", "application/json")]);
    assert_eq!(request_json(&request), json!({"text": "db-1 is down"}));
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let account = teams_account(HOOK);
    let cases = [
        (json!({}), "message: required"),
        (json!({"message": ""}), "message: must not be empty"),
        (
            json!({"message": "hi", "title": "x"}),
            "title: unknown field",
        ),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &account).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
    let params = object(json!({"message": "hi"}));
    let cases = [
        (account_with(json!({})), "secrets.webhookUrl: required"),
        (
            account_with(json!({"webhookUrl": 1})),
            "secrets.webhookUrl: must be a string",
        ),
        (
            account_with(json!({"webhookUrl": "logic.azure.com/SIGSECRET"})),
            "secrets.webhookUrl: must be an absolute http(s) URL",
        ),
    ];
    for (account, expected) in cases {
        let outcome = build(&params, &account).unwrap_err();
        assert_no_secret(&outcome, &["SIGSECRET"]);
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidConfig, expected.to_owned())
        );
    }
}

fn account_with(secrets: serde_json::Value) -> crate::delivery::Account {
    account("teams", json!({}), secrets)
}

// ------------------------------------------------------------- response

#[test]
fn success_statuses_are_delivered() {
    assert_eq!(delivered(classify(&response(200, &[], "1"))), []);
    assert_eq!(delivered(classify(&response(202, &[], ""))), []);
}

#[test]
fn throttling_inside_a_200_is_retried() {
    let body = "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi,cv=x. \
                ErrorCode:ApplicationThrottled";
    let (kind, after, reason) = retry(classify(&response(200, &[("retry-after", "2")], body)));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    assert_eq!(
        reason,
        "Teams is throttling this webhook (ApplicationThrottled in a 200)"
    );
    assert_eq!(retry(classify(&response(200, &[], body))).1, None);
    let legacy = "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429";
    assert_eq!(
        retry(classify(&response(200, &[], legacy))).0,
        ErrorKind::Throttled
    );
}

#[test]
fn a_failed_hand_over_inside_a_200_is_not_delivered() {
    let body = "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413";
    let (kind, reason) = permanent(classify(&response(200, &[], body)));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        format!("Teams answered 200 but did not deliver: {body}")
    );
    let body = "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 502";
    assert_eq!(
        retry(classify(&response(200, &[], body))).0,
        ErrorKind::VendorTemporary
    );
}

#[test]
fn error_statuses() {
    let (kind, reason) = permanent(classify(&response(
        400,
        &[],
        "Bad payload received by generic incoming webhook.",
    )));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "Teams answered 400: Bad payload received by generic incoming webhook."
    );
    let workflows =
        r#"{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body ..."}}"#;
    let (_, reason) = permanent(classify(&response(400, &[], workflows)));
    assert_eq!(reason, "Teams answered 400: TriggerInputSchemaMismatch");
    for status in [401, 403] {
        let (kind, reason) = permanent(classify(&response(
            status,
            &[],
            r#"{"error":{"code":"DirectApiAuthorizationRequired"}}"#,
        )));
        assert_eq!(kind, ErrorKind::Auth);
        assert_eq!(
            reason,
            format!(
                "Teams refused the webhook's credentials ({status}: DirectApiAuthorizationRequired): check secrets.webhookUrl"
            )
        );
    }
    for status in [404, 410] {
        let (kind, reason) = permanent(classify(&response(status, &[], "")));
        assert_eq!(kind, ErrorKind::InvalidConfig);
        assert!(
            reason.starts_with(&format!("Teams does not know this webhook ({status})")),
            "{reason}"
        );
    }
    let (kind, after, reason) = retry(classify(&response(429, &[("retry-after", "2")], "")));
    assert_eq!(
        (kind, after, reason.as_str()),
        (
            ErrorKind::Throttled,
            Some(Duration::from_secs(2)),
            "Teams is throttling this webhook (429)"
        )
    );
    for status in [500, 502, 503, 504] {
        let (kind, _, reason) = retry(classify(&response(status, &[], "")));
        assert_eq!(
            (kind, reason),
            (
                ErrorKind::VendorTemporary,
                format!("Teams answered {status}")
            )
        );
    }
}

// ------------------------------------------------------------- through the network

const SECRET_PATH: &str = "/workflows/abc/triggers/manual/paths/invoke";

async fn deliver(answer: ResponseTemplate) -> Outcome {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SECRET_PATH))
        .and(query_param("sig", "SIGSECRET"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"text": "db-1 is down"})))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{SECRET_PATH}?sig=SIGSECRET", server.uri());
    let delivery = delivery(teams_account(&url), json!({"message": "db-1 is down"}));
    let outcome = Teams.deliver(&delivery, &outbound()).await;
    server.verify().await;
    assert_no_secret(&outcome, &[&url, "SIGSECRET"]);
    outcome
}

#[tokio::test]
async fn delivers_over_http() {
    assert_eq!(
        delivered(deliver(ResponseTemplate::new(200).set_body_string("1")).await),
        []
    );
    assert_eq!(delivered(deliver(ResponseTemplate::new(202)).await), []);
}

#[tokio::test]
async fn classifies_answers_over_http() {
    let throttled = ResponseTemplate::new(200)
        .set_body_string("ErrorCode:ApplicationThrottled")
        .insert_header("retry-after", "2");
    let (kind, after, _) = retry(deliver(throttled).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );

    let rejected = ResponseTemplate::new(400).set_body_string("Summary or Text is required.");
    assert_eq!(
        permanent(deliver(rejected).await).0,
        ErrorKind::VendorRejected
    );
    for status in [401, 403] {
        assert_eq!(
            permanent(deliver(ResponseTemplate::new(status)).await).0,
            ErrorKind::Auth
        );
    }
    assert_eq!(
        permanent(deliver(ResponseTemplate::new(404)).await).0,
        ErrorKind::InvalidConfig
    );

    let limited = ResponseTemplate::new(429).insert_header("retry-after", "2");
    let (kind, after, _) = retry(deliver(limited).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    for status in [500, 503] {
        assert_eq!(
            retry(deliver(ResponseTemplate::new(status)).await).0,
            ErrorKind::VendorTemporary
        );
    }
}

#[tokio::test]
async fn an_unreachable_webhook_is_retried_without_showing_the_url() {
    let url = format!("{}{SECRET_PATH}?sig=SIGSECRET", closed_port_url());
    let delivery = delivery(teams_account(&url), json!({"message": "hi"}));
    let outcome = Teams.deliver(&delivery, &outbound()).await;
    assert_no_secret(&outcome, &[&url, "SIGSECRET"]);
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
        let url = format!("{}{SECRET_PATH}?sig=SIGSECRET", server.uri());
        let delivery = delivery(teams_account(&url), json!({"message": "hi"}));
        let outcome = Teams.deliver(&delivery, &outbound).await;
        assert_no_secret(&outcome, &[&url, "SIGSECRET"]);
    }
    let bad = "logic.azure.com/workflows?sig=SIGSECRET";
    let outcome = Teams
        .deliver(
            &delivery(teams_account(bad), json!({"message": "hi"})),
            &outbound,
        )
        .await;
    assert_no_secret(&outcome, &[bad, "SIGSECRET"]);
}

/// An Adaptive Card goes in the envelope Microsoft documents for cards
/// posted to incoming webhooks and Workflows, the text as its fallback.
#[tokio::test]
async fn an_adaptive_card_is_posted_in_the_message_envelope() {
    let server = MockServer::start().await;
    let card = json!({"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "db-1 is down"}]});
    Mock::given(method("POST"))
        .and(path(SECRET_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "type": "AdaptiveCard", "version": "1.4",
                    "body": [{"type": "TextBlock", "text": "db-1 is down"}],
                    "fallbackText": "db-1 is down (text)",
                },
            }],
        })))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{SECRET_PATH}?sig=SIGSECRET", server.uri());
    let params = json!({"message": "db-1 is down (text)", "adaptiveCard": card});
    let outcome = Teams
        .deliver(&delivery(teams_account(&url), params), &outbound())
        .await;
    server.verify().await;
    assert_eq!(delivered(outcome), []);
}
