//! The delivery history holds every attempt exactly once: 10,000 actions,
//! some retried and some failed, with the registry that writes the history
//! killed (SIGKILL) mid-run and started again. Delivery does not wait for
//! the history while it is down; the history catches up from the RESULTS
//! stream, pages through REST correctly, and is pruned past its TTL.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::*;

const N: usize = 10_000;
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// What the vendor does with message `i`: every tenth is refused once with
/// a 503 (retried, then delivered), every twentieth from 1 is refused with
/// a 400 (failed for good); the rest are delivered at once.
fn fate(i: usize) -> &'static str {
    if i.is_multiple_of(10) {
        "retry"
    } else if i % 20 == 1 {
        "fail"
    } else {
        "ok"
    }
}

/// The attempts `fate` gives: (attempt, state) in order.
fn expected_attempts(fate: &str) -> Vec<(u64, &'static str)> {
    match fate {
        "retry" => vec![(1, "retrying"), (2, "delivered")],
        "fail" => vec![(1, "failed")],
        _ => vec![(1, "delivered")],
    }
}

/// A registry process that writes the history into its own SQLite file
/// (the stack's registry keeps none), on the stack's NATS.
struct HistoryRegistry {
    process: WorkerProcess,
    http: String,
}

fn spawn_history_registry(env: &Env, dir: &std::path::Path, ttl: &str) -> HistoryRegistry {
    let http = free_addr();
    let process = spawn_binary(
        env,
        "herald-registry",
        &[
            ("HERALD_REGISTRY_ADDR", &free_addr()),
            ("HERALD_REGISTRY_HTTP_ADDR", &http),
            (
                "HERALD_DATABASE_URL",
                &format!("sqlite://{}/history.db", dir.display()),
            ),
            ("HERALD_MASTER_KEY", MASTER_KEY),
            ("HERALD_ADMIN_TOKEN", &env.stack.admin_token),
            ("HERALD_PRODUCER_TOKEN", &env.stack.producer_token),
            ("HERALD_HISTORY_TTL", ttl),
        ],
    );
    HistoryRegistry {
        process,
        http: format!("http://{http}"),
    }
}

impl HistoryRegistry {
    /// `GET path` with the producer token; `None` until it answers.
    async fn get(&self, env: &Env, path: &str) -> Option<Value> {
        let response = env
            .http
            .get(format!("{}{path}", self.http))
            .bearer_auth(&env.stack.producer_token)
            .send()
            .await
            .ok()?;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.ok()
    }

