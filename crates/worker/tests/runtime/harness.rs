use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_nats::jetstream;
use futures::StreamExt;
use herald_messaging::{Declared, Outgoing, Publisher};
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ActionRequest, ActionStatusRecord};
use herald_registry::auth::Tokens;
use herald_registry::secret_box::SecretBox;
use herald_test_support::NatsServer;
use herald_worker::http::Outbound;
use herald_worker::{
    Connector, Delivery, HttpRequest, Outcome, Worker, WorkerSettings, classify_status,
};
use prost::Message;

pub const ADMIN: &str = "admin-token-worker-tests-1";
pub const SERVICE: &str = "service-token-worker-tests-1";

/// A minimal real connector: POSTs `params` as JSON to the account's
/// `secrets.webhookUrl` (a `teams` account, for its simple schema), with an
/// `x-replica` header naming the worker that sent it.
pub struct PostParams(pub &'static str);

#[async_trait::async_trait]
impl Connector for PostParams {
    fn connector_type(&self) -> &'static str {
        "teams"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let url = delivery
            .account
            .secret_str("webhookUrl")
            .unwrap_or_default();
        let request =
            HttpRequest::post_json(url, &serde_json::Value::Object(delivery.params.clone()))
                .header("x-replica", self.0);
        match http.send(&delivery.account, request).await {
            Ok(response) => classify_status(&response).unwrap_or_else(Outcome::delivered),
            Err(error) => error.outcome(),
        }
    }
}

pub struct Harness {
    pub _nats_alive: NatsServer,
    pub declared: Declared,
    pub registry: herald_registry::Server,
    pub registry_settings: herald_registry::Settings,
    pub worker: Arc<Worker>,
    pub settings: WorkerSettings,
    _dir: tempfile::TempDir,
}

/// The receivers are wiremock servers on loopback, which the default
/// policy (`*`: public hosts) does not cover.
fn loopback_config() -> herald_config::HeraldConfig {
    herald_config::HeraldConfig {
        policy: herald_catalog::Policy::default().with_loopback(),
        ..herald_config::HeraldConfig::default()
    }
}

