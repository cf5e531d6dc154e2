//! An event goes in over HTTP and comes out at the vendor, exactly once.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn a_slack_alert_arrives_rendered_and_escaped_exactly_once() {
    let env = Env::start(|_| {}).await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/XYZ"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"text": "Disk full on `db_1 &lt;prod&gt;`: 97% used"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&slack)
        .await;
    env.stack
        .put_account(
            "ops-slack",
            "slack",
            json!({}),
            json!({"webhookUrl": format!("{}/services/T0/B0/XYZ", slack.uri())}),
        )
        .await
        .unwrap();

    let event = json!({
        "idempotency_key": "disk-db1-2026-11-24",
        "context": {"host": "db_1 <prod>", "used": 97},
        "actions": [{"account_id": "ops-slack", "params": {"message": "Disk full on {{context.host}}: {{context.used}}% used"}}]
    });
    let (status, body) = env.submit(event.clone()).await;
    assert_eq!(status, 202, "{body}");
    let ids = action_ids(&body);
    let delivered = env.wait_for_state(&ids[0], "delivered").await;
    assert_eq!(delivered["attempts"], 1);

    // The same event again, as a retrying producer would send it.
    let (status, again) = env.submit(event).await;
    assert_eq!(status, 202);
    assert_eq!(action_ids(&again), ids);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.status(&ids[0]).await["state"], "delivered");
    slack.verify().await;
}

#[tokio::test]
async fn vendor_failures_retry_then_deliver_or_dead_letter() {
    let env = Env::start(|_| {}).await;
    let teams = MockServer::start().await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&teams)
        .await;
    Mock::given(path("/flaky"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&teams)
        .await;
    Mock::given(path("/broken"))
        .respond_with(ResponseTemplate::new(400))
        .mount(&teams)
        .await;
    env.stack
        .put_account(
            "flaky",
            "teams",
            json!({}),
            json!({"webhookUrl": format!("{}/flaky", teams.uri())}),
        )
        .await
        .unwrap();
    env.stack
        .put_account(
            "broken",
            "teams",
            json!({}),
            json!({"webhookUrl": format!("{}/broken", teams.uri())}),
        )
        .await
        .unwrap();

    let (_, body) = env.submit(teams_event(None, "flaky", "x")).await;
    let flaky = env.wait_for_state(&action_ids(&body)[0], "delivered").await;
    assert_eq!(flaky["attempts"], 3);

    let (_, body) = env.submit(teams_event(None, "broken", "x")).await;
    let broken = env.wait_for_state(&action_ids(&body)[0], "failed").await;
    assert_eq!(broken["attempts"], 1);
    assert!(
        broken["last_error"].as_str().unwrap().contains("400"),
        "{broken}"
    );
}

#[tokio::test]
async fn a_malformed_event_is_dead_lettered_and_ingest_keeps_serving() {
    let env = Env::start(|_| {}).await;
    let teams = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&teams)
        .await;
    env.stack
        .put_account(
            "t",
            "teams",
            json!({}),
            json!({"webhookUrl": format!("{}/hook", teams.uri())}),
        )
        .await
        .unwrap();
    let nats = async_nats::connect(env.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    js.publish("herald.event", "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    js.publish(
        "herald.event",
        serde_json::to_vec(&teams_event(Some("k1"), "t", "hello"))
            .unwrap()
            .into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while teams.received_requests().await.unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the valid event after the bad one was not delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut dead = js.get_stream("HERALD_DEAD").await.unwrap();
    assert_eq!(dead.info().await.unwrap().state.messages, 1);
    let message = dead
        .get_last_raw_message_by_subject("herald.dead.event")
        .await
        .unwrap();
    let dead_event =
        <herald_proto::v1::DeadEvent as prost::Message>::decode(message.payload).unwrap();
    assert_eq!(dead_event.payload, b"{not json");
    assert!(!dead_event.reason.is_empty());
}

#[tokio::test]
async fn a_registry_stopped_for_ten_seconds_delays_deliveries_but_loses_none() {
    // The worker runs as its own process, started once the registry is down.
    let mut env = Env::start(|o| o.run_worker = false).await;
    let teams = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&teams)
        .await;
    env.stack
        .put_account(
            "t",
            "teams",
            json!({}),
            json!({"webhookUrl": format!("{}/hook", teams.uri())}),
        )
        .await
        .unwrap();
    // Accepted while the registry is up: ingest needs it to validate.
    let mut ids = Vec::new();
    for i in 0..20 {
        let (status, body) = env
            .submit(teams_event(None, "t", &format!("alert {i}")))
            .await;
        assert_eq!(status, 202);
        ids.extend(action_ids(&body));
    }
    env.stack.stop_registry().await.unwrap();
    let mut worker = spawn_worker(&env);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        teams.received_requests().await.unwrap().len(),
        0,
        "nothing can be delivered without the account"
    );
    assert_eq!(
        env.status(&ids[0]).await["state"],
        "queued",
        "waiting is not failing"
    );

    env.stack.start_registry().await.unwrap();
    for id in &ids {
        env.wait_for_state(id, "delivered").await;
    }
    worker.kill();
    assert_eq!(
        teams.received_requests().await.unwrap().len(),
        20,
        "each action exactly once"
    );
}
