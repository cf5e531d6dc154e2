//! herald-registry: the gRPC service that owns accounts. It is the only
//! component that stores or decrypts secrets; ingest and workers ask it
//! (`ResolveAccount`, service role) and cache briefly.
//!
//! `main.rs` only reads the environment and calls [`run`]; tests and
//! `heraldctl up` call [`Server::start`] on a listener of their own.

pub mod announce;
pub mod auth;
pub mod cache;
pub mod execute;
pub mod history;
pub mod history_service;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod route_service;
pub mod secret_box;
pub mod service;
pub mod settings;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use herald_metrics::{ListenError, Metrics, Readiness};
use herald_proto::v1::account_registry_server::AccountRegistryServer;
use herald_proto::v1::history_server::HistoryServer;
use herald_proto::v1::route_registry_server::RouteRegistryServer;
use herald_tls::ServerTls;
use tokio::net::TcpListener;

pub use registry::Registry;
pub use settings::Settings;

use crate::announce::Announcer;
use crate::auth::Tokens;
use crate::execute::Executor;
use crate::secret_box::{KeyError, SecretBox};
use crate::store::{AccountStore, StoreError, redact_url};

/// Opens the store, checks the preconfigured accounts and connects to NATS.
pub async fn open_registry(settings: &Settings) -> Result<Registry, StartError> {
    let secret_box = SecretBox::from_spec(settings.master_key.expose())?;
    let store = AccountStore::connect(&settings.database_url).await?;
    let announcer = match &settings.nats_url {
        Some(url) => Announcer::connect(url, &settings.subject_prefix).await,
        None => Announcer::disabled(),
    };
    let registry = Registry::new(
        store,
        secret_box,
        settings.config.policy.clone(),
        settings.config.preconfigured.clone(),
        Arc::new(announcer),
    )
    .map_err(StartError::Config)?
    .with_routes(settings.config.routes.clone())
    .await
    .map_err(StartError::Config)?
    .with_history(&settings.history);
    tracing::info!(
        database = %redact_url(&settings.database_url),
        backend = registry.store().backend(),
        preconfigured = settings.config.preconfigured.len(),
        routes = settings.config.routes.len(),
        "registry store ready"
    );
    Ok(registry)
}

/// Runs the registry on `settings.listen` until `shutdown` resolves.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (listener, addr) = ListenError::listen(settings.listen, "HERALD_REGISTRY_ADDR").await?;
    let metrics_listener = herald_metrics::bind(settings.metrics_addr).await?;
    let http_listener = match settings.http_listen {
        Some(addr) => Some(ListenError::listen(addr, "HERALD_REGISTRY_HTTP_ADDR").await?),
        None => None,
    };
    let registry = Arc::new(open_registry(&settings).await?);
    let executor = Arc::new(Executor::new(&settings.execute)?);
    let metrics = Metrics::default();
    tracing::info!(
        %addr,
        metrics = ?settings.metrics_addr,
        tls = herald_tls::mode(settings.tls.as_ref()),
        "herald-registry serving gRPC"
    );
    // Served until gRPC has stopped, so probes answer while calls drain.
    let metrics_server = metrics_listener.map(|listener| {
        tokio::spawn(herald_metrics::serve(
            listener,
            metrics.clone(),
            readiness(&registry),
            std::future::pending(),
        ))
    });
    // REST is served until gRPC has stopped, like the probes.
    let http_server = http_listener.map(|(listener, http_addr)| {
        tracing::info!(%http_addr, "herald-registry serving REST");
        tokio::spawn(http::serve(
            listener,
            registry.clone(),
            settings.tokens.clone(),
            executor.clone(),
            settings.tls.clone(),
            std::future::pending(),
        ))
    });
    let served = serve(
        listener,
        registry,
        settings.tokens.clone(),
        metrics,
        settings.tls,
        shutdown,
    )
    .await;
    if let Some(server) = metrics_server {
        server.abort();
    }
    if let Some(server) = http_server {
        server.abort();
    }
    served?;
    tracing::info!("herald-registry stopped");
    Ok(())
}

/// Ready while the store answers. NATS is left out on purpose: without it
/// the registry still serves (only change announcements wait), and taking
/// every replica out of service during a NATS outage would stop lookups too.
pub fn readiness(registry: &Arc<Registry>) -> Readiness {
    let registry = registry.clone();
    Readiness::default().check("store", move || {
        let registry = registry.clone();
        async move { registry.store().ping().await.map_err(|e| e.to_string()) }
    })
}

