//! `herald.account.changed` after each change, with id and version only; and
//! a registry that keeps working when NATS is away.

use std::time::{Duration, Instant};

use futures::StreamExt;
use herald_proto::v1::{self, AccountChanged};
use herald_test_support::NatsServer;
use prost::Message;

use crate::helpers::*;

#[tokio::test]
async fn every_change_is_announced_without_secrets() {
    let nats = NatsServer::start();
    let url = nats.url();
    let watcher = async_nats::connect(&url).await.unwrap();
    let mut changes = watcher.subscribe("herald.account.changed").await.unwrap();
    watcher.flush().await.unwrap();

    let mut r = TestRegistry::start_with(|s| s.nats_url = Some(url)).await;
    let secret = "https://hooks.slack.com/services/T/B/SEKRIT-announce";
    r.client
        .put_account(put(slack("ops", secret)))
        .await
        .unwrap();
    let mut again = slack("ops", secret);
    again.version = 1;
    r.client.put_account(put(again)).await.unwrap();
    r.client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "ops".into(),
                version: 0,
            },
        ))
        .await
        .unwrap();

    let mut seen = Vec::new();
    for _ in 0..3 {
        let message = tokio::time::timeout(Duration::from_secs(5), changes.next())
            .await
            .unwrap()
            .unwrap();
        assert!(!String::from_utf8_lossy(&message.payload).contains("SEKRIT"));
        let changed = AccountChanged::decode(message.payload).unwrap();
        seen.push((
            changed.id,
            changed.version,
            changed.deleted,
            changed.connector_type,
        ));
    }
    let expected = [(1, false), (2, false), (2, true)]
        .map(|(v, d)| ("ops".to_owned(), v, d, "slack".to_owned()));
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_registry_works_while_nats_is_down() {
    let nats = NatsServer::start();
    let url = nats.url();
    nats.stop();
    let mut r = TestRegistry::start_with(|s| s.nats_url = Some(url)).await;
    let started = Instant::now();
    for i in 0..5 {
        r.client
            .put_account(put(slack(&format!("a{i}"), "https://hooks.slack.com/x")))
            .await
            .unwrap();
    }
    r.client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "a0".into(),
                version: 0,
            },
        ))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "writes waited for NATS: {:?}",
        started.elapsed()
    );

    // When NATS comes back, announcements flow again.
    nats.restart();
    let watcher = async_nats::connect(nats.url()).await.unwrap();
    let mut changes = watcher.subscribe("herald.account.changed").await.unwrap();
    watcher.flush().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 100;
    loop {
        r.client
            .put_account(put(slack(&format!("b{i}"), "https://hooks.slack.com/x")))
            .await
            .unwrap();
        if let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(500), changes.next()).await
        {
            let changed = AccountChanged::decode(message.payload).unwrap();
            assert!(changed.id.starts_with('a') || changed.id.starts_with('b'));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no announcement after NATS came back"
        );
        i += 1;
    }
}

/// Two replicas on one database: a write through one reaches reads through
/// the other well before the cache's TTL, carried by the announcement.
#[tokio::test]
async fn replicas_drop_cached_accounts_on_announcements() {
    let nats = NatsServer::start();
    let url = nats.url();
    let mut a = TestRegistry::start_with(|s| s.nats_url = Some(url.clone())).await;
    let mut b_settings = a.settings.clone();
    b_settings.listen = "127.0.0.1:0".parse().unwrap();
    let b = herald_registry::Server::start(b_settings).await.unwrap();
    let mut b_client = connect(&b.url()).await;

    a.client
        .put_account(put(slack("shared", "https://hooks.slack.com/1")))
        .await
        .unwrap();
    let get = || {
        authed(
            PRODUCER,
            v1::GetAccountRequest {
                id: "shared".into(),
            },
        )
    };
    assert_eq!(
        b_client
            .get_account(get())
            .await
            .unwrap()
            .into_inner()
            .version,
        1
    );

    let mut next = slack("shared", "https://hooks.slack.com/2");
    next.version = 1;
    a.client.put_account(put(next)).await.unwrap();
    let written = Instant::now();
    while b_client
        .get_account(get())
        .await
        .unwrap()
        .into_inner()
        .version
        != 2
    {
        assert!(
            written.elapsed() < herald_registry::cache::TTL / 2,
            "replica b still serves version 1"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.stop().await.unwrap();
}
