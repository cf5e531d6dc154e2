use std::time::Duration;

use herald_config::HeraldConfig;
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, account_registry_client::AccountRegistryClient};
use herald_registry::auth::Tokens;
use herald_registry::secret_box::SecretBox;
use herald_registry::{Server, Settings};
use serde_json::Value;
use tonic::transport::Channel;

pub const ADMIN: &str = "admin-token-for-tests-0001";
pub const PRODUCER: &str = "producer-token-for-tests-0001";
pub const SERVICE: &str = "service-token-for-tests-0001";

pub struct TestRegistry {
    pub server: Server,
    pub settings: Settings,
    pub client: AccountRegistryClient<Channel>,
    /// Keeps the SQLite file alive for the test.
    pub dir: tempfile::TempDir,
}

pub fn settings_in(dir: &std::path::Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        http_listen: None,
        database_url: format!("sqlite://{}/registry.db", dir.display()),
        master_key: herald_catalog::Secret::new(SecretBox::generate_key()),
        tokens: Tokens::new(ADMIN, PRODUCER, SERVICE).unwrap(),
        config: HeraldConfig::default(),
        nats_url: None,
        subject_prefix: "herald".into(),
        metrics_addr: None,
        tls: None,
        execute: Default::default(),
        history: Default::default(),
    }
}

impl TestRegistry {
    pub async fn start() -> TestRegistry {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings_in(dir.path());
        adjust(&mut settings);
        Self::start_settings(settings, dir).await
    }

    pub async fn start_settings(settings: Settings, dir: tempfile::TempDir) -> TestRegistry {
        let server = Server::start(settings.clone())
            .await
            .expect("registry starts");
        let client = connect(&server.url()).await;
        TestRegistry {
            server,
            settings,
            client,
            dir,
        }
    }

    /// Stops the server and starts it again on the same database, with `adjust` applied.
    pub async fn restart(self, adjust: impl FnOnce(&mut Settings)) -> TestRegistry {
        let TestRegistry {
            server,
            mut settings,
            dir,
            ..
        } = self;
        server.stop().await.unwrap();
        adjust(&mut settings);
        Self::start_settings(settings, dir).await
    }
}

pub async fn connect(url: &str) -> AccountRegistryClient<Channel> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    AccountRegistryClient::new(channel)
}

/// A request carrying `authorization: Bearer <token>`.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

pub fn account(id: &str, connector_type: &str, config: Value, secrets: Value) -> v1::Account {
    v1::Account {
        id: id.into(),
        connector_type: connector_type.into(),
        name: format!("{id} account"),
        config: config.as_object().map(json_to_struct),
        secrets: secrets.as_object().map(json_to_struct),
        ..Default::default()
    }
}

pub fn put(a: v1::Account) -> tonic::Request<v1::PutAccountRequest> {
    authed(ADMIN, v1::PutAccountRequest { account: Some(a) })
}

pub fn slack(id: &str, webhook: &str) -> v1::Account {
    account(
        id,
        "slack",
        serde_json::json!({}),
        serde_json::json!({"webhookUrl": webhook}),
    )
}
