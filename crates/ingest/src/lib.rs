//! herald-ingest: takes alert events over gRPC (`herald.v1.Ingest`), HTTP
//! (`POST /v1/events`) and NATS (`herald.event`), checks each against the
//! registry (accounts), the policy and the catalog (params, after rendering
//! their templates), and publishes one action request per action on
//! `herald.action.<type>` for the workers, all or nothing.
//!
//! `main.rs` only reads the environment and calls [`run`]; tests and
//! `heraldctl up` call [`Server::start`], which binds `127.0.0.1:0` happily.

pub mod auth;
pub mod event;
pub mod grpc;
pub mod http;
pub mod intake;
pub mod lifecycle;
pub mod metrics;
pub mod settings;
pub mod submit;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use herald_messaging::MessagingError;
use herald_metrics::{ListenError, Metrics, Readiness};
use herald_registry_client::{ClientError, Lookup, RegistryClient};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use settings::{Limits, Settings};
pub use submit::{Accepted, IngestError, Ingestor, Origin};

/// Runs ingest until `shutdown` resolves (or one of its parts fails).
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tls = herald_tls::mode(settings.tls.as_ref());
    let mut server = Server::start(settings, Metrics::default()).await?;
    tracing::info!(
        grpc = %server.grpc_url(),
        http = %server.http_url(),
        tls,
        "herald-ingest serving"
    );
    tokio::select! {
        () = shutdown => {}
        failed = server.first_exit() => {
            let (name, result) = failed;
            server.stop().await.ok();
            return Err(match result {
                Ok(()) => ServeError::Stopped(name),
                Err(source) => ServeError::Part { part: name, source },
            });
        }
    }
    server.stop().await?;
    tracing::info!("herald-ingest stopped");
    Ok(())
}

type Task = (&'static str, JoinHandle<Result<(), PartError>>);

/// Why ingest cannot start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("cannot connect to NATS at {url} (HERALD_NATS_URL)")]
    Nats {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("declaring streams and buckets")]
    Declare(#[source] MessagingError),
    #[error(transparent)]
    Registry(#[from] ClientError),
    #[error("subscribing to account and route changes")]
    WatchAccounts(#[source] async_nats::SubscribeError),
    #[error("{part} failed")]
    Part {
        part: &'static str,
        #[source]
        source: PartError,
    },
    #[error("{0} stopped unexpectedly")]
    Stopped(&'static str),
}

/// Why one of ingest's servers failed.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    #[error(transparent)]
    Grpc(#[from] tonic::transport::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("it panicked or was cancelled")]
    Task(#[from] tokio::task::JoinError),
}

/// Ingest serving in background tasks: for tests and for `heraldctl up`,
/// which run it in the same process.
pub struct Server {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    tls: bool,
    ingestor: Ingestor,
    stop: watch::Sender<bool>,
    tasks: Vec<Task>,
}

impl Server {
    /// Binds the listeners, connects to NATS, declares the streams and
    /// starts serving gRPC, HTTP and the `herald.event` consumer. The
    /// registry is not needed yet: lookups answer UNAVAILABLE until it is.
    /// `/metrics` shows every family of `metrics` (under `heraldctl up`,
    /// those of the registry and the worker too).
    pub async fn start(settings: Settings, metrics: Metrics) -> Result<Server, ServeError> {
        let (grpc_listener, grpc_addr) =
            ListenError::listen(settings.grpc_addr, "HERALD_INGEST_GRPC_ADDR").await?;
        let (http_listener, http_addr) =
            ListenError::listen(settings.http_addr, "HERALD_INGEST_HTTP_ADDR").await?;
        let metrics_listener = herald_metrics::bind(settings.metrics_addr).await?;
        let nats = async_nats::ConnectOptions::new()
            .name("herald-ingest")
            .connect(settings.nats_url.as_str())
            .await
            .map_err(|source| ServeError::Nats {
                url: settings.nats_url.clone(),
                source,
            })?;
        let declared = herald_messaging::declare(nats.clone(), &settings.messaging)
            .await
            .map_err(ServeError::Declare)?;
        let registry = RegistryClient::new(
            &settings.registry_url,
            settings.service_token.expose(),
            Lookup::WithoutSecrets,
            &settings.registry_tls,
        )?
        .with_metrics(&metrics);
        registry
            .drop_changed(&nats, settings.messaging.subjects.account_changed())
            .await
            .map_err(ServeError::WatchAccounts)?;
        registry
            .drop_changed_routes(&nats, settings.messaging.subjects.route_changed())
            .await
            .map_err(ServeError::WatchAccounts)?;
        let readiness = Readiness::default().nats(nats).check("registry", {
            let registry = registry.clone();
            move || {
                let registry = registry.clone();
                async move { registry.probe().await }
            }
        });
        let ingestor = Ingestor::new(
            registry,
            settings.config.policy.clone(),
            settings.limits,
            declared,
            Arc::new(metrics::IngestMetrics::new(&metrics)),
        );

        let (stop, stopped) = watch::channel(false);
        let signal = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let mut tasks: Vec<Task> = vec![
            (
                "gRPC server",
                tokio::spawn({
                    let serve = grpc::serve(
                        grpc_listener,
                        ingestor.clone(),
                        settings.tokens.clone(),
                        settings.tls.clone(),
                        signal(stopped.clone()),
                    );
                    async move { Ok(serve.await?) }
                }),
            ),
            (
                "HTTP server",
                tokio::spawn({
                    let serve = http::serve(
                        http_listener,
                        ingestor.clone(),
                        settings.tokens.clone(),
                        herald_metrics::router(metrics.clone(), readiness.clone()),
                        settings.tls.clone(),
                        signal(stopped.clone()),
                    );
                    async move { Ok(serve.await?) }
                }),
            ),
            (
                "herald.event intake",
                tokio::spawn({
                    let intake = intake::Intake::new(ingestor.clone(), settings.intake_concurrency);
                    let stopped = signal(stopped);
                    async move {
                        intake.run(stopped).await;
                        Ok(())
                    }
                }),
            ),
        ];
        if let Some(listener) = metrics_listener {
            let serve =
                herald_metrics::serve(listener, metrics, readiness, signal(stop.subscribe()));
            tasks.push((
                "metrics server",
                tokio::spawn(async move { Ok(serve.await?) }),
            ));
        }
        Ok(Server {
            grpc_addr,
            http_addr,
            tls: settings.tls.is_some(),
            ingestor,
            stop,
            tasks,
        })
    }

    /// `https://` when serving TLS.
    pub fn grpc_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.grpc_addr)
    }

    pub fn http_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.http_addr)
    }

    fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// The submission logic the servers use, for callers in the same process.
    pub fn ingestor(&self) -> &Ingestor {
        &self.ingestor
    }

    /// Waits until one part stops; it is taken out of the server.
    async fn first_exit(&mut self) -> (&'static str, Result<(), PartError>) {
        if self.tasks.is_empty() {
            return futures::future::pending().await;
        }
        let (result, index, _) =
            futures::future::select_all(self.tasks.iter_mut().map(|(_, task)| task)).await;
        let (name, _) = self.tasks.remove(index);
        (name, result.unwrap_or_else(|e| Err(e.into())))
    }

    /// Stops taking events and requests, and waits for those in flight.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        let mut first_error = None;
        for (name, task) in self.tasks {
            if let Err(source) = task.await.map_err(PartError::from).and_then(|r| r) {
                let error = ServeError::Part { part: name, source };
                tracing::error!(error = herald_telemetry::chain(&error));
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
