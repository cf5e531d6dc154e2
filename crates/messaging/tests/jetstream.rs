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
