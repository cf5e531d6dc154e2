//! Waiting without holding the worker: a rate-limit turn or a busy account
//! sends the message back to JetStream, and that is not an attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_config::RateLimit;
use herald_proto::v1::{ActionState, DeadLetter, ErrorKind};
use herald_worker::Disposition;
use herald_worker::admission::Deferral;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::*;

#[tokio::test]
async fn a_rate_limit_deferral_is_not_an_attempt() {
    let h = Harness::start(|s| {
        s.config.delivery.max_attempts = 2;
        s.config.delivery.rate_limits.insert(
            "teams".into(),
            RateLimit {
                per_second: 1.0,
                burst: 1,
            },
        );
    })
    .await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(serde_json::json!({"message": "first"})))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    h.submit("a1", "ops", "first").await;
    h.submit("a2", "ops", "second").await;

    // a1 spends the burst; a2's turn is a second later, so it goes back to
    // JetStream for that long rather than waiting in the worker.
    assert_eq!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Delivered
    );
    let deferred = h.worker.process_one(h.fetch().await).await;
    let Disposition::Deferred { after, why } = deferred else {
        panic!("{deferred:?}");
    };
    assert_eq!(why, Deferral::RateLimit);
    assert!(after > Duration::from_millis(900) && after <= Duration::from_secs(1));
    assert!(h.status("a2").await.is_none(), "a deferral records nothing");
    assert_eq!(vendor.received_requests().await.unwrap().len(), 1);

    // Its second delivery is its first attempt: with max_attempts 2, a 503
    // is retried, not the end.
    let sent_back = Instant::now();
    let again = h.fetch().await;
    assert!(sent_back.elapsed() >= Duration::from_millis(800));
    assert!(matches!(
        h.worker.process_one(again).await,
        Disposition::Retry(_)
    ));
    let status = h.status("a2").await.unwrap();
    assert_eq!(
        (status.state, status.attempts),
        (ActionState::Retrying as i32, 1)
    );
    // The retry comes back before its next turn: deferred again, then the
    // second attempt is the last.
    let mut dispositions = Vec::new();
    loop {
        let disposition = h.worker.process_one(h.fetch().await).await;
        let done = !matches!(disposition, Disposition::Deferred { .. });
        dispositions.push(disposition);
        if done {
            break;
        }
    }
    assert!(
        matches!(
            dispositions[..],
            [
                Disposition::Deferred {
                    why: Deferral::RateLimit,
                    ..
                },
                Disposition::Failed(_)
            ]
        ),
        "{dispositions:?}"
    );
    let dead: Vec<DeadLetter> = h.stored("herald.dead.teams").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    assert_eq!(dead[0].error_kind, ErrorKind::AttemptsExhausted as i32);
    assert_eq!(vendor.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_account_at_its_cap_is_deferred_while_other_accounts_go_on() {
    let h = Harness::start(|s| s.config.delivery.max_in_flight_per_account = Some(1)).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .and(path("/fast"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&vendor)
        .await;
    h.put_account("slow", &format!("{}/slow", vendor.uri()))
        .await;
    h.put_account("fast", &format!("{}/fast", vendor.uri()))
        .await;
    h.submit("s1", "slow", "x").await;
    h.submit("f1", "fast", "x").await;
    h.submit("s2", "slow", "x").await;

    let first = h.fetch().await;
    let worker = h.worker.clone();
    let in_flight = tokio::spawn(async move { worker.process_one(first).await });
    // Wait until s1 is at the vendor, holding its account's one slot.
    while vendor.received_requests().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.worker.process_one(h.fetch().await).await,
        Disposition::Delivered,
        "another account is not held up"
    );
    let deferred = h.worker.process_one(h.fetch().await).await;
    assert!(
        matches!(
            deferred,
            Disposition::Deferred { why: Deferral::AccountBusy, after }
                if after <= Duration::from_millis(250)
        ),
        "{deferred:?}"
    );
    assert!(!in_flight.is_finished());
    assert!(h.status("s2").await.is_none(), "a deferral records nothing");
    assert_eq!(in_flight.await.unwrap(), Disposition::Delivered);

    let worker: Arc<_> = h.worker.clone();
    let mut dispositions = Vec::new();
    loop {
        let disposition = worker.process_one(h.fetch().await).await;
        let done = !matches!(disposition, Disposition::Deferred { .. });
        dispositions.push(disposition);
        if done {
            break;
        }
    }
    assert_eq!(dispositions.last(), Some(&Disposition::Delivered));
    let status = h.status("s2").await.unwrap();
    assert_eq!(
        (status.state, status.attempts),
        (ActionState::Delivered as i32, 1),
        "deferrals are not attempts"
    );
}