impl Harness {
    pub async fn start(adjust: impl FnOnce(&mut WorkerSettings)) -> Harness {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let registry_settings = herald_registry::Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            http_listen: None,
            database_url: format!("sqlite://{}/registry.db", dir.path().display()),
            master_key: herald_catalog::Secret::new(SecretBox::generate_key()),
            tokens: Tokens::new(ADMIN, "", SERVICE).unwrap(),
            config: loopback_config(),
            nats_url: Some(nats.url()),
            subject_prefix: "herald".into(),
            metrics_addr: None,
            tls: None,
            execute: Default::default(),
            history: Default::default(),
        };
        let registry = herald_registry::Server::start(registry_settings.clone())
            .await
            .unwrap();
        let mut settings = WorkerSettings::new("test-worker");
        settings.registry_url = registry.url();
        settings.service_token = herald_catalog::Secret::new(SERVICE);
        settings.config = loopback_config();
        settings.config.delivery.backoff.initial = Duration::from_millis(20);
        settings.config.delivery.backoff.max = Duration::from_millis(100);
        settings.ack_wait = Duration::from_secs(5);
        settings.shutdown_grace = Duration::from_secs(2);
        adjust(&mut settings);
        let client = async_nats::connect(nats.url()).await.unwrap();
        let worker = Arc::new(
            Worker::new(
                settings.clone(),
                client.clone(),
                vec![Arc::new(PostParams("a"))],
                &herald_metrics::Metrics::default(),
            )
            .await
            .unwrap(),
        );
        let declared = herald_messaging::declare(client.clone(), &settings.messaging)
            .await
            .unwrap();
        Harness {
            _nats_alive: nats,
            declared,
            registry,
            registry_settings,
            worker,
            settings,
            _dir: dir,
        }
    }

    pub async fn put_account(&self, id: &str, webhook: &str) {
        let mut client =
            v1::account_registry_client::AccountRegistryClient::connect(self.registry.url())
                .await
                .unwrap();
        let secrets = serde_json::json!({ "webhookUrl": webhook });
        let mut request = tonic::Request::new(v1::PutAccountRequest {
            account: Some(v1::Account {
                id: id.into(),
                connector_type: "teams".into(),
                name: id.into(),
                secrets: secrets.as_object().map(json_to_struct),
                ..Default::default()
            }),
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {ADMIN}").parse().unwrap());
        client.put_account(request).await.unwrap();
    }

    /// Publishes an action as ingest would.
    pub async fn submit(&self, action_id: &str, account_id: &str, message: &str) {
        let request = ActionRequest {
            action_id: action_id.into(),
            account_id: account_id.into(),
            connector_type: "teams".into(),
            params: serde_json::json!({ "message": message })
                .as_object()
                .map(json_to_struct),
            accepted_at: Some(SystemTime::now().into()),
            ..Default::default()
        };
        self.publish_raw(request.encode_to_vec()).await;
    }

    pub async fn publish_raw(&self, payload: Vec<u8>) {
        self.publish_raw_as(&format!("raw-{}", rand_id()), payload)
            .await;
    }

    /// Publishes `payload` with `msg_id` as its Nats-Msg-Id (ingest uses the
    /// action id).
    pub async fn publish_raw_as(&self, msg_id: &str, payload: Vec<u8>) {
        let id = msg_id.to_owned();
        Publisher::new(self.declared.jetstream.clone())
            .publish(
                Outgoing {
                    subject: "herald.action.teams".into(),
                    msg_id: id,
                    payload: payload.into(),
                },
                None,
            )
            .await
            .unwrap();
    }

    /// The next message of the teams consumer, as the run loop would fetch it.
    pub async fn fetch(&self) -> jetstream::Message {
        fetch(&self.declared, self.settings.ack_wait).await
    }

    pub async fn status(&self, action_id: &str) -> Option<ActionStatusRecord> {
        let bytes = self.declared.status.get(action_id).await.unwrap()?;
        Some(ActionStatusRecord::decode(bytes).unwrap())
    }

    /// Every message stored on `subject` so far, decoded.
    pub async fn stored<T: Message + Default>(&self, subject: &str) -> Vec<T> {
        let stream_name = if subject.contains(".dead.") {
            "HERALD_DEAD"
        } else {
            "HERALD_RESULTS"
        };
        let js = &self.declared.jetstream;
        let stream = js.get_stream(stream_name).await.unwrap();
        let consumer: jetstream::consumer::PullConsumer = stream
            .create_consumer(jetstream::consumer::pull::Config {
                filter_subject: subject.into(),
                ack_policy: jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await
            .unwrap();
        let pending = consumer.cached_info().num_pending as usize;
        if pending == 0 {
            return Vec::new();
        }
        let messages: Vec<_> = consumer
            .fetch()
            .max_messages(pending)
            .messages()
            .await
            .unwrap()
            .take(pending)
            .collect()
            .await;
        messages
            .into_iter()
            .map(|m| T::decode(m.unwrap().payload.clone()).unwrap())
            .collect()
    }
}

/// The next message of the teams consumer (created as the run loop
/// creates it), waiting up to 10 s for one.
/// The registry started again on the address it had (`settings.listen`).
/// The port was free while it was down, so another test's outgoing
/// connection may hold it for a moment (tests run in parallel on one
/// machine): binding is tried again until the port is free.
pub async fn restart_registry(settings: herald_registry::Settings) -> herald_registry::Server {
    let addr = settings.listen;
    for _ in 0..50 {
        match herald_registry::Server::start(settings.clone()).await {
            Ok(server) => return server,
            Err(error) => {
                eprintln!("the registry's port {addr} is taken ({error}); trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("the registry cannot listen on {addr} again");
}

pub async fn fetch(declared: &Declared, ack_wait: Duration) -> jetstream::Message {
    let consumer: jetstream::consumer::PullConsumer = declared
        .actions
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("teams-worker".into()),
            filter_subject: "herald.action.teams".into(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait,
            max_deliver: -1,
            max_ack_pending: 20_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_secs(10))
        .messages()
        .await
        .unwrap();
    batch.next().await.expect("a message within 10 s").unwrap()
}

fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
