//! An event over HERALD_INGEST_MAX_EVENT_BYTES is refused (413 over HTTP,
//! INVALID_ARGUMENT over gRPC) and ingest goes on serving.

use serde_json::json;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn oversized_events_are_refused_and_ingest_keeps_serving() {
    let app = TestApp::start().await;
    let big = "x".repeat(MAX_EVENT_BYTES + 1);
    let event = json!({
        "context": {"blob": big},
        "actions": [{"account_id": "ops-slack", "params": {"message": "hi"}}],
    });

    let response = app.post_event(Some(PRODUCER), &event).await;
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_argument");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("limit of {MAX_EVENT_BYTES} bytes"))
    );

    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains(&format!("limit of {MAX_EVENT_BYTES} bytes")),
        "{}",
        status.message()
    );

    let small = json!({"actions": [{"account_id": "ops-slack", "params": {"message": "hi"}}]});
    assert_eq!(app.post_event(Some(PRODUCER), &small).await.status(), 202);
    app.submit(PRODUCER, request(&small)).await.unwrap();
    assert_eq!(app.action_count().await, 2);
}
