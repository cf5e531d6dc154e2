//! Kibana's `POST /api/actions/connector/{id}/_execute` end to end: the
//! registry's REST listener submits through a real ingest, a real worker
//! calls a wiremock vendor on loopback, and the answer is Kibana's run
//! result. Also its refusals, and ingest being away.

use std::time::Duration;

use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

const PASSWORD: &str = "execute-password-4711-secret";

struct Env {
    _nats: NatsServer,
    stack: Stack,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Env {
        herald_test_support::init_tracing();
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let mut options = StackOptions::new(nats.url(), dir.path());
        // The vendor is a wiremock server on loopback.
        options.config.policy = herald_catalog::Policy::default().with_loopback();
        let stack = Stack::start(options).await.unwrap();
        Env {
            _nats: nats,
            stack,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn url(&self, id: &str) -> String {
        format!(
            "{}/api/actions/connector/{id}/_execute",
            self.stack.registry_http_url()
        )
    }

    /// A webhook with basic auth to `url`.
    async fn webhook(&self, id: &str, url: String) {
        self.stack
            .put_account(
                id,
                "webhook",
                json!({"url": url, "method": "post", "hasAuth": true,
                       "authType": "webhook-authentication-basic"}),
                json!({"user": "herald", "password": PASSWORD}),
            )
            .await
            .unwrap();
    }

    async fn execute(&self, id: &str, token: &str, body: Value) -> (u16, String) {
        let response = self
            .http
            .post(self.url(id))
            .bearer_auth(token)
            .header("kbn-xsrf", "true")
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn execute_runs_one_action_and_answers_kibanas_result() {
    let env = Env::start().await;
    let vendor = MockServer::start().await;
    // `herald:<PASSWORD>` in base64.
    let basic = format!(
        "Basic {}",
        base64_of(format!("herald:{PASSWORD}").as_bytes())
    );
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .expect(1)
        .mount(&vendor)
        .await;
    // The receiver refuses, quoting the credential it was sent.
    Mock::given(method("POST"))
        .and(path("/bad"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("{{\"message\":\"bad password {PASSWORD}\"}}")),
        )
        .expect(1)
        .mount(&vendor)
        .await;
    env.webhook("Ops-Hook", format!("{}/hook", vendor.uri()))
        .await;
    env.webhook("bad-hook", format!("{}/bad", vendor.uri()))
        .await;

    let started = std::time::Instant::now();
    let (status, text) = env
        .execute(
            "Ops-Hook",
            &env.stack.admin_token,
            json!({"params": {"body": "{\"text\":\"disk full\"}"}}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        json_of(&text),
        json!({"status": "ok", "connector_id": "Ops-Hook", "data": {"status": "200"}})
    );
    let received = vendor.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&received[0].body).unwrap(),
        json!({"text": "disk full"})
    );

    let (status, text) = env
        .execute(
            "bad-hook",
            &env.stack.admin_token,
            json!({"params": {"body": "{}"}}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    let v = json_of(&text);
    assert_eq!(v["status"], "error", "{text}");
    assert_eq!(v["connector_id"], "bad-hook");
    assert_eq!(v["retry"], false);
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("answered 400"), "{message}");
    assert_eq!(
        v["service_message"],
        "{\"message\":\"bad password [redacted]\"}"
    );

    // Params the type does not take: Kibana's run error, naming the field.
    let (status, text) = env
        .execute(
            "Ops-Hook",
            &env.stack.admin_token,
            json!({"params": {"bodyy": "x"}}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let v = json_of(&text);
    assert_eq!(v["status"], "error", "{text}");
    assert!(
        v["message"].as_str().unwrap().contains("params.bodyy"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn execute_refuses_like_kibana() {
    let env = Env::start().await;
    env.webhook("hook", "http://127.0.0.1:9/hook".into()).await;

    let (status, text) = env
        .execute(
            "no-such-connector",
            &env.stack.admin_token,
            json!({"params": {}}),
        )
        .await;
    assert_eq!(status, 404, "{text}");
    let v = json_of(&text);
    assert_eq!(v["statusCode"], 404);
    assert_eq!(v["error"], "Not Found");

    let (status, text) = env
        .execute("hook", &env.stack.producer_token, json!({"params": {}}))
        .await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(json_of(&text)["statusCode"], 403);

    let no_xsrf = env
        .http
        .post(env.url("hook"))
        .bearer_auth(&env.stack.admin_token)
        .json(&json!({"params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_xsrf.status(), 400);
    let v: Value = no_xsrf.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("kbn-xsrf"), "{v}");

    for (body, field) in [
        (json!({}), "params"),
        (json!({"params": "x"}), "params"),
        (json!({"params": {}, "other": 1}), "other"),
    ] {
        let (status, text) = env.execute("hook", &env.stack.admin_token, body).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            json_of(&text)["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}:")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn execute_says_when_ingest_is_unreachable() {
    // Nothing listens on this port; the registry starts all the same.
    let closed = herald_test_support::free_port();
    let r = TestRegistry::start_with(|s| {
        s.http_listen = Some("127.0.0.1:0".parse().unwrap());
        s.execute.ingest_url = format!("http://127.0.0.1:{closed}");
    })
    .await;
    let base = r.server.http_url().unwrap();
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/api/actions/connector/hook"))
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&json!({"name": "Hook", "connector_type_id": ".webhook",
                      "config": {"url": "https://example.com/hook", "hasAuth": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());

    let started = std::time::Instant::now();
    let response = http
        .post(format!("{base}/api/actions/connector/hook/_execute"))
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&json!({"params": {"body": "{}"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let v: Value = response.json().await.unwrap();
    assert_eq!(v["statusCode"], 503);
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("HERALD_INGEST_URL") && message.contains(&closed.to_string()),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn an_action_still_retrying_at_the_timeout_is_reported_with_its_id() {
    use herald_registry::execute::{ExecuteSettings, Execution, Executor};
    let env = Env::start().await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("try later"))
        .mount(&vendor)
        .await;
    env.webhook("flaky", format!("{}/hook", vendor.uri())).await;
    let executor = Executor::new(&ExecuteSettings {
        ingest_url: env.stack.ingest.grpc_url(),
        timeout: Duration::from_millis(1500),
        ..Default::default()
    })
    .unwrap();
    let bearer = format!("Bearer {}", env.stack.admin_token).parse().unwrap();
    let params = json!({"body": "{}"}).as_object().cloned().unwrap();
    let started = std::time::Instant::now();
    let execution = executor.run(&bearer, "flaky", &params).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let Execution::Pending {
        action_id,
        attempts,
        last_error,
        vendor_message,
        ..
    } = execution
    else {
        panic!("{execution:?}");
    };
    assert!(!action_id.is_empty());
    assert!(attempts >= 1, "{attempts}");
    assert!(last_error.contains("503"), "{last_error}");
    assert_eq!(vendor_message.as_deref(), Some("try later"));
}
