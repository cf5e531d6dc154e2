use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_proto::v1::{ActionResult, ActionState, DeadLetter, ErrorKind};
use herald_worker::{Disposition, Worker};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;

#[tokio::test]
async fn a_delivered_action_is_acked_recorded_and_sent_once() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(body_json(
            serde_json::json!({"message": "disk full on db-1"}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "disk full on db-1").await;

    assert_eq!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Delivered
    );
    let status = h.status("a1").await.unwrap();
    assert_eq!(
        (status.state, status.attempts),
        (ActionState::Delivered as i32, 1)
    );
    let results: Vec<ActionResult> = h.stored("herald.result.teams").await;
    assert_eq!(results.len(), 1);
    assert_eq!(
        (results[0].state, results[0].attempt),
        (ActionState::Delivered as i32, 1)
    );
    let mut actions = h.declared.actions.clone();
    assert_eq!(
        actions.info().await.unwrap().state.messages,
        0,
        "acked actions leave the work queue"
    );
}

#[tokio::test]
async fn two_503s_then_200_is_delivered_on_the_third_attempt() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;

    let mut dispositions = Vec::new();
    for _ in 0..3 {
        dispositions.push(h.worker.process_one(h.fetch().await).await);
    }
    assert!(matches!(dispositions[0], Disposition::Retry(d) if d <= Duration::from_millis(20)));
    assert!(matches!(dispositions[1], Disposition::Retry(d) if d <= Duration::from_millis(40)));
    assert_eq!(dispositions[2], Disposition::Delivered);
    assert_eq!(vendor.received_requests().await.unwrap().len(), 3);
    let status = h.status("a1").await.unwrap();
    assert_eq!(
        (status.state, status.attempts),
        (ActionState::Delivered as i32, 3)
    );
    let results: Vec<ActionResult> = h.stored("herald.result.teams").await;
    let states: Vec<i32> = results.iter().map(|r| r.state).collect();
    let retrying = ActionState::Retrying as i32;
    assert_eq!(states, [retrying, retrying, ActionState::Delivered as i32]);
    assert_eq!(results[0].error_kind, ErrorKind::VendorTemporary as i32);
    assert_eq!(results[0].vendor_response.as_ref().unwrap().status, 503);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;

    assert_eq!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Retry(Duration::from_secs(2))
    );
    let naked = Instant::now();
    let again = h.fetch().await;
    assert!(
        naked.elapsed() >= Duration::from_millis(1900),
        "redelivered after {:?}",
        naked.elapsed()
    );
    assert_eq!(h.worker.process_one(again).await, Disposition::Delivered);
    let results: Vec<ActionResult> = h.stored("herald.result.teams").await;
    assert_eq!(results[0].error_kind, ErrorKind::Throttled as i32);
    assert_eq!(results[0].retry_after_ms, 2000);
}

#[tokio::test]
async fn a_400_fails_at_once_with_a_dead_letter() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("{\"error\":\"bad card\"}"))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;

    let disposition = h.worker.process_one(h.fetch().await).await;
    assert!(
        matches!(&disposition, Disposition::Failed(reason) if reason.contains("400")),
        "{disposition:?}"
    );
    assert_eq!(vendor.received_requests().await.unwrap().len(), 1);
    let dead: Vec<DeadLetter> = h.stored("herald.dead.teams").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].request.as_ref().unwrap().action_id, "a1");
    assert_eq!(dead[0].error_kind, ErrorKind::VendorRejected as i32);
    assert!(dead[0].reason.contains("400"));
    assert_eq!(
        dead[0].vendor_response.as_ref().unwrap().body,
        "{\"error\":\"bad card\"}"
    );
    let status = h.status("a1").await.unwrap();
    assert_eq!(
        (status.state, status.attempts),
        (ActionState::Failed as i32, 1)
    );
    assert!(
        !dead[0].reason.contains(&vendor.uri()),
        "the webhook URL is a secret"
    );
}

#[tokio::test]
async fn the_last_attempt_fails_for_good() {
    let h = Harness::start(|s| s.config.delivery.max_attempts = 2).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;
    assert!(matches!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Retry(_)
    ));
    assert!(matches!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Failed(_)
    ));
    let dead: Vec<DeadLetter> = h.stored("herald.dead.teams").await;
    assert_eq!(dead[0].error_kind, ErrorKind::AttemptsExhausted as i32);
    assert_eq!(dead[0].attempts, 2);
}

#[tokio::test]
async fn malformed_messages_and_missing_accounts_are_dead_lettered_and_work_goes_on() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;

    h.publish_raw(b"\xff\xfe not protobuf".to_vec()).await;
    h.submit("a-missing", "nobody", "x").await;
    h.submit("a-good", "ops", "x").await;

    assert!(matches!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Failed(_)
    ));
    assert!(
        matches!(h.worker.process_one(h.fetch().await).await, Disposition::Failed(r) if r.contains("nobody"))
    );
    assert_eq!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Delivered
    );

    let dead: Vec<DeadLetter> = h.stored("herald.dead.teams").await;
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].error_kind, ErrorKind::Malformed as i32);
    assert_eq!(dead[0].raw, b"\xff\xfe not protobuf");
    assert!(dead[0].request.is_none());
    assert_eq!(dead[1].error_kind, ErrorKind::AccountMissing as i32);
}

#[tokio::test]
async fn a_registry_outage_delays_delivery_and_loses_nothing() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "x").await;

    let message = h.fetch().await;
    let Harness {
        registry,
        mut registry_settings,
        worker,
        _nats_alive,
        ..
    } = h;
    let addr = registry.addr;
    registry.stop().await.unwrap();
    let pending = tokio::spawn({
        let worker: Arc<Worker> = worker.clone();
        async move { worker.process_one(message).await }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !pending.is_finished(),
        "the action must wait for the registry, not fail"
    );
    assert_eq!(vendor.received_requests().await.unwrap().len(), 0);

    registry_settings.listen = addr;
    let _back = restart_registry(registry_settings.clone()).await;
    let disposition = tokio::time::timeout(Duration::from_secs(15), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(disposition, Disposition::Delivered);
    assert_eq!(vendor.received_requests().await.unwrap().len(), 1);
}
