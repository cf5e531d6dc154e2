//! Lookups against a real registry and a real nats-server.

use std::time::{Duration, Instant};

use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_registry::auth::Tokens;
use herald_registry::secret_box::SecretBox;
use herald_registry::{Server, Settings};
use herald_registry_client::{Lookup, LookupError, RegistryClient};
use herald_test_support::NatsServer;
use herald_tls::ClientTls;

const ADMIN: &str = "admin-token-client-tests-1";
const SERVICE: &str = "service-token-client-tests-1";

async fn registry(dir: &std::path::Path, nats_url: Option<String>) -> Server {
    Server::start(Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        http_listen: None,
        database_url: format!("sqlite://{}/registry.db", dir.display()),
        master_key: herald_catalog::Secret::new(SecretBox::generate_key()),
        tokens: Tokens::new(ADMIN, "", SERVICE).unwrap(),
        config: herald_config::HeraldConfig::default(),
        nats_url,
        subject_prefix: "herald".into(),
        metrics_addr: None,
        tls: None,
        execute: Default::default(),
        history: Default::default(),
    })
    .await
    .unwrap()
}

async fn put_slack(url: &str, id: &str, hook: &str, version: i64) {
    let mut client = v1::account_registry_client::AccountRegistryClient::connect(url.to_owned())
        .await
        .unwrap();
    let secrets = serde_json::json!({"webhookUrl": hook});
    let mut request = tonic::Request::new(v1::PutAccountRequest {
        account: Some(v1::Account {
            id: id.into(),
            connector_type: "slack".into(),
            name: id.into(),
            secrets: secrets.as_object().map(json_to_struct),
            version,
            ..Default::default()
        }),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {ADMIN}").parse().unwrap());
    client.put_account(request).await.unwrap();
}

#[tokio::test]
async fn resolves_with_and_without_secrets_and_reports_missing_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let server = registry(dir.path(), None).await;
    put_slack(
        &server.url(),
        "ops",
        "https://hooks.slack.com/services/1",
        0,
    )
    .await;

    let workers = RegistryClient::new(
        &server.url(),
        SERVICE,
        Lookup::WithSecrets,
        &ClientTls::default(),
    )
    .unwrap();
    let account = workers.account("ops").await.unwrap();
    assert_eq!(
        (account.connector_type.as_str(), account.version),
        ("slack", 1)
    );
    assert_eq!(
        account.secret_str("webhookUrl"),
        Some("https://hooks.slack.com/services/1")
    );
    assert!(!format!("{account:?}").contains("hooks.slack.com"));

    let ingest = RegistryClient::new(
        &server.url(),
        SERVICE,
        Lookup::WithoutSecrets,
        &ClientTls::default(),
    )
    .unwrap();
    assert!(ingest.account("ops").await.unwrap().secrets.is_empty());
    assert!(matches!(
        ingest.account("nope").await,
        Err(LookupError::NotFound(_))
    ));

    let wrong = RegistryClient::new(
        &server.url(),
        "not-the-service-token-x",
        Lookup::WithSecrets,
        &ClientTls::default(),
    )
    .unwrap();
    assert!(matches!(
        wrong.account("ops").await,
        Err(LookupError::Refused(_))
    ));
}

#[tokio::test]
async fn an_unreachable_registry_is_unavailable_not_missing() {
    let port = herald_test_support::free_port();
    let client = RegistryClient::new(
        &format!("http://127.0.0.1:{port}"),
        SERVICE,
        Lookup::WithSecrets,
        &ClientTls::default(),
    )
    .unwrap();
    assert!(matches!(
        client.account("ops").await,
        Err(LookupError::Unavailable(_))
    ));
}

#[tokio::test]
async fn cached_accounts_are_dropped_when_announced_changed() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = registry(dir.path(), Some(nats.url())).await;
    put_slack(
        &server.url(),
        "ops",
        "https://hooks.slack.com/services/1",
        0,
    )
    .await;

    let client = RegistryClient::new(
        &server.url(),
        SERVICE,
        Lookup::WithSecrets,
        &ClientTls::default(),
    )
    .unwrap()
    .with_ttl(Duration::from_secs(3600));
    let nats_client = async_nats::connect(nats.url()).await.unwrap();
    client
        .drop_changed(&nats_client, "herald.account.changed".into())
        .await
        .unwrap();
    nats_client.flush().await.unwrap();
    assert_eq!(client.account("ops").await.unwrap().version, 1);

    put_slack(
        &server.url(),
        "ops",
        "https://hooks.slack.com/services/2",
        1,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let account = client.account("ops").await.unwrap();
        if account.version == 2 {
            assert_eq!(
                account.secret_str("webhookUrl"),
                Some("https://hooks.slack.com/services/2")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cached version 1 was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn put_route(url: &str, name: &str, version: i64) {
    let mut routes = v1::route_registry_client::RouteRegistryClient::connect(url.to_owned())
        .await
        .unwrap();
    let route = v1::Route {
        id: "team".into(),
        name: name.into(),
        version,
        actions: vec![v1::RouteAction {
            account_id: "ops".into(),
            params: serde_json::json!({"message": "{{alert.summary}}"})
                .as_object()
                .map(json_to_struct),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut request = tonic::Request::new(v1::PutRouteRequest { route: Some(route) });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {ADMIN}").parse().unwrap());
    routes.put_route(request).await.unwrap();
}

#[tokio::test]
async fn cached_routes_are_dropped_when_announced_changed() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = registry(dir.path(), Some(nats.url())).await;
    put_slack(
        &server.url(),
        "ops",
        "https://hooks.slack.com/services/1",
        0,
    )
    .await;
    put_route(&server.url(), "Team", 0).await;

    let client = RegistryClient::new(
        &server.url(),
        SERVICE,
        Lookup::WithoutSecrets,
        &ClientTls::default(),
    )
    .unwrap()
    .with_ttl(Duration::from_secs(3600));
    let missing = client.route("nobody").await.unwrap_err();
    assert!(matches!(missing, LookupError::NotFound(_)), "{missing:?}");
    assert_eq!(missing.to_string(), "route nobody does not exist");
    let nats_client = async_nats::connect(nats.url()).await.unwrap();
    client
        .drop_changed_routes(&nats_client, "herald.route.changed".into())
        .await
        .unwrap();
    nats_client.flush().await.unwrap();
    let first = client.route("team").await.unwrap();
    assert_eq!((first.version, first.name.as_str()), (1, "Team"));
    // Served from the cache: the same value, no second call.
    assert!(std::sync::Arc::ptr_eq(
        &first,
        &client.route("team").await.unwrap()
    ));

    put_route(&server.url(), "Team, renamed", 1).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let route = client.route("team").await.unwrap();
        if route.version == 2 {
            assert_eq!(route.name, "Team, renamed");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cached version 1 was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
