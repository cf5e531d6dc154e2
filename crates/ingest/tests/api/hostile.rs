//! Events built to hurt: templates that loop, events that render far larger
//! than they are, actions over NATS's max payload, params nested past what
//! protobuf decodes, e-mail with nobody to send to. Each is refused with
//! the field named, and a refused event publishes nothing. And a flood
//! that fills the actions stream is answered 503, never by dropping what
//! was accepted.

use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_test_support::NatsServer;
use prost::Message;
use serde_json::{Map, Value, json};
use tonic::Code;

use crate::helpers::*;

/// `{{#context.l}}` nested nine deep with an empty body, over ten items: a
/// billion passes, no output.
fn looping_template() -> String {
    "{{#context.l}}".repeat(9) + &"{{/context.l}}".repeat(9)
}

fn ten_items() -> Value {
    json!({"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]})
}

async fn error_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_looping_template_is_refused_naming_the_field() {
    let app = TestApp::start().await;
    let event = json!({
        "context": ten_items(),
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "fine"}},
            {"account_id": "ops-slack", "params": {"message": looping_template()}},
        ],
    });
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &event).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "actions[1].params.message");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("steps"),
        "{body}"
    );
    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("actions[1].params.message"),
        "{}",
        status.message()
    );
    assert_eq!(app.action_count().await, 0);
}

#[tokio::test]
async fn the_rendered_size_of_the_whole_event_is_bounded() {
    let app = TestApp::start_with(|s| s.limits.max_rendered_bytes = 64 * 1024).await;
    // Each action renders to 40 KB (4,000 × 10 bytes) from a template of 30
    // bytes: either alone fits, the two together do not.
    let items: Vec<u32> = (0..4000).collect();
    let template = "{{#context.l}}0123456789{{/context.l}}";
    let event = json!({
        "context": {"l": items},
        "actions": [
            {"account_id": "ops-slack", "params": {"message": template}},
            {"account_id": "ops-slack", "params": {"message": template}},
        ],
    });
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &event).await).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["field"], "actions[1].params.message");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 65536 bytes"),
        "{body}"
    );
    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(app.action_count().await, 0);

    // One of them alone is accepted.
    let one = json!({"context": event["context"], "actions": [event["actions"][0]]});
    let response = app.post_event(Some(PRODUCER), &one).await;
    assert_eq!(response.status(), 202);
    assert_eq!(app.action_count().await, 1);
}

#[tokio::test]
async fn an_action_over_the_max_payload_is_refused_and_nothing_is_published() {
    let nats = NatsServer::start_with_config("max_payload: 32768");
    let app = TestApp::start_on(nats, |_| {}).await;
    // 10 × 4,000 = 40 KB rendered: under every ingest limit, over what one
    // NATS message may hold here.
    let event = json!({
        "context": {"text": "x".repeat(4000), "l": (0..10).collect::<Vec<u32>>()},
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "small"}},
            {"account_id": "ops-slack", "params": {"message": "{{#context.l}}{{context.text}}{{/context.l}}"}},
        ],
    });
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &event).await).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["field"], "actions[1]");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_payload"),
        "{body}"
    );
    let status = app.submit(PRODUCER, request(&event)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // Not even the small one went out, nor the event's queued record.
    assert_eq!(app.action_count().await, 0);
    let mut status_bucket = app.stream("KV_herald_status").await;
    assert_eq!(status_bucket.info().await.unwrap().state.messages, 0);
}

/// Params holding objects nested `levels` deep, counting params itself.
fn nested(levels: usize) -> Map<String, Value> {
    let mut value = json!("bottom");
    for _ in 1..levels {
        value = json!({"a": value});
    }
    let mut params = Map::new();
    params.insert("message".into(), json!("deep"));
    params.insert("a".into(), value);
    params
}

#[test]
fn the_deepest_params_accepted_decode_in_a_worker_and_in_a_dead_letter() {
    let request = v1::ActionRequest {
        action_id: "e-0".into(),
        params: Some(json_to_struct(&nested(herald_ingest::submit::MAX_NESTING))),
        ..Default::default()
    };
    let decoded = v1::ActionRequest::decode(request.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, request);
    let dead = v1::DeadLetter {
        request: Some(request),
        ..Default::default()
    };
    let decoded = v1::DeadLetter::decode(dead.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, dead);
}

#[tokio::test]
async fn params_and_context_nested_too_deep_are_refused_with_the_path() {
    let app = TestApp::start().await;
    let max = herald_ingest::submit::MAX_NESTING;
    let deep = json!({"actions": [{"account_id": "ops-pd", "params": nested(max + 1)}]});
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &deep).await).await;
    assert_eq!(status, 400, "{body}");
    let field = body["error"]["field"].as_str().unwrap();
    assert_eq!(field, format!("actions[0].params{}", ".a".repeat(max)));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("nested more than {max} levels")),
        "{body}"
    );
    let mut list = json!(1);
    for _ in 0..max {
        list = json!([list]);
    }
    let lists = json!({"context": {"l": list},
        "actions": [{"account_id": "ops-slack", "params": {"message": "hi"}}]});
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &lists).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("context.l[0][0]"),
        "{body}"
    );
    assert_eq!(app.action_count().await, 0);

    // As deep as allowed is accepted, and what is published decodes.
    let details = Value::Object(nested(max - 1));
    let ok = json!({"actions": [{"account_id": "ops-pd",
        "params": {"summary": "down", "customDetails": details}}]});
    let response = app.post_event(Some(PRODUCER), &ok).await;
    assert_eq!(response.status(), 202);
    let stored = app
        .stored("HERALD_ACTIONS", "herald.action.pagerduty")
        .await;
    assert_eq!(stored.len(), 1);
    let request = v1::ActionRequest::decode(stored[0].payload.clone()).unwrap();
    let params = herald_proto::json::opt_struct_to_json(request.params.as_ref());
    assert_eq!(params["customDetails"], details);
}