    /// How many attempts the history holds (counts over every account).
    async fn stored(&self, env: &Env) -> Option<u64> {
        let counts = self
            .get(
                env,
                "/v1/deliveries/counts?by=account&since=2000-01-01T00:00:00Z",
            )
            .await?;
        Some(
            counts["counts"]
                .as_array()?
                .iter()
                .map(|c| {
                    ["delivered", "retrying", "failed"]
                        .iter()
                        .map(|k| c[k].as_u64().unwrap())
                        .sum::<u64>()
                })
                .sum(),
        )
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_attempt_is_in_the_history_once_across_a_registry_kill() {
    let env = Env::start(|o| o.history = false).await;
    let dir = tempfile::tempdir().unwrap();
    let vendor = MockServer::start().await;
    let tries: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    Mock::given(method("POST"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let text = body["text"].as_str().unwrap_or_default().to_owned();
            let mut tries = tries.lock().unwrap();
            let n = tries.entry(text.clone()).or_default();
            *n += 1;
            match (text.rsplit(' ').next(), *n) {
                (Some("retry"), 1) => ResponseTemplate::new(503),
                (Some("fail"), _) => ResponseTemplate::new(400).set_body_string("bad card"),
                _ => ResponseTemplate::new(200).set_body_string("1"),
            }
        })
        .mount(&vendor)
        .await;
    env.stack
        .put_account(
            "t",
            "teams",
            json!({}),
            json!({"webhookUrl": format!("{}/hook", vendor.uri())}),
        )
        .await
        .unwrap();
    let mut registry = spawn_history_registry(&env, dir.path(), "7d");

    let mut fates: BTreeMap<String, &str> = BTreeMap::new();
    for batch in 0..N / 100 {
        let actions: Vec<Value> = (0..100)
            .map(|j| {
                let i = batch * 100 + j;
                json!({"account_id": "t", "params": {"message": format!("alert {i} {}", fate(i))}})
            })
            .collect();
        let (status, body) = env.submit(json!({"context": {}, "actions": actions})).await;
        assert_eq!(status, 202, "{body}");
        for (j, id) in action_ids(&body).into_iter().enumerate() {
            fates.insert(id, fate(batch * 100 + j));
        }
    }
    let total_attempts: usize = fates.values().map(|f| expected_attempts(f).len()).sum();

    // Killed once a quarter of the attempts are stored, mid-batch.
    wait_until("a quarter stored", Duration::from_secs(60), || async {
        registry.stored(&env).await.unwrap_or(0) as usize >= total_attempts / 4
    })
    .await;
    registry.process.kill();
    // Delivery goes on without the history.
    let at_kill = vendor.received_requests().await.unwrap().len();
    wait_until(
        "deliveries go on while the history is down",
        Duration::from_secs(30),
        || async {
            vendor.received_requests().await.unwrap().len() >= at_kill + 1000
                || vendor.received_requests().await.unwrap().len() >= total_attempts
        },
    )
    .await;
    let registry = spawn_history_registry(&env, dir.path(), "7d");
    wait_until("every attempt stored", Duration::from_secs(120), || async {
        registry.stored(&env).await.unwrap_or(0) as usize >= total_attempts
    })
    .await;
    // Anything handed out again after the kill (JetStream's ack wait) has
    // had its chance to arrive twice.
    tokio::time::sleep(Duration::from_secs(11)).await;

    // Page through everything: each attempt exactly once, as it happened.
    let mut seen: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let mut rows = 0;
    let mut token = String::new();
    let mut last_finished = (i64::MAX, 0);
    loop {
        let page = registry
            .get(
                &env,
                &format!("/v1/deliveries?account_id=t&page_size=1000&page_token={token}"),
            )
            .await
            .unwrap();
        for d in page["deliveries"].as_array().unwrap() {
            let finished: prost_types::Timestamp =
                d["finished_at"].as_str().unwrap().parse().unwrap();
            let finished = (finished.seconds, finished.nanos);
            assert!(finished <= last_finished, "newest first");
            last_finished = finished;
            rows += 1;
            seen.entry(d["action_id"].as_str().unwrap().to_owned())
                .or_default()
                .push((
                    d["attempt"].as_u64().unwrap(),
                    d["state"].as_str().unwrap().to_owned(),
                ));
        }
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(rows, total_attempts, "each attempt stored once");
    assert_eq!(seen.len(), N);
    for (id, fate) in &fates {
        let mut got = seen.remove(id).unwrap_or_default();
        got.sort();
        let want: Vec<(u64, String)> = expected_attempts(fate)
            .into_iter()
            .map(|(a, s)| (a, s.to_owned()))
            .collect();
        assert_eq!(got, want, "action {id} ({fate})");
    }
    let failed = registry
        .get(&env, "/v1/deliveries?state=failed&page_size=1")
        .await
        .unwrap();
    let failed = &failed["deliveries"][0];
    assert_eq!(failed["error_kind"], "vendor_rejected");
    assert_eq!(failed["vendor_status"], 400);
    assert_eq!(failed["vendor_excerpt"], "bad card");

    // Started again with a TTL of a second, the registry prunes it all.
    drop(registry);
    let registry = spawn_history_registry(&env, dir.path(), "1s");
    wait_until("pruned past the TTL", Duration::from_secs(30), || async {
        registry.stored(&env).await == Some(0)
    })
    .await;
}
