//! A worker process killed with SIGKILL mid-flight loses nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn a_worker_killed_mid_flight_then_restarted_delivers_everything() {
    let env = Env::start(|o| o.run_worker = false).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(3)))
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

    const N: usize = 1000;
    for batch in 0..N / 100 {
        let actions: Vec<_> = (0..100)
            .map(|i| json!({"account_id": "t", "params": {"message": format!("alert {}", batch * 100 + i)}}))
            .collect();
        let (status, body) = env.submit(json!({"context": {}, "actions": actions})).await;
        assert_eq!(status, 202, "{body}");
    }

    let mut first = spawn_worker(&env);
    let deadline = Instant::now() + Duration::from_secs(30);
    while vendor.received_requests().await.unwrap().len() < N / 2 {
        assert!(
            Instant::now() < deadline,
            "the first worker delivered nothing"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let at_kill = vendor.received_requests().await.unwrap().len();

    let mut second = spawn_worker(&env);
    let deadline = Instant::now() + Duration::from_secs(60);
    let counts = loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for request in vendor.received_requests().await.unwrap() {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            *counts
                .entry(body["text"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        if counts.len() == N {
            break counts;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {N} alerts arrived after the restart",
            counts.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.kill();
    let twice = counts.values().filter(|&&n| n > 1).count();
    println!("SIGKILL after {at_kill} deliveries: all {N} alerts arrived; {twice} arrived twice");
    assert!(counts.values().all(|&n| n <= 2));
}
