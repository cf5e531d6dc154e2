//! Submitting over gRPC and HTTP: what lands on the ACTIONS stream, the
//! queued status, and all-or-nothing validation.

use herald_proto::json::opt_struct_to_json;
use herald_proto::v1;
use prost::Message;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::*;

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn slack_event() -> Value {
    json!({
        "context": {"host": "db_1 <prod>"},
        "actions": [{
            "account_id": "ops-slack",
            "params": {"message": "Disk full on {{context.host}} ({{account.name}}, {{account.type}} #{{action.index}})"},
        }],
    })
}

#[tokio::test]
async fn accepted_over_grpc_and_http_with_rendered_params_and_queued_status() {
    let app = TestApp::start().await;

    let by_grpc = app
        .submit(PRODUCER, request(&slack_event()))
        .await
        .expect("gRPC submit");
    assert_eq!(by_grpc.actions.len(), 1);
    let grpc_action = &by_grpc.actions[0];
    assert_eq!(
        (
            grpc_action.account_id.as_str(),
            grpc_action.connector_type.as_str()
        ),
        ("ops-slack", "slack")
    );
    assert_eq!(
        grpc_action.action_id.len(),
        34,
        "a random event id (32 hex digits) and the index, without a key"
    );

    let response = app
        .http
        .post(app.http_url("/v1/events"))
        .bearer_auth(ADMIN)
        .header("traceparent", TRACEPARENT)
        .json(&slack_event())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    let http_id = body["actions"][0]["action_id"].as_str().unwrap().to_owned();
    assert_eq!(body["actions"][0]["account_id"], "ops-slack");
    assert_eq!(body["actions"][0]["connector_type"], "slack");
    assert_ne!(http_id, grpc_action.action_id);

    let stored = app.stored("HERALD_ACTIONS", "herald.action.slack").await;
    assert_eq!(stored.len(), 2);
    for (message, id) in stored.iter().zip([&grpc_action.action_id, &http_id]) {
        let request = v1::ActionRequest::decode(message.payload.clone()).unwrap();
        assert_eq!(&request.action_id, id);
        assert_eq!(request.account_id, "ops-slack");
        assert_eq!(request.connector_type, "slack");
        assert_eq!(request.account_version, 1);
        assert_eq!(request.action_index, 0);
        assert_eq!(request.max_attempts, 0);
        assert!(request.accepted_at.is_some());
        let params = opt_struct_to_json(request.params.as_ref());
        // Slack escaping: entities, and backticks around a value with `_`.
        assert_eq!(
            Value::Object(params),
            json!({"message": "Disk full on `db_1 &lt;prod&gt;` (ops-slack account, slack #0)"})
        );
        let headers = message.headers.clone();
        assert_eq!(
            headers.get("Nats-Msg-Id").map(|v| v.as_str()),
            Some(id.as_str())
        );
        let traceparent = headers.get("traceparent").unwrap().as_str().to_owned();
        assert_eq!(traceparent.len(), 55, "{traceparent}");
    }
    assert_eq!(
        stored[1].headers.get("traceparent").unwrap().as_str(),
        TRACEPARENT,
        "the caller's trace continues"
    );

    let status = app
        .grpc
        .clone()
        .get_action_status(authed(
            PRODUCER,
            v1::GetActionStatusRequest {
                action_id: grpc_action.action_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.state(), v1::ActionState::Queued);
    assert_eq!(status.attempts, 0);
    assert_eq!(status.account_id, "ops-slack");
    assert_eq!(status.connector_type, "slack");
    assert!(status.accepted_at.is_some() && status.updated_at.is_some());

    let response = app.get_status(Some(PRODUCER), &http_id).await;
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["action_id"], http_id.as_str());
    assert_eq!(status["state"], "queued");
    assert_eq!(status["attempts"], 0);
    assert_eq!(status["last_error"], "");
    assert_eq!(status["account_id"], "ops-slack");
    assert_eq!(status["connector_type"], "slack");
    assert_eq!(status["handles"], json!({}));
    assert!(status["updated_at"].as_str().unwrap().ends_with('Z'));

    // An index past the event's actions is no action at all.
    let (event, _) = http_id.rsplit_once('-').unwrap();
    let response = app.get_status(Some(PRODUCER), &format!("{event}-7")).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn one_bad_action_refuses_the_whole_event_naming_every_problem() {
    let app = TestApp::start().await;
    let event = json!({
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "fine"}},
            {"account_id": "ops-slack", "params": {}},
            {"account_id": "nobody", "params": {"message": "x"}},
        ],
    });

    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "actions[1].params.message: required; actions[2].account_id: account nobody does not exist"
    );

    let response = app.post_event(Some(PRODUCER), &event).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_argument");
    assert_eq!(body["error"]["field"], "actions[1].params.message");
    assert_eq!(body["error"]["message"], status.message());

    assert_eq!(app.action_count().await, 0, "nothing published");
}

