use crate::delivery::testing::{account, delivered, delivery, object, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Tines, build};
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const TOKEN: &str = "TINES-TOKEN-SECRET";
const WEBHOOK_SECRET: &str = "a1b2c3";

fn tines_account(url: &str) -> Account {
    account(
        "tines",
        json!({"url": url}),
        json!({"email": "ops@example.com", "token": TOKEN}),
    )
}

async fn deliver(url: &str, params: Value) -> Outcome {
    Tines
        .deliver(&delivery(tines_account(url), params), &outbound())
        .await
}

fn sub(sub_action: &str, params: Value) -> Value {
    json!({"subAction": sub_action, "subActionParams": params})
}

fn webhook() -> Value {
    json!({"id": 1234, "name": "Alert intake", "storyId": 97, "path": "d7a9f0", "secret": WEBHOOK_SECRET})
}

#[tokio::test]
async fn run_posts_the_body_to_the_story_webhook_without_the_api_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/webhook/d7a9f0/{WEBHOOK_SECRET}")))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"alert": "db-1 down"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({})))
        .expect(2)
        .mount(&server)
        .await;
    for sub_action in ["run", "test"] {
        let params = sub(
            sub_action,
            json!({"webhook": webhook(), "body": "{\"alert\": \"db-1 down\"}"}),
        );
        assert_eq!(delivered(deliver(&server.uri(), params).await), []);
    }
    for request in server.received_requests().await.unwrap() {
        assert!(request.headers.get("x-user-token").is_none());
    }
}

#[tokio::test]
async fn run_posts_to_a_webhook_url_on_the_tenant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/webhook/other/xyz"))
        .and(body_json(json!({"n": 1})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})))
        .expect(2)
        .mount(&server)
        .await;
    // A full URL on the tenant's host, or a path on it.
    for url in [
        format!("{}/webhook/other/xyz", server.uri()),
        "/webhook/other/xyz".into(),
    ] {
        let params = sub("run", json!({"webhookUrl": url, "body": "{\"n\": 1}"}));
        assert_eq!(delivered(deliver(&server.uri(), params).await), []);
    }
}

#[tokio::test]
async fn a_webhook_url_off_the_tenant_is_refused_before_sending() {
    // The producer's params choose the URL and read the answer in the
    // status: another host would make Herald a proxy for them.
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal data"))
        .mount(&elsewhere)
        .await;
    let tenant = "https://tenant.tines.com";
    let port = elsewhere.address().port();
    for url in [
        elsewhere.uri(),
        format!("http://tenant.tines.com:{port}/webhook/a/b"),
        "http://tenant.tines.com/webhook/a/b".into(),
        "//evil.example.com/webhook/a/b".into(),
        "/\\evil.example.com/webhook/a/b".into(),
        "https://tenant.tines.com.evil.example.com/webhook/a/b".into(),
        "https://user@evil.example.com/webhook".into(),
    ] {
        let params = sub("run", json!({"webhookUrl": url, "body": "{}"}));
        let (kind, reason) = permanent(deliver(tenant, params).await);
        assert_eq!(kind, ErrorKind::InvalidParams, "{url}");
        assert!(
            reason.contains("subActionParams.webhookUrl") && reason.contains("config.url"),
            "{url}: {reason}"
        );
    }
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn stories_and_webhooks_list_through_the_api() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/stories"))
        .and(query_param("per_page", "500"))
        .and(header("x-user-email", "ops@example.com"))
        .and(header("x-user-token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"stories": [{"id": 97, "name": "Alerts"}], "meta": {"pages": 1}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/agents"))
        .and(query_param("story_id", "97"))
        .and(query_param("per_page", "500"))
        .and(header("x-user-token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"agents": [webhook()]})))
        .expect(1)
        .mount(&server)
        .await;
    let Outcome::Delivered {
        response: Some(stories),
        ..
    } = deliver(&server.uri(), sub("stories", Value::Null)).await
    else {
        panic!()
    };
    assert!(stories.body.contains("Alerts"));
    let outcome = deliver(&server.uri(), sub("webhooks", json!({"storyId": 97}))).await;
    assert!(matches!(outcome, Outcome::Delivered { .. }));
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let run = sub("run", json!({"webhook": webhook(), "body": "{}"}));
    assert_error_statuses(&server, "Tines", || deliver(&uri, run.clone())).await;
    for params in [run, sub("stories", Value::Null)] {
        assert_secrets_hidden(&server, &[TOKEN], || deliver(&uri, params.clone())).await;
    }
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let url = "https://tenant.tines.com";
    let cases = [
        (
            tines_account(url),
            sub("run", json!({"body": "{}"})),
            ErrorKind::InvalidParams,
            "subActionParams.webhookUrl: required when webhook is absent",
        ),
        (
            tines_account(url),
            sub(
                "run",
                json!({"webhook": {"id": 1, "name": "x", "storyId": 2, "path": "p"}, "body": "{}"}),
            ),
            ErrorKind::InvalidParams,
            "subActionParams.webhook.secret: required",
        ),
        (
            tines_account(url),
            sub("run", json!({"webhookUrl": url, "body": "nope"})),
            ErrorKind::InvalidParams,
            "subActionParams.body: must be a JSON document",
        ),
        (
            tines_account(url),
            sub("webhooks", json!({})),
            ErrorKind::InvalidParams,
            "subActionParams.storyId: required",
        ),
        (
            tines_account(url),
            sub("delete", json!({})),
            ErrorKind::InvalidParams,
            "subAction: must be run, test, stories or webhooks",
        ),
        (
            account("tines", json!({"url": url}), json!({"email": "a@b.c"})),
            sub("stories", Value::Null),
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
