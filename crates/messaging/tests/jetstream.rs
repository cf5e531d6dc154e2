//! Declarations and publishing against a real nats-server 2.9.

use std::time::Duration;

use herald_messaging::{Outgoing, Publisher, Settings, declare, headers};
use herald_test_support::NatsServer;

#[tokio::test]
async fn declaring_twice_applies_changed_settings() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let settings = Settings::default();
    declare(client.clone(), &settings).await.unwrap();
    let mut declared = declare(client.clone(), &settings).await.unwrap();
    assert_eq!(
        declared
            .actions
            .info()
            .await
            .unwrap()
            .config
            .duplicate_window,
        Duration::from_secs(600)
    );

    let changed = Settings {
        duplicate_window: Duration::from_secs(120),
        status_ttl: Duration::from_secs(3600),
        ..Settings::default()
    };
    let declared2 = declare(client, &changed).await.unwrap();
    let mut actions = declared2.actions.clone();
    let info = actions.info().await.unwrap();
    assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
    assert_eq!(
        info.config.retention,
        async_nats::jetstream::stream::RetentionPolicy::WorkQueue
    );
    let status = declared2.status.status().await.unwrap();
    assert_eq!(status.max_age(), Duration::from_secs(3600));
    let _ = declared.dead.info().await.unwrap();
}

#[tokio::test]
async fn publishes_are_deduplicated_by_message_id_and_carry_traceparent() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let declared = declare(client, &Settings::default()).await.unwrap();
    let publisher = Publisher::new(declared.jetstream.clone());
    let message = || Outgoing {
        subject: "herald.action.slack".into(),
        msg_id: "action-1".into(),
        payload: "x".into(),
    };
    let first = publisher.publish(message(), None).await.unwrap();
    let second = publisher.publish(message(), None).await.unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    let acks = publisher
        .publish_all(
            (2..5)
                .map(|i| Outgoing {
                    subject: "herald.action.teams".into(),
                    msg_id: format!("action-{i}"),
                    payload: "y".into(),
                })
                .collect(),
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        )
        .await
        .unwrap();
    assert_eq!(acks.len(), 3);

    let mut actions = declared.actions.clone();
    assert_eq!(actions.info().await.unwrap().state.messages, 4);
    let stored = declared.actions.get_raw_message(2).await.unwrap();
    let headers = stored.headers;
    assert_eq!(
        headers.get(headers::NATS_MESSAGE_ID).unwrap().as_str(),
        "action-2"
    );
    assert_eq!(
        headers.get(headers::TRACEPARENT).unwrap().as_str(),
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    let first_stored = declared.actions.get_raw_message(1).await.unwrap();
    assert!(
        first_stored
            .headers
            .get(headers::TRACEPARENT)
            .unwrap()
            .as_str()
            .starts_with("00-")
    );
}

#[tokio::test]
async fn every_stream_is_bounded_and_a_full_actions_stream_refuses_new_actions() {
    use async_nats::jetstream::stream::DiscardPolicy;
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut settings = Settings::default();
    settings.max_bytes.actions = 4096;
    let declared = declare(client.clone(), &settings).await.unwrap();
    let js = &declared.jetstream;
    let defaults = herald_messaging::MaxBytes::default();
    for (name, max_bytes, discard) in [
        ("ACTIONS", 4096, DiscardPolicy::New),
        ("EVENTS", defaults.events, DiscardPolicy::New),
        ("RESULTS", defaults.results, DiscardPolicy::Old),
        ("DEAD", defaults.dead, DiscardPolicy::New),
        ("KV_herald_status", defaults.status, DiscardPolicy::Old),
        (
            "KV_herald_idempotency",
            defaults.idempotency,
            DiscardPolicy::Old,
        ),
    ] {
        let name = if name.starts_with("KV_") {
            name.to_owned()
        } else {
            settings.subjects.stream(name)
        };
        let config = js
            .get_stream(&name)
            .await
            .unwrap()
            .info()
            .await
            .unwrap()
            .config
            .clone();
        assert_eq!(
            (config.max_bytes, config.discard),
            (max_bytes, discard),
            "{name}"
        );
    }

    // Accepted actions stay; the one that does not fit is refused.
    let publisher = Publisher::new(js.clone());
    let mut accepted = 0;
    let refused = loop {
        let message = Outgoing {
            subject: settings.subjects.action("teams"),
            msg_id: format!("action-{accepted}"),
            payload: vec![b'x'; 500].into(),
        };
        match publisher.publish(message, None).await {
            Ok(_) => accepted += 1,
            Err(error) => break error,
        }
        assert!(accepted < 100, "a 4 KiB stream took 50 KB");
    };
    assert!(accepted > 0, "{refused}");
    let mut actions = declared.actions.clone();
    assert_eq!(actions.info().await.unwrap().state.messages, accepted);
    assert!(declared.actions.get_raw_message(1).await.is_ok());
}

#[tokio::test]
async fn a_full_status_bucket_drops_its_oldest_records_and_keeps_taking_writes() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut settings = Settings::default();
    settings.max_bytes.status = 4096;
    let declared = declare(client, &settings).await.unwrap();
    // Far more than 4 KiB: every write must still be taken (ingest writes a
    // `queued` record for each event it accepts).
    for i in 0..100 {
        declared
            .status
            .put(format!("action-{i}"), vec![b'x'; 200].into())
            .await
            .unwrap_or_else(|e| panic!("write {i} refused: {e}"));
    }
    assert!(declared.status.get("action-99").await.unwrap().is_some());
    assert!(
        declared.status.get("action-0").await.unwrap().is_none(),
        "the oldest record is the one evicted"
    );
}
