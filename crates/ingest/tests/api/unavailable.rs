//! When the registry or NATS is away, events are refused as UNAVAILABLE /
//! 503 (never INVALID_ARGUMENT), readyz says which one is down, and events
//! from `herald.event` wait instead of being dead-lettered.

use herald_proto::v1;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::*;

fn event(account: &str) -> Value {
    json!({"actions": [{"account_id": account, "params": {"message": "hi"}}]})
}

/// The status and the plain-text report: one `<check>: <ok or why not>` line each.
async fn readyz(app: &TestApp) -> (u16, String) {
    let response = app.http.get(app.http_url("/readyz")).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn registry_down_is_unavailable_and_events_wait_for_it() {
    let mut app = TestApp::start().await;
    assert_eq!(readyz(&app).await.0, 200);
    // Not looked up yet, so not in ingest's account cache.
    app.put_account(slack("late-slack")).await;

    app.stop_registry().await;
    let status = app
        .submit(PRODUCER, request(&event("late-slack")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{}", status.message());
    let response = app.post_event(Some(PRODUCER), &event("late-slack")).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");

    let (code, body) = readyz(&app).await;
    assert_eq!(code, 503);
    assert!(body.contains("nats: ok\n"), "{body}");
    assert!(
        body.contains("registry: the registry is unavailable"),
        "{body}"
    );
    let health = app.http.get(app.http_url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // An event from NATS is NAKed, not dead-lettered, and is accepted once
    // the registry is back.
    app.js
        .publish(
            "herald.event",
            serde_json::to_vec(&event("late-slack")).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        app.stored("HERALD_DEAD", "herald.dead.event")
            .await
            .is_empty()
    );
    assert_eq!(app.action_count().await, 0);

    app.restart_registry().await;
    eventually("the waiting event's action", || async {
        (app.action_count().await == 1).then_some(())
    })
    .await;
    assert_eq!(readyz(&app).await.0, 200);
    assert!(
        app.stored("HERALD_DEAD", "herald.dead.event")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn nats_down_is_unavailable() {
    let app = TestApp::start().await;
    // Warm the account cache so that only NATS is missing.
    app.submit(PRODUCER, request(&event("ops-slack")))
        .await
        .unwrap();

    app.nats.stop();
    let status = app
        .submit(PRODUCER, request(&event("ops-slack")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{}", status.message());
    let response = app.post_event(Some(PRODUCER), &event("ops-slack")).await;
    assert_eq!(response.status(), 503);
    let (code, body) = readyz(&app).await;
    assert_eq!(code, 503);
    assert!(body.contains("nats: not connected"), "{body}");
    let status = app
        .grpc
        .clone()
        .get_action_status(authed(
            PRODUCER,
            v1::GetActionStatusRequest {
                action_id: "0123456789abcdef0123456789abcdef".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}

#[tokio::test]
async fn stop_returns_promptly_and_closes_the_ports() {
    let app = TestApp::start().await;
    let http = app.ingest.http_addr;
    let ingest = app.ingest;
    tokio::time::timeout(std::time::Duration::from_secs(10), ingest.stop())
        .await
        .expect("stops within 10 s")
        .unwrap();
    assert!(tokio::net::TcpStream::connect(http).await.is_err());
}
