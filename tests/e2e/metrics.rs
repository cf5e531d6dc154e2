//! `/metrics` counts what really happened: N actions delivered and M failed
//! by a real worker process, scraped from it and from ingest; `/readyz`
//! follows the registry going away and coming back.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

const DELIVERED: usize = 5;
const FAILED: usize = 3;

/// The value of the series `name` whose labels are exactly `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut want = labels.to_vec();
    want.sort();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, number) = line.rsplit_once(' ').unwrap();
        let (series_name, label_text) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let mut found: Vec<(&str, &str)> = label_text
            .split(',')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k, v.trim_matches('"'))
            })
            .collect();
        found.sort();
        if found == want {
            return number.parse().unwrap();
        }
    }
    panic!("no series {name}{labels:?} in:\n{text}")
}

async fn get(env: &Env, url: &str) -> (u16, String) {
    match env.http.get(url).send().await {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(error) => (0, error.to_string()),
    }
}

/// Polls `url` until `done` holds for its answer (or fails after 20 s).
async fn until(env: &Env, url: &str, what: &str, done: impl Fn(u16, &str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(env, url).await;
        if done(status, &body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {url} answered {status}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_match_the_deliveries_and_readyz_follows_the_registry() {
    let mut env = Env::start(|o| o.run_worker = false).await;
    let worker_metrics = free_addr();
    let _worker = spawn_worker_with(&env, &[("HERALD_METRICS_ADDR", &worker_metrics)]);
    let worker = format!("http://{worker_metrics}");
    let ingest = env.stack.ingest.http_url();

    let teams = MockServer::start().await;
    Mock::given(path("/ok"))
        .respond_with(ResponseTemplate::new(200))
        .expect(DELIVERED as u64)
        .mount(&teams)
        .await;
    Mock::given(path("/rejects"))
        .respond_with(ResponseTemplate::new(400))
        .expect(FAILED as u64)
        .mount(&teams)
        .await;
    for (id, hook) in [("ok", "/ok"), ("rejects", "/rejects")] {
        env.stack
            .put_account(
                id,
                "teams",
                json!({}),
                json!({"webhookUrl": format!("{}{hook}", teams.uri())}),
            )
            .await
            .unwrap();
    }

    let mut submitted = Vec::new();
    for (account, count, state) in [
        ("ok", DELIVERED, "delivered"),
        ("rejects", FAILED, "failed"),
    ] {
        for n in 0..count {
            let (status, body) = env
                .submit(teams_event(None, account, &format!("alert {n}")))
                .await;
            assert_eq!(status, 202, "{body}");
            submitted.push((action_ids(&body)[0].clone(), state));
        }
    }
    for (id, state) in &submitted {
        env.wait_for_state(id, state).await;
    }

    // The status is written just before the ack, the in-flight gauge drops
    // just after it.
    let text = until(
        &env,
        &format!("{worker}/metrics"),
        "nothing in flight",
        |s, b| s == 200 && value(b, "herald_actions_in_flight", &[("type", "teams")]) == 0.0,
    )
    .await;
    let teams_type = [("type", "teams")];
    let count = |name: &str, labels: &[(&str, &str)]| value(&text, name, labels) as usize;
    assert_eq!(
        count("herald_actions_delivered_total", &teams_type),
        DELIVERED
    );
    assert_eq!(
        count(
            "herald_actions_failed_total",
            &[("type", "teams"), ("reason", "vendor_rejected")]
        ),
        FAILED
    );
    for (outcome, expected) in [("delivered", DELIVERED), ("failed", FAILED), ("retry", 0)] {
        assert_eq!(
            count(
                "herald_delivery_attempts_total",
                &[("type", "teams"), ("outcome", outcome)]
            ),
            expected,
            "{outcome} attempts"
        );
    }
    assert_eq!(
        count("herald_delivery_latency_seconds_count", &teams_type),
        DELIVERED
    );
    assert_eq!(count("herald_dead_letters_total", &teams_type), FAILED);
    assert_eq!(
        count("herald_actions_delivered_total", &[("type", "slack")]),
        0
    );
    assert!(
        count(
            "herald_registry_call_duration_seconds_count",
            &[("call", "resolve_account"), ("outcome", "ok")]
        ) >= 2,
        "each account resolved at least once:\n{text}"
    );
    // The backlog gauge is read from JetStream every few seconds.
    until(&env, &format!("{worker}/metrics"), "no backlog", |s, b| {
        s == 200 && value(b, "herald_consumer_pending", &[("type", "teams")]) == 0.0
    })
    .await;

    let (status, text) = get(&env, &format!("{ingest}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(
        value(&text, "herald_actions_accepted_total", &teams_type) as usize,
        DELIVERED + FAILED
    );
    assert_eq!(
        value(
            &text,
            "herald_ingest_events_total",
            &[("via", "http"), ("outcome", "accepted")]
        ) as usize,
        DELIVERED + FAILED
    );
    // `heraldctl up`'s one process: the registry's requests show on
    // ingest's listener too (the worker process resolved through it).
    assert!(
        value(
            &text,
            "herald_registry_request_duration_seconds_count",
            &[("method", "ResolveAccount"), ("code", "ok")]
        ) >= 2.0
    );
    assert!(!text.contains(&env.stack.service_token));
    teams.verify().await;

    // Ready while NATS and the registry answer; not while the registry is away.
    for base in [&worker, &ingest] {
        let (status, body) = get(&env, &format!("{base}/readyz")).await;
        assert_eq!((status, body.as_str()), (200, "nats: ok\nregistry: ok\n"));
    }
    env.stack.stop_registry().await.unwrap();
    for base in [&worker, &ingest] {
        let body = until(&env, &format!("{base}/readyz"), "not ready", |s, _| {
            s == 503
        })
        .await;
        assert!(body.starts_with("nats: ok\nregistry: "), "{body}");
        assert!(!body.contains("registry: ok"), "{body}");
        assert_eq!(get(&env, &format!("{base}/healthz")).await.0, 200);
    }
    env.stack.start_registry().await.unwrap();
    for base in [&worker, &ingest] {
        until(&env, &format!("{base}/readyz"), "ready again", |s, _| {
            s == 200
        })
        .await;
    }
}
