//! The same idempotency key gives the same action ids and one delivery,
//! within JetStream's duplicate window and after it (the idempotency
//! record answers then).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

fn event(key: &str) -> Value {
    json!({
        "idempotency_key": key,
        "context": {"host": "db1"},
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "down: {{context.host}}"}},
            {"account_id": "ops-pd", "params": {"summary": "down: {{context.host}}"}},
        ],
    })
}

fn ids(response: &herald_proto::v1::SubmitResponse) -> Vec<String> {
    response
        .actions
        .iter()
        .map(|a| a.action_id.clone())
        .collect()
}

#[tokio::test]
async fn same_key_same_ids_one_message_even_after_the_duplicate_window() {
    let app = TestApp::start_with(|s| {
        s.messaging.duplicate_window = Duration::from_secs(1);
    })
    .await;

    let first = app
        .submit(PRODUCER, request(&event("evt-42")))
        .await
        .unwrap();
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 2);
    // `<event id>-<index>`, the event id derived from the key.
    let event_id = first_ids[0].strip_suffix("-0").expect("the first action");
    assert_eq!(first_ids[1], format!("{event_id}-1"));
    assert_eq!(event_id.len(), 32, "{first_ids:?}");
    assert_ne!(first_ids[0], first_ids[1]);

    let again = app
        .submit(PRODUCER, request(&event("evt-42")))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(app.action_count().await, 2);

    // Past JetStream's window only the idempotency record prevents a
    // second delivery.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = app.post_event(Some(PRODUCER), &event("evt-42")).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    let http_ids: Vec<&str> = body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_id"].as_str().unwrap())
        .collect();
    assert_eq!(http_ids, first_ids);
    assert_eq!(app.action_count().await, 2);

    // Another key, other ids.
    let other = app
        .submit(PRODUCER, request(&event("evt-43")))
        .await
        .unwrap();
    assert!(ids(&other).iter().all(|id| !first_ids.contains(id)));
    assert_eq!(app.action_count().await, 4);
}

#[tokio::test]
async fn concurrent_submissions_with_one_key_publish_once() {
    let app = TestApp::start().await;
    let (a, b) = tokio::join!(
        app.submit(PRODUCER, request(&event("evt-race"))),
        app.submit(PRODUCER, request(&event("evt-race"))),
    );
    assert_eq!(ids(&a.unwrap()), ids(&b.unwrap()));
    assert_eq!(app.action_count().await, 2);
}

#[tokio::test]
async fn a_resubmission_never_puts_a_status_back_to_queued() {
    let app = TestApp::start_with(|s| {
        s.messaging.duplicate_window = Duration::from_secs(1);
    })
    .await;
    let first = app
        .submit(PRODUCER, request(&event("evt-done")))
        .await
        .unwrap();
    let id = first.actions[0].action_id.clone();

    // A worker delivered it meanwhile.
    let declared = app.ingest.ingestor().declared().clone();
    let delivered = herald_proto::v1::ActionStatusRecord {
        action_id: id.clone(),
        account_id: "ops-slack".into(),
        connector_type: "slack".into(),
        state: herald_proto::v1::ActionState::Delivered as i32,
        attempts: 1,
        ..Default::default()
    };
    declared
        .status
        .put(&id, prost::Message::encode_to_vec(&delivered).into())
        .await
        .unwrap();
    // Lose the idempotency record, so the resubmission publishes again.
    let purge = declared
        .idempotency
        .purge(idempotency_key_of("evt-done"))
        .await;
    purge.unwrap();

    let again = app
        .submit(PRODUCER, request(&event("evt-done")))
        .await
        .unwrap();
    assert_eq!(again, first);
    let status: Value = app
        .get_status(Some(PRODUCER), &id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "delivered");
    assert_eq!(status["attempts"], 1);
}

fn idempotency_key_of(key: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_same_key_for_another_event_is_refused_naming_the_key() {
    let app = TestApp::start().await;
    let first = app
        .submit(PRODUCER, request(&event("evt-7")))
        .await
        .unwrap();

    let mut other_context = event("evt-7");
    other_context["context"]["host"] = json!("db2");
    let mut other_params = event("evt-7");
    other_params["actions"][1]["params"]["summary"] = json!("up: {{context.host}}");
    let mut other_account = event("evt-7");
    other_account["actions"][1]["account_id"] = json!("ops-slack");
    for changed in [&other_context, &other_params, &other_account] {
        let status = app.submit(PRODUCER, request(changed)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::AlreadyExists, "{changed}");
        assert!(
            status.message().starts_with("idempotency_key: "),
            "{}",
            status.message()
        );
        let response = app.post_event(Some(PRODUCER), changed).await;
        assert_eq!(response.status(), 409);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "already_exists");
        assert_eq!(body["error"]["field"], "idempotency_key");
    }
    assert_eq!(app.action_count().await, 2);

    // The same event, its keys written in another order, is the same event.
    let reordered = r#"{"actions": [
            {"params": {"message": "down: {{context.host}}"}, "account_id": "ops-slack"},
            {"params": {"summary": "down: {{context.host}}"}, "account_id": "ops-pd"}],
        "context": {"host": "db1"}, "idempotency_key": "evt-7"}"#;
    let response = app
        .post_raw(Some(PRODUCER), reordered.as_bytes().to_vec())
        .await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["actions"][1]["action_id"], first.actions[1].action_id);
    assert_eq!(app.action_count().await, 2);
}

#[tokio::test]
async fn records_written_before_the_event_hash_still_answer() {
    let app = TestApp::start().await;
    // What the previous version stored: the bare SubmitResponse.
    let old = herald_proto::v1::SubmitResponse {
        actions: vec![herald_proto::v1::SubmittedAction {
            action_id: "0123456789abcdef0123456789abcdef-0".into(),
            account_id: "ops-slack".into(),
            connector_type: "slack".into(),
            ..Default::default()
        }],
    };
    app.ingest
        .ingestor()
        .declared()
        .idempotency
        .put(
            idempotency_key_of("evt-old"),
            prost::Message::encode_to_vec(&old).into(),
        )
        .await
        .unwrap();
    let again = app
        .submit(PRODUCER, request(&event("evt-old")))
        .await
        .unwrap();
    assert_eq!(again, old);
    assert_eq!(app.action_count().await, 0);
}

#[tokio::test]
async fn of_two_events_sent_at_once_with_one_key_one_is_refused() {
    let app = TestApp::start().await;
    let mut other = event("evt-race-2");
    other["context"]["host"] = json!("db2");
    let (a, b) = tokio::join!(
        app.submit(PRODUCER, request(&event("evt-race-2"))),
        app.submit(PRODUCER, request(&other)),
    );
    let (accepted, refused) = match (a, b) {
        (Ok(accepted), Err(refused)) | (Err(refused), Ok(accepted)) => (accepted, refused),
        other => panic!("one must win and one be refused: {other:?}"),
    };
    assert_eq!(refused.code(), tonic::Code::AlreadyExists);
    assert_eq!(accepted.actions.len(), 2);
    assert_eq!(app.action_count().await, 2);
}

#[tokio::test]
async fn a_refused_event_does_not_take_its_key() {
    let app = TestApp::start().await;
    let mut invalid = event("evt-fixed");
    invalid["actions"][0]["account_id"] = json!("nobody");
    let status = app.submit(PRODUCER, request(&invalid)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    // Fixed, and sent again with the same key: accepted.
    let fixed = app.submit(PRODUCER, request(&event("evt-fixed"))).await;
    assert_eq!(fixed.unwrap().actions.len(), 2);
}
