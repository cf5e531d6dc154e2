use std::time::Duration;

use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_string, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Webhook, build, classify};
use crate::delivery::testing::{
    account, answers, assert_no_secret, closed_port_url, delivered, delivery, headers, object,
    outbound, permanent, response, retry,
};

const PASSWORD: &str = "PASSW0RDSECRET";
const TOKEN: &str = "BEARERT0KENSECRET";
const CLIENT_SECRET: &str = "CL1ENTSECRET";
const HEADER_SECRET: &str = "HEADERSECRET";

fn hook(config: Value, secrets: Value) -> Account {
    account("webhook", config, secrets)
}

// ------------------------------------------------------------- request

#[test]
fn posts_the_body_with_configured_and_secret_headers() {
    let account = hook(
        json!({"url": "https://hooks.example.com/in", "hasAuth": false, "headers": {"X-Team": "ops"}}),
        json!({"secretHeaders": {"X-Api-Key": HEADER_SECRET}}),
    );
    let (auth, request) = build(&object(json!({"body": "{\"a\":1}"})), &account).unwrap();
    let request = auth.with_headers(request);
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, "https://hooks.example.com/in");
    assert_eq!(
        headers(&request),
        [
            ("X-Team", "ops"),
            ("X-Api-Key", HEADER_SECRET),
            ("content-type", "application/json")
        ]
    );
    assert_eq!(request.body.as_deref(), Some(&b"{\"a\":1}"[..]));
}

#[test]
fn a_configured_content_type_wins_and_get_sends_no_body() {
    let account = hook(
        json!({"url": "https://h.example.com/x", "method": "put", "hasAuth": false, "headers": {"Content-Type": "text/plain"}}),
        json!({}),
    );
    let (auth, request) = build(&object(json!({"body": "plain"})), &account).unwrap();
    let request = auth.with_headers(request);
    assert_eq!(request.method, http::Method::PUT);
    assert_eq!(headers(&request), [("Content-Type", "text/plain")]);
    for verb in ["get", "delete"] {
        let account = hook(
            json!({"url": "https://h.example.com/x", "method": verb, "hasAuth": false}),
            json!({}),
        );
        let (_, request) = build(&object(json!({"body": "x"})), &account).unwrap();
        assert_eq!(request.body, None, "{verb}");
        assert_eq!(request.method.as_str(), verb.to_uppercase());
    }
}

#[test]
fn bad_input_names_the_field_never_a_secret() {
    let params = object(json!({}));
    let cases = [
        (hook(json!({}), json!({})), "config.url: required"),
        (
            hook(json!({"url": "nope"}), json!({})),
            "config.url: must be an absolute http(s) URL",
        ),
        (
            hook(json!({"url": "https://h/x", "method": "head"}), json!({})),
            "config.method: must be post, put, patch, get or delete",
        ),
        (
            hook(
                json!({"url": "https://h/x", "authType": "kerberos"}),
                json!({}),
            ),
            "config.authType: must be webhook-authentication-basic, webhook-authentication-ssl, \
             webhook-oauth2-client-credentials, http-authentication-query-param or \
             webhook-authentication-bearer",
        ),
        (
            hook(
                json!({"url": "https://h/x", "authType": "webhook-authentication-bearer"}),
                json!({}),
            ),
            "secrets.token: required",
        ),
        (
            hook(
                json!({"url": "https://h/x", "authType": "webhook-oauth2-client-credentials", "accessTokenUrl": "https://t/token"}),
                json!({"clientSecret": CLIENT_SECRET}),
            ),
            "config.clientId: required",
        ),
        (
            hook(
                json!({"url": "https://h/x", "authType": "webhook-oauth2-client-credentials", "accessTokenUrl": "https://t/token", "clientId": "c", "additionalFields": "[1]"}),
                json!({"clientSecret": CLIENT_SECRET}),
            ),
            "config.additionalFields: must be a string holding a JSON object",
        ),
        (
            hook(
                json!({"url": "https://h/x"}),
                json!({"secretHeaders": {"X-Key": 7}}),
            ),
            "secrets.secretHeaders.X-Key: must be a string",
        ),
        (
            hook(
                json!({"url": "https://h/x", "headers": {"X-Team": 7}}),
                json!({}),
            ),
            "config.headers.X-Team: must be a string",
        ),
        (
            hook(json!({"url": "https://h/x"}), json!({"apiKey": "x"})),
            "secrets.apiKey: unknown field",
        ),
        (
            hook(json!({"url": "https://h/x"}), json!({"user": "u"})),
            "secrets.password: required",
        ),
    ];
    for (account, expected) in cases {
        let Err(outcome) = build(&params, &account) else {
            panic!("{expected}: built")
        };
        assert_no_secret(&outcome, &[CLIENT_SECRET]);
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidConfig, expected.to_owned())
        );
    }
    let account = hook(
        json!({"url": "https://h/x"}),
        json!({"user": "u", "password": PASSWORD}),
    );
    let Err(outcome) = build(&object(json!({"body": 1})), &account) else {
        panic!()
    };
    assert_eq!(
        permanent(outcome),
        (ErrorKind::InvalidParams, "body: must be a string".into())
    );
}