/// Serves `herald.v1.AccountRegistry`, `herald.v1.RouteRegistry` and
/// `herald.v1.History` (behind bearer-token auth), plus
/// `grpc.health.v1.Health` and server reflection, which stay open; over
/// TLS only when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    tokens: Tokens,
    metrics: Metrics,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AccountRegistryServer<service::RegistryService>>()
        .await;
    health_reporter
        .set_serving::<RouteRegistryServer<route_service::RouteRegistryService>>()
        .await;
    health_reporter
        .set_serving::<HistoryServer<history_service::HistoryService>>()
        .await;
    // v1 for current clients, v1alpha for older ones (grpcurl before 1.9,
    // Python's grpcio-reflection).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(herald_proto::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("herald.v1.AccountRegistry")
            .with_service_name("herald.v1.RouteRegistry")
            .with_service_name("herald.v1.History")
            .with_service_name("grpc.health.v1.Health")
    };
    let route_tokens = tokens.clone();
    let history_tokens = tokens.clone();
    let history = HistoryServer::with_interceptor(
        history_service::HistoryService::new(registry.clone()),
        move |request| auth::authenticate(&history_tokens, request),
    );
    let routes = RouteRegistryServer::with_interceptor(
        route_service::RouteRegistryService::new(registry.clone()),
        move |request| auth::authenticate(&route_tokens, request),
    );
    let accounts = AccountRegistryServer::with_interceptor(
        service::RegistryService::new(registry),
        move |request| auth::authenticate(&tokens, request),
    );
    let router = tonic::transport::Server::builder()
        .trace_fn(call_span)
        .layer(metrics::RequestMetricsLayer::new(&metrics))
        .add_service(health_service)
        .add_service(
            reflection()
                .build_v1()
                .expect(herald_proto::DESCRIPTORS_VALID),
        )
        .add_service(
            reflection()
                .build_v1alpha()
                .expect(herald_proto::DESCRIPTORS_VALID),
        )
        .add_service(accounts)
        .add_service(routes)
        .add_service(history);
    herald_tls::serve_grpc(router, listener, tls, shutdown).await
}

/// One span per call, continuing the caller's trace (an ingest or worker
/// lookup carries the event's); health probes get none.
fn call_span(request: &tonic::codegen::http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    if path.starts_with("/grpc.health.") {
        return tracing::Span::none();
    }
    let span = tracing::info_span!("registry call", otel.kind = "server", rpc = path);
    herald_telemetry::set_parent(&span, herald_telemetry::extract_http(request.headers()));
    span
}

/// A registry serving on `listener` in a background task: for tests and for
/// `heraldctl up`, which run it in the same process.
pub struct Server {
    pub addr: SocketAddr,
    /// The REST listener's address, when `settings.http_listen` asked for one.
    pub http_addr: Option<SocketAddr>,
    tls: bool,
    executor: Arc<Executor>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    http_stop: Option<tokio::sync::oneshot::Sender<()>>,
    http_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start(settings: Settings) -> Result<Server, StartError> {
        Server::start_with_metrics(settings, &Metrics::default()).await
    }

    /// Counts requests into `metrics` (shared with ingest and the worker
    /// under `heraldctl up`). `settings.metrics_addr` is not served here.
    pub async fn start_with_metrics(
        settings: Settings,
        metrics: &Metrics,
    ) -> Result<Server, StartError> {
        let (listener, addr) = ListenError::listen(settings.listen, "HERALD_REGISTRY_ADDR").await?;
        let http_listener = match settings.http_listen {
            Some(addr) => Some(ListenError::listen(addr, "HERALD_REGISTRY_HTTP_ADDR").await?),
            None => None,
        };
        let registry = Arc::new(open_registry(&settings).await?);
        let executor = Arc::new(Executor::new(&settings.execute)?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
        let http_addr = http_listener.as_ref().map(|(_, addr)| *addr);
        let http_task = http_listener.map(|(listener, _)| {
            tokio::spawn(http::serve(
                listener,
                registry.clone(),
                settings.tokens.clone(),
                executor.clone(),
                settings.tls.clone(),
                async {
                    let _ = http_stopped.await;
                },
            ))
        });
        let task = tokio::spawn(serve(
            listener,
            registry,
            settings.tokens.clone(),
            metrics.clone(),
            settings.tls.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        Ok(Server {
            addr,
            http_addr,
            tls: settings.tls.is_some(),
            executor,
            stop: Some(stop),
            task,
            http_stop: Some(http_stop),
            http_task,
        })
    }

    /// `https://` when serving TLS (the address is an IP, so the
    /// certificate must name it).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// `http://` or `https://` and the REST listener's address.
    pub fn http_url(&self) -> Option<String> {
        let scheme = if self.tls { "https" } else { "http" };
        self.http_addr.map(|addr| format!("{scheme}://{addr}"))
    }

    /// Where Kibana's `_execute` finds ingest from now on, when that was
    /// not known at start (`heraldctl up` and tests start the registry
    /// before ingest, which may pick its own port).
    pub fn point_at_ingest(&self, ingest_url: &str) -> Result<(), herald_tls::TlsError> {
        self.executor.point_at(ingest_url)
    }

    /// Stops serving and waits until in-flight calls have finished.
    pub async fn stop(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.http_stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.http_task.take() {
            task.await?.map_err(StartError::ServeHttp)?;
        }
        Ok((&mut self.task).await??)
    }
}

/// Why the registry cannot start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    MasterKey(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A preconfigured account is refused; the message names it.
    #[error("HERALD_CONFIG: {0}")]
    Config(String),
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// HERALD_INGEST_URL cannot be used (the message names it).
    #[error(transparent)]
    IngestUrl(#[from] herald_tls::TlsError),
    #[error("serving gRPC")]
    Serve(#[from] tonic::transport::Error),
    #[error("serving REST")]
    ServeHttp(#[source] std::io::Error),
    #[error("the gRPC server task panicked or was cancelled")]
    Task(#[from] tokio::task::JoinError),
}
