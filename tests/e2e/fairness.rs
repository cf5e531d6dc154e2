//! One slow, rate-limited account does not hold up the others: a worker
//! process (the real binary) with few permits, a Slack account limited to
//! 5 messages a second whose vendor answers in 5 s, and a Teams account
//! beside it.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// How long the slow vendor takes to answer: no permit a Slack delivery
/// holds is given back before this.
const SLOW: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_slow_rate_limited_account_does_not_hold_up_the_others() {
    let loopback = vec!["*".to_owned(), "127.0.0.1".to_owned()];
    let env = Env::start(|o| {
        o.run_worker = false;
        o.config.policy.allowed_hosts = loopback.clone();
    })
    .await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/slack"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("ok")
                .set_delay(SLOW),
        )
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .and(path("/teams"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    let put = |id: &'static str, kind: &'static str, hook: &'static str| {
        let secrets = json!({"webhookUrl": format!("{}/{hook}", vendor.uri())});
        let stack = &env.stack;
        async move {
            stack
                .put_account(id, kind, json!({}), secrets)
                .await
                .unwrap()
        }
    };
    put("busy-slack", "slack", "slack").await;
    put("ops-teams", "teams", "teams").await;

    const SLACK: usize = 150;
    let mut slack_ids = Vec::new();
    for batch in 0..SLACK / 50 {
        let actions: Vec<_> = (0..50)
            .map(|i| json!({"account_id": "busy-slack", "params": {"message": format!("slack {}", batch * 50 + i)}}))
            .collect();
        let (status, body) = env.submit(json!({"actions": actions})).await;
        assert_eq!(status, 202, "{body}");
        slack_ids.extend(action_ids(&body));
    }

    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "policy:\n  allowed_hosts: [\"*\", \"127.0.0.1\"]\n\
         delivery:\n  max_in_flight_per_account: 8\n  rate_limits:\n    slack: { per_second: 5, burst: 5 }\n",
    )
    .unwrap();
    let config_path = config.path().to_str().unwrap().to_owned();
    let _worker = spawn_worker_with(
        &env,
        &[
            ("HERALD_WORKER_CONCURRENCY", "32"),
            ("HERALD_CONFIG", config_path.as_str()),
        ],
    );
    // Slack is at the vendor: the worker has fetched its backlog. Before
    // the fix, its 32 permits were all held by Slack deliveries waiting for
    // their rate-limit turn or for the slow vendor from here on.
    let started = Instant::now();
    while vendor.received_requests().await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the worker delivered nothing"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let slack_started = Instant::now();

    let teams: Vec<_> = (0..30)
        .map(|i| json!({"account_id": "ops-teams", "params": {"message": format!("teams {i}")}}))
        .collect();
    let (status, body) = env.submit(json!({"actions": teams})).await;
    assert_eq!(status, 202, "{body}");
    let submitted = Instant::now();
    let teams_ids = action_ids(&body);
    for id in &teams_ids {
        env.wait_for_state(id, "delivered").await;
    }
    let took = submitted.elapsed();
    let requests = vendor.received_requests().await.unwrap();
    let at = |p: &str| requests.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(at("/teams"), 30);
    assert!(
        took < Duration::from_secs(3) && slack_started.elapsed() < SLOW,
        "30 Teams messages took {took:?} beside the Slack backlog"
    );
    // Slack is still in progress: at most 8 at the vendor at once (the cap;
    // its rate would allow more), none answered yet.
    assert!(at("/slack") <= 8, "{} Slack requests", at("/slack"));
    assert_eq!(env.status(&slack_ids[SLACK - 1]).await["state"], "queued");

    // The Slack actions that waited for their turn are delivered on their
    // first attempt: a deferral is not an attempt.
    let deadline = Instant::now() + Duration::from_secs(15);
    let delivered = loop {
        // The first wave (8, the cap) is answered after SLOW.
        let mut delivered = Vec::new();
        for id in &slack_ids {
            let status = env.status(id).await;
            if status["state"] == "delivered" {
                delivered.push(status);
                if delivered.len() == 8 {
                    break;
                }
            }
        }
        if delivered.len() == 8 {
            break delivered;
        }
        assert!(
            Instant::now() < deadline,
            "only {} Slack actions delivered",
            delivered.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for status in delivered {
        assert_eq!(status["attempts"], 1, "{status}");
    }
}
