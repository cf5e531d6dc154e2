//! One conformance suite for the account store, run on SQLite always and on
//! PostgreSQL whenever it answers (CI requires it: HERALD_TEST_REQUIRE_POSTGRES).

use herald_registry::secret_box::Sealed;
use herald_registry::store::{AccountStore, StoredAccount};
use herald_test_support::postgres_database;
use serde_json::json;
use tonic::Code;

use crate::helpers::*;

fn row(id: &str, connector_type: &str, version: i64, key_id: &str) -> StoredAccount {
    StoredAccount {
        id: id.into(),
        connector_type: connector_type.into(),
        name: format!("{id} name"),
        config: json!({"n": 1, "nested": {"list": [1, "two"]}})
            .as_object()
            .unwrap()
            .clone(),
        secret_fields: vec!["token".into()],
        secrets: Sealed {
            key_id: key_id.into(),
            bytes: vec![0, 1, 2, 255],
        },
        config_hidden: id == "a",
        version,
        created_at: 1_700_000_000_123,
        updated_at: 1_700_000_000_456,
    }
}

async fn conformance(store: AccountStore) {
    store.ping().await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), None);
    assert!(store.insert(&row("a", "slack", 1, "k1")).await.unwrap());
    assert!(
        !store.insert(&row("a", "slack", 1, "k1")).await.unwrap(),
        "an id is taken once"
    );
    assert_eq!(
        store.get("a").await.unwrap(),
        Some(row("a", "slack", 1, "k1"))
    );

    for (id, t) in [
        ("c", "teams"),
        ("b", "slack"),
        ("d", "slack"),
        ("e", "teams"),
    ] {
        assert!(store.insert(&row(id, t, 1, "k1")).await.unwrap());
    }
    let ids = |rows: Vec<StoredAccount>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list(None, "", "", 3).await.unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(
        ids(store.list(None, "c", "", 10).await.unwrap()),
        ["d", "e"]
    );
    assert_eq!(
        ids(store.list(Some("teams"), "", "", 10).await.unwrap()),
        ["c", "e"]
    );
    assert_eq!(
        ids(store.list(Some("slack"), "a", "", 10).await.unwrap()),
        ["b", "d"]
    );
    // `query` matches id or name, ASCII case-insensitive, and LIKE's
    // wildcards in it are plain characters.
    let mut named = row("Ops_Pager", "teams", 1, "k1");
    named.name = "Night 100% Shift".into();
    assert!(store.insert(&named).await.unwrap());
    assert_eq!(
        ids(store.list(None, "", "ops_", 10).await.unwrap()),
        ["Ops_Pager"]
    );
    assert_eq!(
        ids(store.list(None, "", "SHIFT", 10).await.unwrap()),
        ["Ops_Pager"]
    );
    assert_eq!(
        ids(store.list(None, "", "100%", 10).await.unwrap()),
        ["Ops_Pager"]
    );
    assert!(store.list(None, "", "0_%", 10).await.unwrap().is_empty());
    assert!(store.list(None, "", "p_p", 10).await.unwrap().is_empty());
    assert_eq!(
        ids(store.list(None, "", "D NAME", 10).await.unwrap()),
        ["d"]
    );
    assert!(
        store
            .list(Some("slack"), "", "pager", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete("Ops_Pager", 1).await.unwrap());

    let mut changed = row("a", "slack", 2, "k2");
    changed.name = "renamed".into();
    assert!(
        !store.update(&changed, 5).await.unwrap(),
        "stale version refused"
    );
    assert!(store.update(&changed, 1).await.unwrap());
    assert!(
        !store.update(&changed, 1).await.unwrap(),
        "the same version cannot win twice"
    );
    let got = store.get("a").await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.version, got.secrets.key_id.as_str()),
        ("renamed", 2, "k2")
    );
    assert_eq!(got.created_at, 1_700_000_000_123);

    assert_eq!(
        ids(store.sealed_by_other_keys("k1", 10).await.unwrap()),
        ["a"]
    );
    let fresh = Sealed {
        key_id: "k1".into(),
        bytes: vec![9; 40],
    };
    assert!(
        !store.reseal("a", 1, &got.secrets, &fresh).await.unwrap(),
        "reseal checks the version"
    );
    assert!(store.reseal("a", 2, &got.secrets, &fresh).await.unwrap());
    assert!(
        store
            .sealed_by_other_keys("k1", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get("a").await.unwrap().unwrap().secrets, fresh);

    assert!(!store.delete("a", 1).await.unwrap(), "stale delete refused");
    assert!(store.delete("a", 2).await.unwrap());
    assert!(!store.delete("a", 2).await.unwrap());
    assert_eq!(store.get("a").await.unwrap(), None);
    store.close().await;
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    // The directory does not exist yet: the store creates it, as on first start.
    let url = format!(
        "sqlite://{}/nested/herald-data/registry.db",
        dir.path().display()
    );
    conformance(AccountStore::connect(&url).await.unwrap()).await;
    // Reopening runs the migrations again without harm.
    AccountStore::connect(&url)
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
    conformance(AccountStore::connect("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store_conforms() {
    let Some(db) = postgres_database().await else {
        eprintln!("PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)");
        return;
    };
    conformance(AccountStore::connect(db.url()).await.unwrap()).await;
    AccountStore::connect(db.url())
        .await
        .unwrap()
        .ping()
        .await
        .unwrap();
}

/// The whole gRPC surface on PostgreSQL, not just the store.
#[tokio::test]
async fn registry_on_postgres() {
    let Some(db) = postgres_database().await else {
        eprintln!("PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)");
        return;
    };
    let url = db.url().to_owned();
    let mut r = TestRegistry::start_with(|s| s.database_url = url).await;
    r.client
        .put_account(put(slack(
            "pg-slack",
            "https://hooks.slack.com/services/pg",
        )))
        .await
        .unwrap();
    let mut again = slack("pg-slack", "https://hooks.slack.com/services/pg2");
    again.version = 1;
    r.client.put_account(put(again.clone())).await.unwrap();
    assert_eq!(
        r.client.put_account(put(again)).await.unwrap_err().code(),
        Code::Aborted
    );
    let resolved = r
        .client
        .resolve_account(authed(
            SERVICE,
            herald_proto::v1::ResolveAccountRequest {
                id: "pg-slack".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.version, 2);
    assert_eq!(
        herald_proto::json::struct_to_json(resolved.secrets.as_ref().unwrap())["webhookUrl"],
        "https://hooks.slack.com/services/pg2"
    );
    r.server.stop().await.unwrap();
}
