//! The real Alertmanager binary (Debian's `prometheus-alertmanager`) with a
//! webhook receiver pointed at ingest's intake: an alert posted to its API
//! becomes a PagerDuty trigger and a Slack `chat.postMessage` (HTTP mocks);
//! its repeats within the route's throttle deliver nothing more; Herald is
//! restarted; resolving the alert sends PagerDuty's `resolve` with the same
//! `dedup_key` and a `chat.update` of the same `ts`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_stack::{RoleTokens, Stack, StackOptions};
use herald_test_support::NatsServer;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::free_addr;

const ROUTING_KEY: &str = "R0UTINGKEY0123456789abcdef01234567";
const SLACK_TOKEN: &str = "xoxb-alertmanager-e2e-token";
const TS: &str = "1764840000.000100";

/// A stack on fixed addresses, so that a restart comes back where
/// Alertmanager posts.
struct Fixed {
    ingest_http: SocketAddr,
    ingest_grpc: SocketAddr,
    registry: SocketAddr,
    registry_http: SocketAddr,
    tokens: RoleTokens,
    master_key: String,
}

impl Fixed {
    fn new() -> Fixed {
        let addr = || free_addr().parse().unwrap();
        Fixed {
            ingest_http: addr(),
            ingest_grpc: addr(),
            registry: addr(),
            registry_http: addr(),
            tokens: RoleTokens::generate(),
            master_key: herald_registry::secret_box::SecretBox::generate_key(),
        }
    }

    async fn start(&self, nats: &NatsServer, dir: &Path) -> Stack {
        let mut options = StackOptions::new(nats.url(), dir);
        options.config.policy = herald_catalog::Policy::default().with_loopback();
        options.ingest_http_addr = self.ingest_http;
        options.ingest_grpc_addr = self.ingest_grpc;
        options.registry_addr = self.registry;
        options.registry_http_addr = self.registry_http;
        options.tokens = Some(self.tokens.clone());
        options.master_key = Some(self.master_key.clone());
        options.worker = Box::new(|w| {
            w.config.delivery.backoff.initial = Duration::from_millis(20);
            w.config.delivery.backoff.max = Duration::from_millis(200);
        });
        Stack::start(options).await.expect("the stack starts")
    }
}

struct Alertmanager {
    child: Child,
    url: String,
}

impl Alertmanager {
    fn start(dir: &Path, webhook: &str, token: &str) -> Alertmanager {
        let config = format!(
            r#"
route:
  receiver: herald
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: herald
    webhook_configs:
      - url: {webhook}
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"#
        );
        let file = dir.join("alertmanager.yml");
        std::fs::write(&file, config).unwrap();
        let listen = free_addr();
        let child = Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", file.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address={listen}"))
            // One instance, no gossip.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-alertmanager runs (scripts/setup.sh installs it)");
        Alertmanager {
            child,
            url: format!("http://{listen}"),
        }
    }

    async fn ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/-/ready", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "Alertmanager did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Posts the alert to Alertmanager's API, firing or (with `ended`)
    /// resolved.
    async fn post(&self, http: &reqwest::Client, ended: bool) {
        let now = chrono_like_now();
        let mut alert = json!({
            "labels": {"alertname": "HighErrorRate", "severity": "critical", "instance": "web-1", "job": "web"},
            "annotations": {"summary": "Error rate above 5% on web-1"},
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=errors",
        });
        if ended {
            alert["endsAt"] = json!(now);
        } else {
            alert["startsAt"] = json!(now);
        }
        let response = http
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&json!([alert]))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Now as RFC 3339, as Alertmanager's API takes it.
fn chrono_like_now() -> String {
    prost_types::Timestamp::from(std::time::SystemTime::now()).to_string()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

async fn received(server: &MockServer, url_path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == url_path)
        .map(body)
        .collect()
}

