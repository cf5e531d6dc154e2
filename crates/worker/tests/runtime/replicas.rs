use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_proto::v1::ActionState;
use herald_worker::Worker;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::harness::*;

/// Two workers bound to one durable consumer split the work, and each
/// action is delivered exactly once; both stop cleanly on shutdown.
#[tokio::test]
async fn two_replicas_share_one_consumer() {
    let h = Harness::start(|s| s.concurrency = 8).await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(5)))
        .mount(&vendor)
        .await;
    h.put_account("ops", &format!("{}/hook", vendor.uri()))
        .await;
    const N: usize = 200;
    for i in 0..N {
        h.submit(&format!("a{i:03}"), "ops", &format!("alert {i:03}"))
            .await;
    }

    let second_nats = async_nats::connect(h._nats_alive.url()).await.unwrap();
    let replica = Arc::new(
        Worker::new(
            h.settings.clone(),
            second_nats,
            vec![Arc::new(PostParams("b"))],
            &herald_metrics::Metrics::default(),
        )
        .await
        .unwrap(),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let run = |w: Arc<Worker>| {
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            w.run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
        })
    };
    let (a, b) = (run(h.worker.clone()), run(replica));

    let deadline = Instant::now() + Duration::from_secs(30);
    while vendor.received_requests().await.unwrap().len() < N {
        assert!(
            Instant::now() < deadline,
            "only {} of {N} delivered",
            vendor.received_requests().await.unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();

    let requests = vendor.received_requests().await.unwrap();
    let mut bodies: Vec<String> = requests
        .iter()
        .map(|r: &Request| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(
        (requests.len(), bodies.len()),
        (N, N),
        "each action exactly once"
    );
    let by = |name: &str| {
        requests
            .iter()
            .filter(|r| r.headers.get("x-replica").is_some_and(|v| v == name))
            .count()
    };
    assert!(
        by("a") > 0 && by("b") > 0,
        "replica a sent {}, replica b {}",
        by("a"),
        by("b")
    );
    for i in [0, N / 2, N - 1] {
        assert_eq!(
            h.status(&format!("a{i:03}")).await.unwrap().state,
            ActionState::Delivered as i32
        );
    }
    let info = h
        .declared
        .actions
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>("teams-worker")
        .await;
    let mut consumer = info.unwrap();
    let info = consumer.info().await.unwrap();
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(info.num_pending, 0);
}