// ------------------------------------------------------------- response

#[test]
fn statuses() {
    assert_eq!(
        delivered(classify(&response(204, &[], ""))),
        [("status".into(), "204".into())]
    );
    let (kind, reason) = permanent(classify(&response(
        400,
        &[],
        r#"{"message":"bad field x"}"#,
    )));
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::VendorRejected,
            "the webhook answered 400: bad field x"
        )
    );
    let (kind, after, _) = retry(classify(&response(429, &[("retry-after", "7")], "")));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(7)))
    );
    assert_eq!(
        retry(classify(&response(502, &[], ""))).0,
        ErrorKind::VendorTemporary
    );
    assert_eq!(
        permanent(classify(&response(401, &[], ""))).0,
        ErrorKind::Auth
    );
}

// ------------------------------------------------------------- through the network

async fn send(webhook: &Webhook, account: Account, params: Value) -> Outcome {
    webhook
        .deliver(&delivery(account, params), &outbound())
        .await
}

#[tokio::test]
async fn basic_and_bearer_auth_over_http() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/basic"))
        .and(header("authorization", "Basic b3BzOlBBU1NXMFJEU0VDUkVU"))
        .and(header("content-type", "application/json"))
        .and(body_string("{\"host\":\"db-1\"}"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/bearer"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let webhook = Webhook::default();
    let basic = hook(
        json!({"url": format!("{}/basic", server.uri()), "method": "patch"}),
        json!({"user": "ops", "password": PASSWORD}),
    );
    let outcome = send(&webhook, basic, json!({"body": "{\"host\":\"db-1\"}"})).await;
    assert_eq!(delivered(outcome), [("status".into(), "200".into())]);
    let bearer = hook(
        json!({"url": format!("{}/bearer", server.uri()), "authType": "webhook-authentication-bearer"}),
        json!({"token": TOKEN}),
    );
    assert_eq!(
        delivered(send(&webhook, bearer, json!({})).await),
        [("status".into(), "201".into())]
    );
    server.verify().await;
}

fn oauth_account(server: &MockServer) -> Account {
    hook(
        json!({
            "url": format!("{}/hook", server.uri()),
            "authType": "webhook-oauth2-client-credentials",
            "accessTokenUrl": format!("{}/oauth/token", server.uri()),
            "clientId": "herald",
            "scope": "alerts.write",
            "additionalFields": "{\"audience\":\"alerts\"}",
        }),
        json!({"clientSecret": CLIENT_SECRET}),
    )
}

fn token_answer(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
}

#[tokio::test]
async fn oauth_tokens_are_fetched_once_and_reused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(format!(
            "grant_type=client_credentials&client_id=herald&client_secret={CLIENT_SECRET}&scope=alerts.write&audience=alerts"
        )))
        .respond_with(token_answer("T1"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header("authorization", "Bearer T1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let webhook = Webhook::default();
    for _ in 0..2 {
        let outcome = send(&webhook, oauth_account(&server), json!({"body": "{}"})).await;
        assert_eq!(delivered(outcome), [("status".into(), "200".into())]);
    }
    server.verify().await;
}

#[tokio::test]
async fn a_refused_cached_token_is_dropped_and_replaced_once() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(token_answer("OLD"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .respond_with(token_answer("NEW"))
        .mount(&server)
        .await;
    Mock::given(path("/hook"))
        .and(header("authorization", "Bearer OLD"))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/hook"))
        .and(header("authorization", "Bearer OLD"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/hook"))
        .and(header("authorization", "Bearer NEW"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let webhook = Webhook::default();
    // The first delivery caches OLD; the vendor then revokes it.
    delivered(send(&webhook, oauth_account(&server), json!({})).await);
    delivered(send(&webhook, oauth_account(&server), json!({})).await);
    server.verify().await;
    let hook_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/hook")
        .count();
    assert_eq!(
        hook_calls, 3,
        "one success, one 401, one retry with the new token"
    );
}

#[tokio::test]
async fn token_endpoint_failures() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ))
        .mount(&server)
        .await;
    let outcome = send(&Webhook::default(), oauth_account(&server), json!({})).await;
    assert_no_secret(&outcome, &[CLIENT_SECRET]);
    let (kind, reason) = permanent(outcome);
    assert_eq!(kind, ErrorKind::Auth);
    assert_eq!(
        reason,
        "the OAuth token endpoint (config.accessTokenUrl) answered 401: invalid_client; Client authentication failed"
    );
    server.reset().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let outcome = send(&Webhook::default(), oauth_account(&server), json!({})).await;
    assert_eq!(retry(outcome).0, ErrorKind::VendorTemporary);
    server.reset().await;
    Mock::given(path("/oauth/token"))
        .and(body_string_contains("client_id=herald"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token_type": "Bearer"})))
        .mount(&server)
        .await;
    let (kind, reason) =
        permanent(send(&Webhook::default(), oauth_account(&server), json!({})).await);
    assert_eq!(kind, ErrorKind::Auth);
    assert!(reason.ends_with("without an access_token"), "{reason}");
}

#[tokio::test]
async fn no_outcome_shows_a_secret() {
    let server = MockServer::start().await;
    let secrets = [PASSWORD, TOKEN, CLIENT_SECRET, HEADER_SECRET];
    let accounts = [
        hook(
            json!({"url": format!("{}/hook", server.uri())}),
            json!({"user": "ops", "password": PASSWORD, "secretHeaders": {"X-Key": HEADER_SECRET}}),
        ),
        hook(
            json!({"url": format!("{}/hook", server.uri()), "authType": "webhook-authentication-bearer"}),
            json!({"token": TOKEN}),
        ),
        oauth_account(&server),
    ];
    let webhook = Webhook::default();
    for answer in answers() {
        server.reset().await;
        Mock::given(path("/oauth/token"))
            .respond_with(token_answer("T"))
            .mount(&server)
            .await;
        Mock::given(path("/hook"))
            .respond_with(answer.clone())
            .mount(&server)
            .await;
        for account in &accounts {
            let outcome = send(&webhook, account.clone(), json!({"body": "{}"})).await;
            assert_no_secret(&outcome, &secrets);
        }
    }
    for answer in answers() {
        server.reset().await;
        Mock::given(path("/oauth/token"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = send(&Webhook::default(), oauth_account(&server), json!({})).await;
        assert_no_secret(&outcome, &secrets);
    }
    let unreachable = hook(
        json!({"url": closed_port_url()}),
        json!({"user": "ops", "password": PASSWORD}),
    );
    let outcome = send(&webhook, unreachable, json!({})).await;
    assert_no_secret(&outcome, &secrets);
    assert_eq!(retry(outcome).0, ErrorKind::Network);
}