/// Polls `check` every 100 ms for up to `seconds`.
async fn until<T>(what: &str, seconds: u64, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn alertmanager_alerts_open_and_resolve_the_same_vendor_objects_across_a_restart() {
    herald_test_support::init_tracing();
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let fixed = Fixed::new();
    let stack = fixed.start(&nats, dir.path()).await;
    let http = reqwest::Client::new();

    let pagerduty = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "from-pagerduty"}),
        ))
        .mount(&pagerduty)
        .await;
    let slack = MockServer::start().await;
    for call in ["/api/chat.postMessage", "/api/chat.update"] {
        Mock::given(method("POST"))
            .and(path(call))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": true, "channel": "C0OPS", "ts": TS})),
            )
            .mount(&slack)
            .await;
    }
    stack
        .put_account(
            "am-pagerduty",
            "pagerduty",
            json!({"apiUrl": format!("{}/v2/enqueue", pagerduty.uri())}),
            json!({"routingKey": ROUTING_KEY}),
        )
        .await
        .unwrap();
    stack
        .put_account(
            "am-slack",
            "slack_api",
            json!({"apiUrl": format!("{}/api/", slack.uri()), "allowedChannels": [{"id": "C0OPS", "name": "ops"}]}),
            json!({"token": SLACK_TOKEN}),
        )
        .await
        .unwrap();
    // Only accounts: each type's default rendering of the alert.
    let route = http
        .put(format!("{}/v1/routes/ops", stack.registry_http_url()))
        .bearer_auth(&stack.admin_token)
        .json(&json!({
            "name": "Operations",
            "actions": [{"account_id": "am-pagerduty"}, {"account_id": "am-slack"}],
            "throttle": "1h",
        }))
        .send()
        .await
        .unwrap();
    assert!(
        route.status().is_success(),
        "{}",
        route.text().await.unwrap()
    );

    let am = Alertmanager::start(
        dir.path(),
        &format!("http://{}/v1/intake/alertmanager/ops", fixed.ingest_http),
        &fixed.tokens.producer,
    );
    am.ready(&http).await;
    am.post(&http, false).await;

    let trigger = until("the PagerDuty trigger", 30, async || {
        received(&pagerduty, "/v2/enqueue").await.into_iter().next()
    })
    .await;
    assert_eq!(trigger["event_action"], "trigger", "{trigger}");
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(
        trigger["payload"]["summary"],
        "Error rate above 5% on web-1"
    );
    let dedup_key = trigger["dedup_key"].as_str().unwrap().to_owned();
    let posted = until("Slack's chat.postMessage", 30, async || {
        received(&slack, "/api/chat.postMessage")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(posted["channel"], "C0OPS", "{posted}");
    assert!(posted["blocks"].is_array(), "{posted}");

    // Alertmanager repeats every 2 s; Herald records them, sends nothing.
    let alerts_url = format!("http://{}/v1/alerts", fixed.ingest_http);
    let producer = fixed.tokens.producer.clone();
    let key = until("Alertmanager's repeats", 30, async || {
        let listed: Value = http
            .get(&alerts_url)
            .bearer_auth(&producer)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let alert = listed["alerts"].get(0)?;
        (alert["received"].as_u64()? >= 3).then(|| alert["key"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(key.starts_with("am-"), "{key}");
    assert_eq!(received(&pagerduty, "/v2/enqueue").await.len(), 1);
    assert_eq!(received(&slack, "/api/chat.postMessage").await.len(), 1);

    // Herald restarts between the firing and the resolve.
    stack.stop().await.unwrap();
    let stack = fixed.start(&nats, dir.path()).await;

    am.post(&http, true).await;
    let resolve = until("the PagerDuty resolve", 30, async || {
        received(&pagerduty, "/v2/enqueue")
            .await
            .into_iter()
            .find(|e| e["event_action"] == "resolve")
    })
    .await;
    assert_eq!(
        resolve["dedup_key"],
        dedup_key.as_str(),
        "the same incident"
    );
    let update = until("Slack's chat.update", 30, async || {
        received(&slack, "/api/chat.update")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        (update["channel"].as_str(), update["ts"].as_str()),
        (Some("C0OPS"), Some(TS))
    );
    // The thread reply saying it resolved, and nothing opened anew.
    let reply = until("the thread reply", 30, async || {
        received(&slack, "/api/chat.postMessage")
            .await
            .into_iter()
            .find(|m| m["thread_ts"] == TS)
    })
    .await;
    assert_eq!(reply["channel"], "C0OPS");
    let triggers = received(&pagerduty, "/v2/enqueue")
        .await
        .iter()
        .filter(|e| e["event_action"] == "trigger")
        .count();
    assert_eq!(triggers, 1);
    let opened = received(&slack, "/api/chat.postMessage")
        .await
        .iter()
        .filter(|m| m.get("thread_ts").is_none())
        .count();
    assert_eq!(opened, 1);

    let alert: Value = http
        .get(format!("{alerts_url}/{key}"))
        .bearer_auth(&fixed.tokens.producer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(alert["status"], "resolved", "{alert}");
    assert_eq!(alert["targets"][1]["handles"]["ts"], TS, "{alert}");
    stack.stop().await.unwrap();
}
