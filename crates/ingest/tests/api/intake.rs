//! Events published on `herald.event`: a valid one becomes actions; one that
//! can never be accepted goes to `herald.dead.event` with its reason, and
//! the events behind it are still processed.

use herald_proto::v1;
use prost::Message;
use serde_json::json;

use crate::helpers::*;

async fn publish_event(app: &TestApp, payload: Vec<u8>) {
    app.js
        .publish("herald.event", payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn dead_events(app: &TestApp) -> Vec<v1::DeadEvent> {
    app.stored("HERALD_DEAD", "herald.dead.event")
        .await
        .into_iter()
        .map(|m| v1::DeadEvent::decode(m.payload).unwrap())
        .collect()
}

#[tokio::test]
async fn events_from_nats_become_actions_and_bad_ones_are_dead_lettered() {
    let app = TestApp::start().await;
    let valid = |host: &str| {
        serde_json::to_vec(&json!({
            "context": {"host": host},
            "actions": [{"account_id": "ops-slack", "params": {"message": "down: {{context.host}}"}}],
        }))
        .unwrap()
    };

    publish_event(&app, valid("db1")).await;
    eventually("the first action", || async {
        (app.action_count().await == 1).then_some(())
    })
    .await;

    let broken = b"{\"actions\": [".to_vec();
    publish_event(&app, broken.clone()).await;
    let violating = serde_json::to_vec(&json!({"actions": [
        {"account_id": "ops-pd", "params": {"eventAction": "resolve"}},
        {"account_id": "nobody", "params": {}},
    ]}))
    .unwrap();
    publish_event(&app, violating.clone()).await;
    publish_event(&app, valid("db2")).await;

    let dead = eventually("two dead events", || async {
        let dead = dead_events(&app).await;
        (dead.len() == 2).then_some(dead)
    })
    .await;
    assert_eq!(dead[0].payload, broken);
    assert!(
        dead[0].reason.starts_with("the body is not valid JSON"),
        "{}",
        dead[0].reason
    );
    assert!(dead[0].fields.is_empty());
    assert!(dead[0].dead_at.is_some());
    assert_eq!(dead[1].payload, violating);
    assert_eq!(
        dead[1].reason,
        "actions[0].params.dedupKey: required when eventAction is resolve; actions[1].account_id: account nobody does not exist"
    );
    assert_eq!(
        dead[1].fields,
        ["actions[0].params.dedupKey", "actions[1].account_id"]
    );

    eventually("the action of the event after the bad ones", || async {
        (app.action_count().await == 2).then_some(())
    })
    .await;
    let stored = app.stored("HERALD_ACTIONS", "herald.action.slack").await;
    let messages: Vec<String> = stored
        .iter()
        .map(|m| {
            let r = v1::ActionRequest::decode(m.payload.clone()).unwrap();
            herald_proto::json::opt_struct_to_json(r.params.as_ref())["message"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(messages, ["down: db1", "down: db2"]);
    // Every event was acked: the work queue is empty.
    eventually("an empty EVENTS stream", || async {
        let mut events = app.stream("HERALD_EVENTS").await;
        (events.info().await.unwrap().state.messages == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn events_too_costly_or_reusing_a_key_are_dead_lettered_not_retried() {
    let app = TestApp::start().await;
    let looping = "{{#context.l}}".repeat(9) + &"{{/context.l}}".repeat(9);
    let costly = serde_json::to_vec(&json!({
        "context": {"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]},
        "actions": [{"account_id": "ops-slack", "params": {"message": looping}}],
    }))
    .unwrap();
    let keyed = |host: &str| {
        serde_json::to_vec(&json!({
            "idempotency_key": "nats-key-1",
            "context": {"host": host},
            "actions": [{"account_id": "ops-slack", "params": {"message": "{{context.host}}"}}],
        }))
        .unwrap()
    };
    publish_event(&app, costly.clone()).await;
    publish_event(&app, keyed("db1")).await;
    publish_event(&app, keyed("db2")).await;

    let dead = eventually("two dead events", || async {
        let dead = dead_events(&app).await;
        (dead.len() == 2).then_some(dead)
    })
    .await;
    // Events are taken several at a time, so either keyed one may win.
    let (costly_dead, key_dead): (Vec<_>, Vec<_>) =
        dead.into_iter().partition(|d| d.payload == costly);
    assert_eq!(costly_dead[0].fields, ["actions[0].params.message"]);
    assert!([keyed("db1"), keyed("db2")].contains(&key_dead[0].payload));
    assert_eq!(key_dead[0].fields, ["idempotency_key"]);
    assert_eq!(app.action_count().await, 1);
}
