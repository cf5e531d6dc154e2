//! A `herald-ingest` process under hostile events (issue 11): templates
//! that loop are refused fast while the process keeps answering, and
//! events too large once rendered are refused before anything is published,
//! so nothing of them is ever delivered.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{binary, free_addr};

/// The registry and a chat worker in process, and ingest as a process of its
/// own (its real runtime, two cores' worth of async threads), on a
/// nats-server of the test's choosing.
struct Hostile {
    nats: NatsServer,
    stack: Stack,
    ingest: IngestProcess,
    http_url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

struct IngestProcess(Child);

impl Drop for IngestProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Hostile {
    async fn start(nats: NatsServer, vars: &[(&str, &str)]) -> Hostile {
        herald_test_support::init_tracing();
        let dir = tempfile::tempdir().unwrap();
        let mut options = StackOptions::new(nats.url(), dir.path());
        // The vendor is a loopback server, which the policy must name.
        options.config.policy.allowed_hosts = vec!["*".into(), "127.0.0.1".into()];
        let stack = Stack::start(options).await.unwrap();
        let http_addr = free_addr();
        let child = Command::new(binary("herald-ingest"))
            .env("HERALD_NATS_URL", nats.url())
            .env("HERALD_REGISTRY_URL", stack.registry_url())
            .env("HERALD_SERVICE_TOKEN", &stack.service_token)
            .env("HERALD_PRODUCER_TOKEN", &stack.producer_token)
            .env("HERALD_INGEST_HTTP_ADDR", &http_addr)
            .env("HERALD_INGEST_GRPC_ADDR", free_addr())
            .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
            .env("HERALD_LOG", "warn")
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let hostile = Hostile {
            nats,
            stack,
            ingest: IngestProcess(child),
            http_url: format!("http://{http_addr}"),
            // Bounded even when ingest is not: a stalled answer fails the
            // test instead of hanging it.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _dir: dir,
        };
        hostile.wait_until_ready().await;
        hostile
    }

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = self
                .http
                .get(format!("{}/readyz", self.http_url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "herald-ingest never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn submit(&self, event: &Value) -> (u16, Value) {
        submit(
            &self.http,
            &self.http_url,
            &self.stack.producer_token,
            event,
        )
        .await
    }

    async fn status(&self, action_id: &str) -> Value {
        self.http
            .get(format!("{}/v1/actions/{action_id}", self.http_url))
            .bearer_auth(&self.stack.producer_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_delivered(&self, action_id: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.status(action_id).await;
            if status["state"] == "delivered" {
                return;
            }
            assert!(Instant::now() < deadline, "never delivered: {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A Slack account whose webhook is `vendor`'s `/hook`.
    async fn slack_account(&self, vendor: &MockServer) {
        self.stack
            .put_account(
                "ops-slack",
                "slack",
                json!({}),
                json!({"webhookUrl": format!("{}/hook", vendor.uri())}),
            )
            .await
            .unwrap();
    }

    /// Every action request ever stored (the stream is a work queue, so
    /// delivered ones are gone, but their sequence numbers stay).
    async fn actions_ever_published(&self) -> u64 {
        let client = async_nats::connect(self.nats.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("HERALD_ACTIONS").await.unwrap();
        stream.info().await.unwrap().state.last_sequence
    }
}

async fn submit(http: &reqwest::Client, url: &str, token: &str, event: &Value) -> (u16, Value) {
    let response = http
        .post(format!("{url}/v1/events"))
        .bearer_auth(token)
        .json(event)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn slack_vendor() -> MockServer {
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&vendor)
        .await;
    vendor
}

/// `{{#context.l}}` nine deep with an empty body, over ten items: the
/// 366-byte event that took 11-12 s of CPU per submission before.
fn looping_event() -> Value {
    let template = "{{#context.l}}".repeat(9) + &"{{/context.l}}".repeat(9);
    json!({
        "context": {"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]},
        "actions": [{"account_id": "ops-slack", "params": {"message": template}}],
    })
}

fn normal_event(message: &str) -> Value {
    json!({"actions": [{"account_id": "ops-slack", "params": {"message": message}}]})
}

/// Generous for a loaded two-core machine; before the fix each of these
/// took over ten seconds.
const PROMPTLY: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looping_templates_are_refused_fast_and_ingest_keeps_answering() {
    let env = Hostile::start(NatsServer::start(), &[]).await;
    let vendor = slack_vendor().await;
    env.slack_account(&vendor).await;

    let started = Instant::now();
    let (status, body) = env.submit(&looping_event()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "actions[0].params.message");
    assert!(started.elapsed() < PROMPTLY, "took {:?}", started.elapsed());

    // Several at once, and meanwhile /healthz and a normal event.
    let hostile: Vec<_> = (0..6)
        .map(|_| {
            let (http, url, token) = (
                env.http.clone(),
                env.http_url.clone(),
                env.stack.producer_token.clone(),
            );
            tokio::spawn(async move {
                let started = Instant::now();
                let (status, _) = submit(&http, &url, &token, &looping_event()).await;
                (status, started.elapsed())
            })
        })
        .collect();
    let started = Instant::now();
    let health = env
        .http
        .get(format!("{}/healthz", env.http_url))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let health_took = started.elapsed();
    let started = Instant::now();
    let (status, body) = env.submit(&normal_event("db1 is down")).await;
    let submit_took = started.elapsed();
    assert_eq!(status, 202, "{body}");
    assert!(health_took < PROMPTLY, "/healthz took {health_took:?}");
    assert!(
        submit_took < PROMPTLY,
        "a normal submit took {submit_took:?}"
    );
    for task in hostile {
        let (status, took) = task.await.unwrap();
        assert_eq!(status, 400);
        // Six queue for the cores, so each waits for the ones before it.
        assert!(took < 2 * PROMPTLY, "a looping event took {took:?}");
    }
    let id = body["actions"][0]["action_id"].as_str().unwrap();
    env.wait_delivered(id).await;
    assert_eq!(env.actions_ever_published().await, 1);
}

#[tokio::test]
async fn events_too_large_once_rendered_publish_nothing() {
    let nats = NatsServer::start_with_config("max_payload: 32768");
    let env = Hostile::start(nats, &[("HERALD_INGEST_MAX_RENDERED_BYTES", "65536")]).await;
    let vendor = slack_vendor().await;
    env.slack_account(&vendor).await;

    // [small, over the max payload]: 10 × 4,000 bytes, from a 4 KB event.
    let over_payload = json!({
        "context": {"text": "x".repeat(4000), "l": (0..10).collect::<Vec<u32>>()},
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "small"}},
            {"account_id": "ops-slack", "params": {"message": "{{#context.l}}{{context.text}}{{/context.l}}"}},
        ],
    });
    let (status, body) = env.submit(&over_payload).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["field"], "actions[1]");

    // Over the event's rendered budget: 3 × 30 KB, each under the payload.
    let items: Vec<u32> = (0..3000).collect();
    let action = json!({"account_id": "ops-slack", "params": {"message": "{{#context.l}}0123456789{{/context.l}}"}});
    let over_budget = json!({"context": {"l": items}, "actions": [action, action, action]});
    let (status, body) = env.submit(&over_budget).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["field"], "actions[2].params.message");

    // Then a normal event: it alone was published, and it alone arrives.
    let (status, body) = env.submit(&normal_event("only this")).await;
    assert_eq!(status, 202, "{body}");
    env.wait_delivered(body["actions"][0]["action_id"].as_str().unwrap())
        .await;
    assert_eq!(env.actions_ever_published().await, 1);
    let received = vendor.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&received[0].body).unwrap(),
        json!({"text": "only this"})
    );
    drop(env.ingest);
}
