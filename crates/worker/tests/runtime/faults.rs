//! What the runtime does when its inputs are broken: an action message that
//! cannot be decoded, a registry that fails a lookup.

use std::time::Duration;

use herald_proto::v1::{ActionResult, ActionState, ActionStatusRecord, DeadLetter, ErrorKind};
use herald_registry::secret_box::SecretBox;
use herald_worker::Disposition;
use prost::Message;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;

#[tokio::test]
async fn an_undecodable_action_fails_its_status_with_the_reason() {
    let h = Harness::start(|_| {}).await;
    // As ingest leaves it: queued, published with the action id as Nats-Msg-Id.
    let queued = ActionStatusRecord {
        action_id: "0123456789abcdef0123456789abcdef-0".into(),
        state: ActionState::Queued as i32,
        ..Default::default()
    };
    h.declared
        .status
        .put(&queued.action_id, queued.encode_to_vec().into())
        .await
        .unwrap();
    h.publish_raw_as(
        &queued.action_id,
        b"\x0a\xff\xff\xff\xff not protobuf".to_vec(),
    )
    .await;

    let disposition = h.worker.process_one(h.fetch().await).await;
    assert!(
        matches!(&disposition, Disposition::Failed(r) if r.contains("cannot be decoded")),
        "{disposition:?}"
    );
    let status = h.status(&queued.action_id).await.unwrap();
    assert_eq!(
        (status.state, status.last_error_kind, status.attempts),
        (ActionState::Failed as i32, ErrorKind::Malformed as i32, 1)
    );
    assert!(
        status.last_error.contains("cannot be decoded"),
        "{}",
        status.last_error
    );
    assert_eq!(status.connector_type, "teams");
    let dead: Vec<DeadLetter> = h.stored("herald.dead.teams").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].error_kind, ErrorKind::Malformed as i32);
    assert_eq!(dead[0].raw, b"\x0a\xff\xff\xff\xff not protobuf");
    let results: Vec<ActionResult> = h.stored("herald.result.teams").await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].action_id, queued.action_id);
    assert_eq!(results[0].state, ActionState::Failed as i32);
}

#[tokio::test]
async fn a_registry_that_cannot_open_the_secrets_fails_the_attempt_and_then_the_action() {
    let h = Harness::start(|s| s.config.delivery.max_attempts = 2).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;

    // The registry comes back with another master key: the account's
    // secrets open with no key it has, and it answers INTERNAL.
    let Harness {
        registry,
        mut registry_settings,
        worker,
        declared,
        settings,
        _nats_alive,
        ..
    } = h;
    let addr = registry.addr;
    registry.stop().await.unwrap();
    registry_settings.listen = addr;
    registry_settings.master_key = herald_catalog::Secret::new(SecretBox::generate_key());
    let _keyless = restart_registry(registry_settings).await;

    let ack_wait = settings.ack_wait;
    let first = fetch(&declared, ack_wait).await;
    let disposition = tokio::time::timeout(Duration::from_secs(10), worker.process_one(first))
        .await
        .expect("the attempt must end, not wait for ever");
    assert!(
        matches!(disposition, Disposition::Retry(_)),
        "{disposition:?}"
    );
    let status =
        ActionStatusRecord::decode(declared.status.get("a1").await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (status.state, status.last_error_kind, status.attempts),
        (ActionState::Retrying as i32, ErrorKind::Internal as i32, 1)
    );
    assert!(
        status.last_error.contains("failed to resolve account ops")
            && status.last_error.contains("Internal"),
        "{}",
        status.last_error
    );

    let disposition = tokio::time::timeout(
        Duration::from_secs(10),
        worker.process_one(fetch(&declared, ack_wait).await),
    )
    .await
    .unwrap();
    assert!(
        matches!(&disposition, Disposition::Failed(r) if r.contains("gave up after 2 attempts") && r.contains("failed to resolve account ops")),
        "{disposition:?}"
    );
    assert!(vendor.received_requests().await.unwrap().is_empty());
}