#[tokio::test]
async fn an_email_without_any_recipient_is_refused_at_ingest() {
    let app = TestApp::start().await;
    let config = |default_to: Option<&str>| {
        let mut config = json!({
            "service": "other",
            "from": "Alerts <alerts@example.com>",
            "host": "smtp.example.com",
            "port": 587,
            "hasAuth": false,
        });
        if let Some(to) = default_to {
            config["defaultTo"] = json!([to]);
        }
        config
    };
    app.put_account(account("mail", "email", config(None), json!({})))
        .await;
    app.put_account(account(
        "mail-oncall",
        "email",
        config(Some("oncall@example.com")),
        json!({}),
    ))
    .await;
    let event = |account: &str, params: Value| {
        json!({"actions": [
            {"account_id": "ops-slack", "params": {"message": "hi"}},
            {"account_id": account, "params": params},
        ]})
    };
    let nobody = event("mail", json!({"subject": "down", "message": "db1 is down"}));
    let (status, body) = error_body(app.post_event(Some(PRODUCER), &nobody).await).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "actions[1].params.to");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no recipient"),
        "{body}"
    );
    let empty = event("mail", json!({"to": [], "subject": "down", "message": "x"}));
    let (status, _) = error_body(app.post_event(Some(PRODUCER), &empty).await).await;
    assert_eq!(status, 400);
    assert_eq!(app.action_count().await, 0);

    // A recipient in the params, or the account's default, will do.
    for ok in [
        event(
            "mail",
            json!({"bcc": ["audit@example.com"], "subject": "s", "message": "m"}),
        ),
        event("mail-oncall", json!({"subject": "s", "message": "m"})),
    ] {
        let response = app.post_event(Some(PRODUCER), &ok).await;
        assert_eq!(response.status(), 202, "{ok}");
    }
    assert_eq!(app.action_count().await, 4);
}

/// An account may leave out `from` (Kibana's Outlook and SES guidance lets
/// the action give it); then each action must.
#[tokio::test]
async fn an_email_without_a_sender_in_account_or_action_is_refused_at_ingest() {
    let app = TestApp::start().await;
    let config = json!({"service": "outlook365", "defaultTo": ["ops@example.com"]});
    app.put_account(account(
        "outlook",
        "email",
        config,
        json!({"user": "u@contoso.example", "password": "p"}),
    ))
    .await;
    let event = |params: Value| json!({"actions": [{"account_id": "outlook", "params": params}]});
    let (status, body) = error_body(
        app.post_event(
            Some(PRODUCER),
            &event(json!({"subject": "s", "message": "m"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "actions[0].params.from");
    assert_eq!(app.action_count().await, 0);

    let given = event(json!({"from": "alerts@contoso.example", "subject": "s", "message": "m"}));
    let response = app.post_event(Some(PRODUCER), &given).await;
    assert_eq!(response.status(), 202);
    assert_eq!(app.action_count().await, 1);
}

/// Kibana's alert history connector: an action without params writes one
/// document in the alert history shape, built from the event's values
/// (which are not templates: the `{{` in the message stays text).
#[tokio::test]
async fn an_action_without_params_to_an_alert_history_index_gets_the_alert_history_document() {
    let app = TestApp::start().await;
    app.put_account(account(
        "history",
        "index",
        json!({"index": "kibana-alert-history-default", "url": "https://es.example.com"}),
        json!({}),
    ))
    .await;
    let event = json!({
        "context": {"message": "db1 is down {{secret}}", "reason": "cpu over 90%",
                    "actionGroup": "threshold met", "alertId": "db1",
                    "rule": {"id": "r1", "name": "CPU", "type": "metrics.threshold", "tags": ["prod"],
                             "owner": "left out"}},
        "actions": [{"account_id": "history", "params": {}}],
    });
    let response = app.post_event(Some(PRODUCER), &event).await;
    assert_eq!(response.status(), 202);
    let stored = app.stored("HERALD_ACTIONS", "herald.action.index").await;
    let request = v1::ActionRequest::decode(stored[0].payload.clone()).unwrap();
    let params = herald_proto::json::opt_struct_to_json(request.params.as_ref());
    let document = &params["documents"][0];
    assert!(
        document["@timestamp"].as_str().unwrap().ends_with('Z'),
        "{document}"
    );
    assert_eq!(document["message"], "db1 is down {{secret}}");
    assert_eq!(document["event"], json!({"kind": "alert"}));
    assert_eq!(
        document["kibana"]["alert"],
        json!({"actionGroup": "threshold met", "reason": "cpu over 90%", "id": "db1"})
    );
    assert_eq!(
        document["rule"],
        json!({"id": "r1", "name": "CPU", "type": "metrics.threshold"})
    );
    assert_eq!(document["tags"], json!(["prod"]));
    assert_eq!(document["context"]["rule"]["owner"], "left out");
}

#[tokio::test]
async fn a_full_actions_stream_answers_unavailable_and_keeps_what_it_accepted() {
    let app = TestApp::start_with(|s| s.messaging.max_bytes.actions = 16 * 1024).await;
    let event =
        json!({"actions": [{"account_id": "ops-slack", "params": {"message": "x".repeat(1000)}}]});
    let mut accepted = 0;
    let (status, body) = loop {
        let (status, body) = error_body(app.post_event(Some(PRODUCER), &event).await).await;
        if status != 202 {
            break (status, body);
        }
        accepted += 1;
        assert!(accepted < 100, "a 16 KiB stream took 100 KB");
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(accepted > 0);
    // Nothing accepted was dropped to make room.
    assert_eq!(app.action_count().await, accepted);
}
