//! Herald in one process: the registry (SQLite in `dir`), ingest, one
//! worker serving the e-mail, chat and incident connectors and one serving
//! the model calls (with the AI worker's own slots and timeouts), joined by
//! the NATS server at `nats_url`. The parts are the
//! same libraries the binaries run; only the process boundary is gone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use herald_config::HeraldConfig;
use herald_metrics::Metrics;
use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_tls::{ClientTls, ServerTls};
use herald_worker::{Worker, WorkerSettings};
use rand::Rng;
use tokio::sync::watch;

/// Why the stack, or one of its parts, did not start, stop or answer.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("role tokens")]
    Tokens(#[from] herald_proto::auth::TokenError),
    #[error("registry")]
    Registry(#[from] herald_registry::StartError),
    #[error("ingest")]
    Ingest(#[from] herald_ingest::ServeError),
    #[error("worker's NATS connection")]
    Nats(#[from] async_nats::ConnectError),
    #[error("worker")]
    Worker(#[from] herald_worker::WorkerError),
    #[error("worker settings")]
    WorkerSettings(#[from] herald_worker::SettingsError),
    #[error("worker did not stop within {0:?}")]
    WorkerStuck(Duration),
    #[error("worker task")]
    WorkerTask(#[from] tokio::task::JoinError),
    #[error("registry client")]
    Client(#[from] herald_tls::TlsError),
    #[error("registry connection")]
    Connect(#[from] tonic::transport::Error),
    /// The status's message names the field; it never holds a secret.
    #[error("registry refused the call: {:?}: {}", .0.code(), .0.message())]
    Refused(#[from] tonic::Status),
}

pub struct StackOptions {
    pub nats_url: String,
    /// Where the registry keeps its SQLite database.
    pub dir: PathBuf,
    pub config: HeraldConfig,
    /// Applied to the main worker's settings before it starts (not the AI
    /// worker's, which keeps `herald-ai-worker`'s defaults).
    pub worker: Box<dyn FnOnce(&mut WorkerSettings) + Send>,
    /// False when the worker runs elsewhere (a separate process).
    pub run_worker: bool,
    /// The registry's delivery history (on by default).
    pub history: bool,
    /// `HERALD_MASTER_KEY`'s form; a fresh key when `None`.
    pub master_key: Option<String>,
    /// Fresh random tokens when `None`.
    pub tokens: Option<RoleTokens>,
    /// Listen addresses; port 0 (the default) lets the system pick.
    pub registry_addr: SocketAddr,
    /// The registry's REST listener.
    pub registry_http_addr: SocketAddr,
    pub ingest_grpc_addr: SocketAddr,
    pub ingest_http_addr: SocketAddr,
    /// TLS on the registry's and ingest's listeners; plain TCP when `None`.
    pub tls: Option<ServerTls>,
    /// What ingest, the worker and [`Stack::put_account`] trust and present
    /// when they call the registry over TLS.
    pub client_tls: ClientTls,
}

/// One bearer token per role.
#[derive(Clone)]
pub struct RoleTokens {
    pub admin: String,
    pub producer: String,
    pub service: String,
}

impl RoleTokens {
    /// Fresh random tokens (`admin-<32 hex>`, ...).
    pub fn generate() -> RoleTokens {
        RoleTokens {
            admin: token("admin"),
            producer: token("producer"),
            service: token("service"),
        }
    }
}

/// Every connector the stack's main worker delivers: all but the model
/// calls, which its AI worker runs as `herald-ai-worker` would.
pub fn connectors() -> Vec<Arc<dyn herald_worker::Connector>> {
    let ai: Vec<&str> = herald_connectors::catalog()
        .all()
        .iter()
        .filter(|spec| spec.worker == herald_catalog::WorkerBinary::Ai)
        .map(|spec| spec.id)
        .collect();
    herald_connectors::all_connectors()
        .into_iter()
        .filter(|c| !ai.contains(&c.connector_type()))
        .collect()
}

fn ai_connectors() -> Vec<Arc<dyn herald_worker::Connector>> {
    herald_connectors::connectors(herald_catalog::WorkerBinary::Ai)
}

impl StackOptions {
    pub fn new(nats_url: impl Into<String>, dir: impl Into<PathBuf>) -> StackOptions {
        StackOptions {
            nats_url: nats_url.into(),
            dir: dir.into(),
            config: HeraldConfig::default(),
            worker: Box::new(|_| {}),
            run_worker: true,
            history: true,
            master_key: None,
            tokens: None,
            registry_addr: ANY_PORT,
            registry_http_addr: ANY_PORT,
            ingest_grpc_addr: ANY_PORT,
            ingest_http_addr: ANY_PORT,
            tls: None,
            client_tls: ClientTls::default(),
        }
    }
}

pub struct Stack {
    /// Every part's metrics, served on ingest's HTTP listener (`/metrics`).
    pub metrics: Metrics,
    /// `None` while stopped by [`Stack::stop_registry`].
    registry: Option<herald_registry::Server>,
    registry_settings: herald_registry::Settings,
    registry_url: String,
    registry_http_url: String,
    client_tls: ClientTls,
    pub ingest: herald_ingest::Server,
    pub admin_token: String,
    pub producer_token: String,
    pub service_token: String,
    /// The main worker's settings, to start more replicas (or a process) alike.
    pub worker_settings: WorkerSettings,
    stop_worker: watch::Sender<bool>,
    /// The main worker and the AI worker, while they run here.
    workers: Vec<tokio::task::JoinHandle<Result<(), herald_worker::WorkerError>>>,
}

const ANY_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

fn token(role: &str) -> String {
    let n: u128 = rand::rng().random();
    format!("{role}-{n:032x}")
}

impl Stack {
    pub async fn start(options: StackOptions) -> Result<Stack, StackError> {
        let RoleTokens {
            admin,
            producer,
            service,
        } = options.tokens.unwrap_or_else(RoleTokens::generate);
        let mut registry_settings = herald_registry::Settings {
            listen: options.registry_addr,
            http_listen: Some(options.registry_http_addr),
            database_url: format!("sqlite://{}/registry.db", options.dir.display()),
            master_key: herald_catalog::Secret::new(
                options
                    .master_key
                    .unwrap_or_else(herald_registry::secret_box::SecretBox::generate_key),
            ),
            tokens: herald_registry::auth::Tokens::new(&admin, &producer, &service)?,
            config: options.config.clone(),
            nats_url: Some(options.nats_url.clone()),
            subject_prefix: "herald".into(),
            metrics_addr: None,
            tls: options.tls.clone(),
            // Ingest's address is known once it has started, below.
            execute: herald_registry::execute::ExecuteSettings {
                tls: options.client_tls.clone(),
                ..Default::default()
            },
            history: herald_registry::history::HistorySettings {
                enabled: options.history,
                ..Default::default()
            },
        };
        let metrics = Metrics::default();
        let registry =
            herald_registry::Server::start_with_metrics(registry_settings.clone(), &metrics)
                .await?;
        // A restarted registry comes back where ingest and workers look.
        registry_settings.listen = registry.addr;
        registry_settings.http_listen = registry.http_addr;
        let registry_http_url = registry.http_url().unwrap_or_default();
        let registry_url = registry.url();
        let ingest = herald_ingest::Server::start(
            herald_ingest::Settings {
                grpc_addr: options.ingest_grpc_addr,
                http_addr: options.ingest_http_addr,
                nats_url: options.nats_url.clone(),
                registry_url: registry_url.clone(),
                service_token: herald_catalog::Secret::new(&service),
                tokens: herald_ingest::auth::Tokens::new(&admin, &producer, &service)?,
                config: options.config.clone(),
                messaging: herald_messaging::Settings::default(),
                limits: herald_ingest::settings::Limits::default(),
                intake_concurrency: herald_ingest::settings::DEFAULT_INTAKE_CONCURRENCY,
                metrics_addr: None,
                tls: options.tls,
                registry_tls: options.client_tls.clone(),
            },
            metrics.clone(),
        )
        .await?;
        // Kibana's `_execute` on the registry submits through ingest.
        registry.point_at_ingest(&ingest.grpc_url())?;
        registry_settings.execute.ingest_url = ingest.grpc_url();

        let settings_for = |binary: &str| -> Result<WorkerSettings, StackError> {
            let mut settings = WorkerSettings::new(binary);
            settings.nats_url = options.nats_url.clone();
            settings.registry_url = registry_url.clone();
            settings.service_token = herald_catalog::Secret::new(&service);
            settings.registry_tls = options.client_tls.clone();
            settings.config = options.config.clone();
            // HERALD_CONFIG's outbound settings, as a worker process applies them.
            settings.outbound = herald_worker::settings::outbound_settings(
                &settings.config,
                settings.outbound.clone(),
            )?;
            Ok(settings)
        };
        let mut worker_settings = settings_for("herald-chat-worker")?;
        (options.worker)(&mut worker_settings);
        let ai_settings = settings_for("herald-ai-worker")?;
        let (stop_worker, stopped) = watch::channel(false);
        let mut workers = Vec::new();
        if options.run_worker {
            let nats = async_nats::connect(&options.nats_url).await?;
            for (settings, connectors) in [
                (worker_settings.clone(), connectors()),
                (ai_settings, ai_connectors()),
            ] {
                let worker =
                    Arc::new(Worker::new(settings, nats.clone(), connectors, &metrics).await?);
                let mut stopped = stopped.clone();
                workers.push(tokio::spawn(worker.run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })));
            }
        }
        Ok(Stack {
            metrics,
            registry: Some(registry),
            registry_settings,
            registry_url,
            registry_http_url,
            client_tls: options.client_tls,
            ingest,
            admin_token: admin,
            producer_token: producer,
            service_token: service,
            worker_settings,
            stop_worker,
            workers,
        })
    }

    /// Registers (or replaces) an account with the admin token.
    pub async fn put_account(
        &self,
        id: &str,
        connector_type: &str,
        config: serde_json::Value,
        secrets: serde_json::Value,
    ) -> Result<(), StackError> {
        let channel = self
            .client_tls
            .endpoint("registry URL", &self.registry_url)?
            .connect()
            .await?;
        let mut client = v1::account_registry_client::AccountRegistryClient::new(channel);
        let mut request = tonic::Request::new(v1::PutAccountRequest {
            account: Some(v1::Account {
                id: id.into(),
                connector_type: connector_type.into(),
                name: id.into(),
                config: config.as_object().map(json_to_struct),
                secrets: secrets.as_object().map(json_to_struct),
                ..Default::default()
            }),
        });
        let bearer = format!("Bearer {}", self.admin_token)
            .parse()
            .expect("a generated or configured token is header-safe");
        request.metadata_mut().insert("authorization", bearer);
        client.put_account(request).await?;
        Ok(())
    }

    pub fn registry_url(&self) -> &str {
        &self.registry_url
    }

    /// The registry's REST listener (`http://` or `https://`).
    pub fn registry_http_url(&self) -> &str {
        &self.registry_http_url
    }

    /// Stops the registry, as an outage would.
    pub async fn stop_registry(&mut self) -> Result<(), StackError> {
        if let Some(registry) = self.registry.take() {
            registry.stop().await?;
        }
        Ok(())
    }

    /// Starts the registry again, on the same address and database.
    pub async fn start_registry(&mut self) -> Result<(), StackError> {
        if self.registry.is_none() {
            self.registry = Some(
                herald_registry::Server::start_with_metrics(
                    self.registry_settings.clone(),
                    &self.metrics,
                )
                .await?,
            );
        }
        Ok(())
    }

    /// Stops the workers (finishing in-flight deliveries), ingest and the registry.
    pub async fn stop(self) -> Result<(), StackError> {
        let _ = self.stop_worker.send(true);
        // The AI worker's own drain is the longer one.
        const GRACE: Duration = Duration::from_secs(150);
        for worker in self.workers {
            tokio::time::timeout(GRACE, worker)
                .await
                .map_err(|_| StackError::WorkerStuck(GRACE))???;
        }
        self.ingest.stop().await?;
        if let Some(registry) = self.registry {
            registry.stop().await?;
        }
        Ok(())
    }
}
