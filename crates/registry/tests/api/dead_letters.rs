//! `/v1/dead-letters`: listed and replayed through the registry's NATS
//! connection, as `heraldctl dead` does; a replayed letter is gone.

use herald_proto::v1;
use herald_test_support::NatsServer;
use prost::Message;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_over_rest() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let declared =
        herald_messaging::declare(client.clone(), &herald_messaging::Settings::default())
            .await
            .unwrap();
    let url = nats.url();
    let r = TestRegistry::start_with(|s| {
        s.http_listen = Some("127.0.0.1:0".parse().unwrap());
        s.nats_url = Some(url);
    })
    .await;
    let base = r.server.http_url().expect("REST listener");
    let letter = |id: &str| v1::DeadLetter {
        request: Some(v1::ActionRequest {
            action_id: id.into(),
            account_id: "ops-slack".into(),
            connector_type: "slack".into(),
            ..Default::default()
        }),
        subject: "herald.action.slack".into(),
        error_kind: v1::ErrorKind::VendorRejected as i32,
        reason: "HTTP 404 no_service".into(),
        attempts: 1,
        ..Default::default()
    };
    for id in [
        "0123456789abcdef0123456789abcdef-0",
        "0123456789abcdef0123456789abcdef-1",
    ] {
        declared
            .jetstream
            .publish("herald.dead.slack", letter(id).encode_to_vec().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(format!("{base}/v1/dead-letters?connector_type=slack"))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let letters = listed["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2, "{listed}");
    assert_eq!(letters[0]["reason"], "HTTP 404 no_service");
    assert_eq!(letters[0]["error_kind"], "ERROR_KIND_VENDOR_REJECTED");

    let replay = |token: &'static str, body: Value| {
        http.post(format!("{base}/v1/dead-letters/replay"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let id = "0123456789abcdef0123456789abcdef-0";
    assert_eq!(
        replay(PRODUCER, json!({"action_id": id}))
            .await
            .unwrap()
            .status(),
        403
    );
    let two = replay(ADMIN, json!({"action_id": id, "all": true}))
        .await
        .unwrap();
    assert_eq!(two.status(), 400);
    let unknown = replay(ADMIN, json!({"connector_type": "carrier-pigeon"}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["error"]["field"], "connector_type");

    let done: Value = replay(ADMIN, json!({"action_id": id}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done, json!({"replayed": [id], "errors": []}));
    let actions = declared
        .jetstream
        .get_stream("HERALD_ACTIONS")
        .await
        .unwrap()
        .get_last_raw_message_by_subject("herald.action.slack")
        .await
        .unwrap();
    let request = v1::ActionRequest::decode(actions.payload).unwrap();
    assert_eq!(request.action_id, id, "the action is resubmitted");
    let again = replay(ADMIN, json!({"action_id": id})).await.unwrap();
    assert_eq!(again.status(), 404, "a replayed letter is gone");
    let rest: Value = replay(ADMIN, json!({"all": true}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["replayed"].as_array().unwrap().len(), 1);
    r.server.stop().await.unwrap();
}

#[tokio::test]
async fn without_nats_dead_letters_are_unavailable() {
    let r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = r.server.http_url().expect("REST listener");
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/dead-letters"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}
