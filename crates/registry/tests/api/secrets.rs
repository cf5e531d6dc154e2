//! Secrets are write-only over the API, sealed at rest, bound to their row,
//! rotatable, and absent from every log line and debug print.

use std::sync::{Arc, Mutex};

use herald_proto::v1;
use prost::Message;
use serde_json::json;
use tonic::Code;

use crate::helpers::*;

const WEBHOOK_SECRET: &str = "https://hooks.slack.com/services/T0/B0/SEKRIT-webhook-4711";
const PASSWORD: &str = "SEKRIT-smtp-password-4711";
const ROUTING_KEY: &str = "SEKRIT-routing-key-4711";

fn secret_accounts() -> Vec<v1::Account> {
    vec![
        slack("chat", WEBHOOK_SECRET),
        account(
            "mail",
            "email",
            json!({"service": "other", "from": "alerts@example.com", "host": "smtp.example.com", "port": 465, "secure": true}),
            json!({"user": "alerts", "password": PASSWORD}),
        ),
        account(
            "pager",
            "pagerduty",
            json!({}),
            json!({"routingKey": ROUTING_KEY}),
        ),
    ]
}

fn assert_no_secret(haystack: &[u8], what: &str) {
    let text = String::from_utf8_lossy(haystack);
    for secret in [WEBHOOK_SECRET, PASSWORD, ROUTING_KEY, "SEKRIT"] {
        assert!(
            !text.contains(secret),
            "{what} contains a secret ({secret})"
        );
    }
}

#[tokio::test]
async fn responses_never_carry_secrets() {
    let mut r = TestRegistry::start().await;
    for a in secret_accounts() {
        let saved = r.client.put_account(put(a)).await.unwrap().into_inner();
        assert_no_secret(&saved.encode_to_vec(), "PutAccount response");
        let got = r
            .client
            .get_account(authed(
                ADMIN,
                v1::GetAccountRequest {
                    id: saved.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_no_secret(&got.encode_to_vec(), "GetAccount response");
        assert!(!got.secret_fields.is_empty());
    }
    let list = r
        .client
        .list_accounts(authed(PRODUCER, v1::ListAccountsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.accounts.len(), 3);
    assert_no_secret(&list.encode_to_vec(), "ListAccounts response");
    // Invalid documents do not echo secrets back in the error either.
    let bad = account(
        "pager2",
        "pagerduty",
        json!({"apiUrl": ROUTING_KEY}),
        json!({"routingKey": 42, "extra": PASSWORD}),
    );
    let status = r.client.put_account(put(bad)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_no_secret(status.message().as_bytes(), "error message");
}

#[tokio::test]
async fn database_holds_no_secret_in_clear() {
    let mut r = TestRegistry::start().await;
    for a in secret_accounts() {
        r.client.put_account(put(a)).await.unwrap();
    }
    // Every byte on disk: the database, its WAL and shared-memory files.
    for entry in std::fs::read_dir(r.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        assert_no_secret(&std::fs::read(&path).unwrap(), &path.display().to_string());
    }
    // And every stored row, through SQL.
    let store = herald_registry::store::AccountStore::connect(&r.settings.database_url)
        .await
        .unwrap();
    let rows = store.list(None, "", "", 100).await.unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        assert_no_secret(format!("{row:?}").as_bytes(), "stored row");
        assert_no_secret(&row.secrets.bytes, "ciphertext");
        assert!(!row.secret_fields.is_empty());
    }
}

#[tokio::test]
async fn ciphertext_moved_to_another_row_does_not_decrypt() {
    let mut r = TestRegistry::start().await;
    r.client
        .put_account(put(slack("victim", WEBHOOK_SECRET)))
        .await
        .unwrap();
    r.client
        .put_account(put(slack(
            "attacker",
            "https://hooks.slack.com/services/attacker",
        )))
        .await
        .unwrap();
    let store = herald_registry::store::AccountStore::connect(&r.settings.database_url)
        .await
        .unwrap();
    let victim = store.get("victim").await.unwrap().unwrap();
    let mut attacker = store.get("attacker").await.unwrap().unwrap();
    attacker.secrets = victim.secrets.clone();
    let version = attacker.version;
    attacker.version += 1;
    assert!(store.update(&attacker, version).await.unwrap());

    let status = r
        .client
        .resolve_account(authed(
            SERVICE,
            v1::ResolveAccountRequest {
                id: "attacker".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_no_secret(status.message().as_bytes(), "error");
    // The victim itself still resolves.
    r.client
        .resolve_account(authed(
            SERVICE,
            v1::ResolveAccountRequest {
                id: "victim".into(),
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn keys_rotate_without_losing_secrets() {
    let mut r = TestRegistry::start().await;
    for a in secret_accounts() {
        r.client.put_account(put(a)).await.unwrap();
    }
    let old = r.settings.master_key.expose().to_owned();
    let new = herald_registry::secret_box::SecretBox::generate_key();
    let both = format!("{new},{old}");
    let mut r = r
        .restart(|s| s.master_key = herald_catalog::Secret::new(both))
        .await;
    // Old ciphertexts still open under the old key.
    let resolved = r
        .client
        .resolve_account(authed(
            SERVICE,
            v1::ResolveAccountRequest { id: "pager".into() },
        ))
        .await
        .unwrap();
    assert!(resolved.into_inner().secrets.is_some());

    let registry = herald_registry::open_registry(&r.settings).await.unwrap();
    assert_eq!(registry.rotate_keys().await.unwrap(), 3);
    assert_eq!(registry.rotate_keys().await.unwrap(), 0);

    let mut r = r
        .restart(|s| s.master_key = herald_catalog::Secret::new(new))
        .await;
    for id in ["chat", "mail", "pager"] {
        let a = r
            .client
            .resolve_account(authed(SERVICE, v1::ResolveAccountRequest { id: id.into() }))
            .await
            .unwrap()
            .into_inner();
        assert!(!herald_proto::json::struct_to_json(a.secrets.as_ref().unwrap()).is_empty());
    }
}

/// A writer that keeps every log line in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_and_debug_prints_hold_no_secret() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    // Global, so the server's tasks and sqlx's threads are captured too;
    // nextest runs each test in its own process.
    tracing::subscriber::set_global_default(subscriber)
        .expect("no other subscriber in this test process");

    let mut r = TestRegistry::start().await;
    for a in secret_accounts() {
        r.client.put_account(put(a)).await.unwrap();
    }
    for id in ["chat", "mail", "pager"] {
        r.client
            .resolve_account(authed(SERVICE, v1::ResolveAccountRequest { id: id.into() }))
            .await
            .unwrap();
    }
    let bad = account(
        "mail",
        "email",
        json!({"from": PASSWORD}),
        json!({"password": PASSWORD}),
    );
    r.client.put_account(put(bad)).await.unwrap_err();

    let registry = herald_registry::open_registry(&r.settings).await.unwrap();
    let resolved = registry.resolve("mail").await.unwrap();
    assert_no_secret(format!("{resolved:?}").as_bytes(), "ResolvedAccount debug");
    assert_no_secret(format!("{:?}", r.settings).as_bytes(), "Settings debug");
    assert!(!format!("{:?}", r.settings).contains(r.settings.master_key.expose()));

    let logs = captured.0.lock().unwrap().clone();
    assert!(!logs.is_empty(), "the registry logged nothing at TRACE");
    assert_no_secret(&logs, "log output");
    assert!(!String::from_utf8_lossy(&logs).contains(r.settings.master_key.expose()));
}
