//! The consume loop and dead letters against a real nats-server 2.9: every
//! message settled by its handler's disposition, no more in flight than the
//! limit, and a shutdown that drains (or, past its grace, releases) what is
//! in hand.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::Message;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use futures::StreamExt;
use herald_messaging::consume::{self, Handler, Limits, Settle, Settlement};
use herald_messaging::{DeadLetter, Declared, Publisher, Settings, declare};
use herald_test_support::NatsServer;
use tokio::sync::{oneshot, watch};

const SUBJECT: &str = "herald.action.test";

async fn setup(nats: &NatsServer) -> (Declared, PullConsumer) {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let declared = declare(client, &Settings::default()).await.unwrap();
    let consumer = declared
        .actions
        .create_consumer(pull::Config {
            durable_name: Some("test-worker".into()),
            filter_subject: SUBJECT.into(),
            ack_policy: AckPolicy::Explicit,
            // Far longer than any test: a redelivery seen here was a NAK.
            ack_wait: Duration::from_secs(60),
            max_deliver: -1,
            ..Default::default()
        })
        .await
        .unwrap();
    (declared, consumer)
}

async fn publish(declared: &Declared, payload: &str) {
    declared
        .jetstream
        .publish(SUBJECT, payload.to_owned().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

struct Verdict(Settlement);

impl Settle for Verdict {
    fn settlement(&self) -> Settlement {
        self.0
    }
}

fn delivered(message: &Message) -> i64 {
    message.info().unwrap().delivered
}

/// Acks `ack-*`, NAKs `nak` once, terminates `term`; counts how many run
/// at once.
#[derive(Default)]
struct Recorder {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    seen: Mutex<Vec<(String, i64)>>,
}

impl Handler for Recorder {
    type Disposition = Verdict;

    async fn handle(&self, message: &Message) -> Verdict {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let payload = String::from_utf8(message.payload.to_vec()).unwrap();
        let delivered = delivered(message);
        self.seen.lock().unwrap().push((payload.clone(), delivered));
        Verdict(match payload.as_str() {
            "nak" if delivered == 1 => Settlement::Nak(Duration::from_millis(100)),
            "term" => Settlement::Term,
            _ => Settlement::Ack,
        })
    }
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_message_is_settled_by_its_disposition_with_at_most_the_limit_in_flight() {
    let nats = NatsServer::start();
    let (declared, mut consumer) = setup(&nats).await;
    for i in 0..20 {
        publish(&declared, &format!("ack-{i}")).await;
    }
    publish(&declared, "nak").await;
    publish(&declared, "term").await;

    let recorder = Arc::new(Recorder::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = Limits {
        concurrency: 4,
        grace: None,
    };
    let run = tokio::spawn(consume::run(
        vec![consumer.clone()],
        recorder.clone(),
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    // 20 acked, the NAKed one twice, the terminated one.
    eventually("every message handled", || {
        recorder.seen.lock().unwrap().len() == 23
    })
    .await;
    stop.send(()).unwrap();
    run.await.unwrap();

    let most = recorder.most.load(Ordering::SeqCst);
    assert!(most <= 4, "{most} in flight with 4 permits");
    assert!(most > 1, "the permits were used: {most}");
    let seen = recorder.seen.lock().unwrap().clone();
    let nak: Vec<i64> = seen
        .iter()
        .filter(|(p, _)| p == "nak")
        .map(|(_, d)| *d)
        .collect();
    assert_eq!(nak, [1, 2], "NAKed with a delay, then delivered again");
    assert_eq!(seen.iter().filter(|(p, _)| p == "term").count(), 1);
    // Nothing left unacked or waiting: acks, NAK and TERM all reached the
    // server.
    assert_settled(&mut consumer).await;
}

/// Acks are not confirmed by the server: they are waited for.
async fn assert_settled(consumer: &mut PullConsumer) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = consumer.info().await.unwrap();
        let left = (info.num_pending, info.num_ack_pending);
        if left == (0, 0) {
            return;
        }
        assert!(Instant::now() < deadline, "left unsettled: {left:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Holds each message until abandoned, then releases it; acks a redelivery.
struct Holder {
    started: AtomicUsize,
    abandoned: watch::Sender<bool>,
    finished: AtomicBool,
}

impl Handler for Holder {
    type Disposition = Verdict;

    async fn handle(&self, message: &Message) -> Verdict {
        if delivered(message) > 1 {
            return Verdict(Settlement::Ack);
        }
        self.started.fetch_add(1, Ordering::SeqCst);
        let mut abandoned = self.abandoned.subscribe();
        let _ = abandoned.wait_for(|a| *a).await;
        self.finished.store(true, Ordering::SeqCst);
        Verdict(Settlement::Release)
    }

    fn abandon(&self) {
        self.abandoned.send_replace(true);
    }
}

#[tokio::test]
async fn past_the_grace_messages_in_hand_are_abandoned_and_released_for_redelivery_at_once() {
    let nats = NatsServer::start();
    let (declared, consumer) = setup(&nats).await;
    publish(&declared, "slow").await;
    let holder = Arc::new(Holder {
        started: AtomicUsize::new(0),
        abandoned: watch::channel(false).0,
        finished: AtomicBool::new(false),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let grace = Duration::from_millis(400);
    let run = tokio::spawn(consume::run(
        vec![consumer.clone()],
        holder.clone(),
        Limits {
            concurrency: 2,
            grace: Some(grace),
        },
        async move {
            let _ = stopped.await;
        },
    ));
    eventually("the message in hand", || {
        holder.started.load(Ordering::SeqCst) == 1
    })
    .await;
    let shutdown_at = Instant::now();
    stop.send(()).unwrap();
    run.await.unwrap();
    assert!(shutdown_at.elapsed() >= grace, "the grace was given");
    assert!(
        holder.finished.load(Ordering::SeqCst),
        "run returned only once the abandoned message had finished"
    );

    // Released, not left to its 60 s ack wait: it is delivered again now.
    let mut again = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_secs(5))
        .messages()
        .await
        .unwrap();
    let message = tokio::time::timeout(Duration::from_secs(5), again.next())
        .await
        .expect("redelivered at once")
        .unwrap()
        .unwrap();
    assert_eq!(
        (&message.payload[..], delivered(&message)),
        (&b"slow"[..], 2)
    );
}

/// Finishes each message after a second, on its own.
struct Slow {
    started: AtomicBool,
    done: AtomicBool,
}

impl Handler for Slow {
    type Disposition = Verdict;

    async fn handle(&self, _message: &Message) -> Verdict {
        self.started.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.done.store(true, Ordering::SeqCst);
        Verdict(Settlement::Ack)
    }

    fn abandon(&self) {
        panic!("no grace was set: nothing is abandoned");
    }
}

#[tokio::test]
async fn without_a_grace_shutdown_waits_for_the_message_in_hand() {
    let nats = NatsServer::start();
    let (declared, mut consumer) = setup(&nats).await;
    publish(&declared, "one").await;
    let slow = Arc::new(Slow {
        started: AtomicBool::new(false),
        done: AtomicBool::new(false),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(consume::run(
        vec![consumer.clone()],
        slow.clone(),
        Limits {
            concurrency: 1,
            grace: None,
        },
        async move {
            let _ = stopped.await;
        },
    ));
    eventually("the message in hand", || {
        slow.started.load(Ordering::SeqCst)
    })
    .await;
    stop.send(()).unwrap();
    run.await.unwrap();
    assert!(slow.done.load(Ordering::SeqCst));
    assert_settled(&mut consumer).await;
}

#[tokio::test]
async fn a_dead_letter_is_stored_once_however_often_its_message_is_redelivered() {
    let nats = NatsServer::start();
    let (declared, _) = setup(&nats).await;
    let publisher = Publisher::new(declared.jetstream.clone());
    let subjects = &declared.settings.subjects;
    for _ in 0..2 {
        let letter = DeadLetter::action(subjects, "test", "abc-0", 7, "dead".into());
        publisher
            .dead_letter(
                letter,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            )
            .await
            .unwrap();
    }
    // A replay (a new stream sequence) that fails again gets its own.
    let replayed = DeadLetter::action(subjects, "test", "abc-0", 9, "dead".into());
    publisher.dead_letter(replayed, None).await.unwrap();
    let mut dead = declared.dead.clone();
    assert_eq!(dead.info().await.unwrap().state.messages, 2);
    let first = dead.get_raw_message(1).await.unwrap();
    assert_eq!(first.subject.as_str(), "herald.dead.test");
    assert_eq!(
        first
            .headers
            .get(herald_messaging::headers::TRACEPARENT)
            .map(|v| v.as_str()),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
}
