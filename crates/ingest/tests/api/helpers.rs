//! A real nats-server, a real registry in-process (SQLite in a temp dir) and
//! ingest serving gRPC and HTTP on loopback.

use std::time::Duration;

use async_nats::jetstream::{self, stream::Stream};
use herald_catalog::Secret;
use herald_config::HeraldConfig;
use herald_ingest::auth::Tokens;
use herald_ingest::settings::Limits;
use herald_ingest::{Server, Settings};
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ingest_client::IngestClient};
use herald_registry::secret_box::SecretBox;
use herald_test_support::NatsServer;
use herald_tls::ClientTls;
use serde_json::Value;
use tonic::transport::Channel;

pub const ADMIN: &str = "admin-token-ingest-tests-01";
pub const PRODUCER: &str = "producer-token-ingest-tests-01";
pub const SERVICE: &str = "service-token-ingest-tests-01";

/// Small, so that the size tests stay fast.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

pub struct TestApp {
    pub nats: NatsServer,
    pub registry: Option<herald_registry::Server>,
    registry_settings: herald_registry::Settings,
    pub ingest: Server,
    /// What `ingest` was started with, for a second replica.
    pub settings: Settings,
    pub js: jetstream::Context,
    pub grpc: IngestClient<Channel>,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::start_on(NatsServer::start(), adjust).await
    }

    /// On a nats-server of the test's own (e.g. with a small max_payload).
    pub async fn start_on(nats: NatsServer, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        herald_test_support::init_tracing();
        let dir = tempfile::tempdir().unwrap();
        let mut registry_settings = herald_registry::Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            http_listen: None,
            database_url: format!("sqlite://{}/registry.db", dir.path().display()),
            master_key: herald_catalog::Secret::new(SecretBox::generate_key()),
            tokens: herald_registry::auth::Tokens::new(ADMIN, PRODUCER, SERVICE).unwrap(),
            config: HeraldConfig::default(),
            nats_url: None,
            subject_prefix: "herald".into(),
            metrics_addr: None,
            tls: None,
            execute: Default::default(),
            history: Default::default(),
        };
        let registry = herald_registry::Server::start(registry_settings.clone())
            .await
            .expect("registry starts");
        // A restart comes back on the same address, where ingest looks.
        registry_settings.listen = registry.addr;

        let mut settings = Settings {
            grpc_addr: "127.0.0.1:0".parse().unwrap(),
            http_addr: "127.0.0.1:0".parse().unwrap(),
            nats_url: nats.url(),
            registry_url: registry.url(),
            service_token: Secret::new(SERVICE),
            tokens: Tokens::new(ADMIN, PRODUCER, SERVICE).unwrap(),
            config: HeraldConfig::default(),
            messaging: herald_messaging::Settings::default(),
            limits: Limits {
                max_event_bytes: MAX_EVENT_BYTES,
                ..Limits::default()
            },
            intake_concurrency: 4,
            metrics_addr: None,
            tls: None,
            registry_tls: ClientTls::default(),
        };
        adjust(&mut settings);
        let ingest = Server::start(settings.clone(), herald_metrics::Metrics::default())
            .await
            .expect("ingest starts");
        let client = async_nats::connect(nats.url()).await.unwrap();
        // Lazy: a test that turns TLS on brings its own client.
        let channel = Channel::from_shared(ingest.grpc_url())
            .unwrap()
            .connect_lazy();
        let app = TestApp {
            nats,
            registry: Some(registry),
            registry_settings,
            grpc: IngestClient::new(channel),
            ingest,
            settings,
            js: jetstream::new(client),
            http: reqwest::Client::new(),
            _dir: dir,
        };
        app.put_account(slack("ops-slack")).await;
        app.put_account(account(
            "ops-pd",
            "pagerduty",
            serde_json::json!({}),
            serde_json::json!({"routingKey": "R0UTINGKEY0123456789abcdef01234567"}),
        ))
        .await;
        app
    }

    pub async fn put_account(&self, a: v1::Account) {
        let url = self.registry.as_ref().expect("registry runs").url();
        let mut client = v1::account_registry_client::AccountRegistryClient::connect(url)
            .await
            .unwrap();
        client
            .put_account(authed(ADMIN, v1::PutAccountRequest { account: Some(a) }))
            .await
            .unwrap();
    }

    pub async fn stop_registry(&mut self) {
        if let Some(registry) = self.registry.take() {
            registry.stop().await.unwrap();
        }
    }

    /// Starts the registry again, on the same address and database.
    pub async fn restart_registry(&mut self) {
        self.stop_registry().await;
        let registry = herald_registry::Server::start(self.registry_settings.clone())
            .await
            .expect("registry restarts");
        self.registry = Some(registry);
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("{}{path}", self.ingest.http_url())
    }

    pub async fn post_event(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        self.post_raw(token, serde_json::to_vec(body).unwrap())
            .await
    }

    pub async fn post_raw(&self, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.http_url("/v1/events"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn get_status(&self, token: Option<&str>, action_id: &str) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.http_url(&format!("/v1/actions/{action_id}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn submit(
        &self,
        token: &str,
        request: v1::SubmitRequest,
    ) -> Result<v1::SubmitResponse, tonic::Status> {
        self.grpc
            .clone()
            .submit(authed(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn stream(&self, name: &str) -> Stream {
        self.js.get_stream(name).await.unwrap()
    }

    /// Every message stored on `subject` in stream `name`, oldest first.
    pub async fn stored(
        &self,
        name: &str,
        subject: &str,
    ) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let mut stream = self.stream(name).await;
        let state = stream.info().await.unwrap().state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return out;
        }
        for seq in state.first_sequence..=state.last_sequence {
            if let Ok(m) = stream.get_raw_message(seq).await
                && m.subject.as_str() == subject
            {
                out.push(m);
            }
        }
        out
    }

    pub async fn action_count(&self) -> u64 {
        let mut stream = self.stream("HERALD_ACTIONS").await;
        stream.info().await.unwrap().state.messages
    }
}

/// Polls `check` every 50 ms for up to 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

pub fn slack(id: &str) -> v1::Account {
    account(
        id,
        "slack",
        serde_json::json!({}),
        serde_json::json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/secret"}),
    )
}

/// A gRPC SubmitRequest from the JSON form.
pub fn request(event: &Value) -> v1::SubmitRequest {
    let o = event.as_object().unwrap();
    v1::SubmitRequest {
        idempotency_key: o
            .get("idempotency_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .into(),
        context: o
            .get("context")
            .and_then(Value::as_object)
            .map(json_to_struct),
        actions: o
            .get("actions")
            .and_then(Value::as_array)
            .map(|actions| {
                actions
                    .iter()
                    .map(|a| v1::ActionSpec {
                        account_id: a["account_id"].as_str().unwrap_or_default().into(),
                        params: a
                            .get("params")
                            .and_then(Value::as_object)
                            .map(json_to_struct),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}