#[tokio::test]
async fn template_catalog_and_shape_errors_name_their_fields() {
    let app = TestApp::start().await;
    let refused = |event: Value| {
        let app = &app;
        async move {
            let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
            status.message().to_owned()
        }
    };

    let message = refused(json!({"actions": [
        {"account_id": "ops-slack", "params": {"message": "{{#context.items}} never closed"}},
    ]}))
    .await;
    assert!(
        message.starts_with("actions[0].params.message: section `context.items`"),
        "{message}"
    );

    assert_eq!(
        refused(json!({"actions": [
            {"account_id": "ops-pd", "params": {"eventAction": "resolve", "summary": "ok"}},
        ]}))
        .await,
        "actions[0].params.dedupKey: required when eventAction is resolve"
    );
    // The check runs on the rendered params: a template that renders empty
    // does not count as a dedup key.
    assert_eq!(
        refused(json!({"actions": [
            {"account_id": "ops-pd", "params": {"eventAction": "resolve", "dedupKey": "{{context.missing}}"}},
        ]}))
        .await,
        "actions[0].params.dedupKey: required when eventAction is resolve"
    );
    assert_eq!(
        refused(json!({"actions": []})).await,
        "actions: at least one action (or a route) is required"
    );
    assert_eq!(
        refused(json!({"actions": [{"account_id": "", "params": {"message": "x"}}]})).await,
        "actions[0].account_id: required"
    );
    let too_many: Vec<Value> = (0..101)
        .map(|_| json!({"account_id": "ops-slack", "params": {"message": "x"}}))
        .collect();
    assert_eq!(
        refused(json!({"actions": too_many})).await,
        "actions: at most 100 actions per event, got 101"
    );

    // Malformed JSON over HTTP names what is wrong.
    let response = app
        .post_raw(
            Some(PRODUCER),
            br#"{"actions":[{"account_id":"ops-slack","params":"x"}]}"#.to_vec(),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "actions[0].params");
    assert_eq!(
        body["error"]["message"],
        "actions[0].params: invalid type: string \"x\", expected a map"
    );
    let response = app
        .post_raw(Some(PRODUCER), b"{\"actions\": [".to_vec())
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON"),
        "{body}"
    );

    // With a dedup key the same pagerduty action passes.
    let ok = app
        .submit(
            PRODUCER,
            request(&json!({"context": {"id": "inc-7"}, "actions": [
                {"account_id": "ops-pd", "params": {"eventAction": "resolve", "dedupKey": "{{context.id}}"}},
            ]})),
        )
        .await
        .unwrap();
    assert_eq!(ok.actions[0].connector_type, "pagerduty");
    let stored = app
        .stored("HERALD_ACTIONS", "herald.action.pagerduty")
        .await;
    let request = v1::ActionRequest::decode(stored[0].payload.clone()).unwrap();
    assert_eq!(
        Value::Object(opt_struct_to_json(request.params.as_ref())),
        json!({"eventAction": "resolve", "dedupKey": "inc-7"})
    );
    assert_eq!(app.action_count().await, 1);
}

#[tokio::test]
async fn a_type_disabled_by_policy_is_refused() {
    let app = TestApp::start_with(|s| {
        s.config.policy.enabled_connector_types = vec!["pagerduty".into()];
    })
    .await;
    let status = app
        .submit(PRODUCER, request(&slack_event()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "actions[0].account_id: connector type slack is disabled by policy"
    );
}

#[tokio::test]
async fn unknown_action_ids_are_not_found() {
    let app = TestApp::start().await;
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
    assert_eq!(status.code(), Code::NotFound);
    let response = app.get_status(Some(PRODUCER), "no-such-action").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    // Not a key the status bucket could hold: still just unknown.
    assert_eq!(app.get_status(Some(PRODUCER), "a.b*c").await.status(), 404);
}
