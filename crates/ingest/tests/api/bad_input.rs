//! Input no well-behaved producer sends: bytes that are not protobuf, action
//! ids of a megabyte or with line breaks. Each is bad input
//! (`INVALID_ARGUMENT` / `400` naming the field) or an unknown id, quoted
//! short and escaped.

use herald_proto::v1;
use herald_test_support::grpc::unary_raw;
use prost::Message;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn undecodable_protobuf_is_invalid_argument() {
    let app = TestApp::start().await;
    let channel = tonic::transport::Channel::from_shared(app.ingest.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let valid = request(&json!({
        "actions": [{"account_id": "ops-slack", "params": {"message": "disk full"}}]
    }))
    .encode_to_vec();
    let mut truncated = valid.clone();
    truncated.truncate(valid.len() - 3);
    // An action's params nested past prost's recursion limit of 100.
    let mut deep = json!("x");
    for _ in 0..60 {
        deep = json!({ "k": deep });
    }
    let too_deep = request(&json!({
        "actions": [{"account_id": "ops-slack", "params": {"message": "x", "deep": deep}}]
    }))
    .encode_to_vec();
    for (what, path, bytes) in [
        ("garbage", "/herald.v1.Ingest/Submit", vec![0xff; 16]),
        ("truncated", "/herald.v1.Ingest/Submit", truncated),
        ("too deep", "/herald.v1.Ingest/Submit", too_deep),
        // action_id (field 1) as a varint instead of a string.
        (
            "wrong wire type",
            "/herald.v1.Ingest/GetActionStatus",
            vec![0x08, 0x01],
        ),
    ] {
        let status = unary_raw(channel.clone(), path, PRODUCER, bytes)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
        assert!(
            status
                .message()
                .starts_with("failed to decode Protobuf message"),
            "{what}: {}",
            status.message()
        );
    }
    assert_eq!(app.action_count().await, 0, "nothing was published");
    // The same path with the valid encoding is served.
    let answer = unary_raw(channel, "/herald.v1.Ingest/Submit", PRODUCER, valid)
        .await
        .unwrap();
    let response = v1::SubmitResponse::decode(&answer[..]).unwrap();
    assert_eq!(response.actions.len(), 1);
}

#[tokio::test]
async fn huge_action_ids_are_refused_and_unknown_ones_quoted_short() {
    let app = TestApp::start().await;
    let status = app
        .grpc
        .clone()
        .get_action_status(authed(
            PRODUCER,
            v1::GetActionStatusRequest {
                action_id: "a".repeat(32 * 1024),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "action_id: must be at most 64 characters");

    let response = app.get_status(Some(PRODUCER), &"a".repeat(4096)).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        json!({
            "code": "invalid_argument",
            "message": "action_id: must be at most 64 characters",
            "field": "action_id",
        })
    );

    // Short enough to be an id but not one: unknown, its line break escaped.
    let response = app.get_status(Some(PRODUCER), "no%0D%0Asuch").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "action no\\r\\nsuch is not known (unknown id, or its status has expired)"
    );
}

/// Found by `fuzz_grpc_submit_request`: a params key of a few kilobytes came
/// back in the field path, twice, and the status header grew past what a
/// gRPC client takes (the call failed with `INTERNAL: h2 protocol error`).
#[tokio::test]
async fn long_and_many_unknown_keys_are_quoted_short() {
    let app = TestApp::start().await;
    let long_key = format!("{{{{#context.tags}}}}{}", "x".repeat(20 * 1024));
    let many: serde_json::Map<String, Value> = (0..1000)
        .map(|i| (format!("unknown-{i:04}"), json!(i)))
        .collect();
    for params in [
        json!({"message": "hi", long_key.as_str(): 1}),
        Value::Object(many),
    ] {
        let event = json!({"actions": [{"account_id": "ops-slack", "params": params}]});
        let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().len() < 2048,
            "{} bytes",
            status.message().len()
        );
        let response = app.post_event(Some(PRODUCER), &event).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["field"].as_str().unwrap().len() < 128,
            "{body}"
        );
        assert!(body["error"]["message"].as_str().unwrap().len() < 2048);
    }
    let event = json!({"actions": [{"account_id": "ops-slack", "params": {"message": "hi", long_key.as_str(): 1}}]});
    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(
        status.message(),
        format!(
            "actions[0].params.{{{{#context.tags}}}}{}…: unknown field",
            "x".repeat(47)
        )
    );
    assert_eq!(app.action_count().await, 0);
}

#[tokio::test]
async fn serde_messages_quote_keys_and_strings_short() {
    let app = TestApp::start().await;
    let long = format!("\r\n{}", "y".repeat(30 * 1024));
    let cut = format!("\\r\\n{}…", "y".repeat(62));
    for (event, field) in [
        (json!({ long.as_str(): 1 }), cut.clone()),
        (json!({ "context": long }), "context".to_owned()),
        (
            json!({ "actions": [{ "account_id": "ops-slack", long.as_str(): {} }] }),
            // The whole path is quoted short, its prefix included.
            format!("actions[0].\\r\\n{}…", "y".repeat(51)),
        ),
    ] {
        let response = app.post_event(Some(PRODUCER), &event).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.len() < 512, "{} bytes", message.len());
        assert!(
            message.ends_with('…') && !message.contains('\r'),
            "{message}"
        );
        assert_eq!(body["error"]["field"], field);
    }
}
