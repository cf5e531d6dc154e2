//! herald-registry: the gRPC service that owns accounts. It is the only
//! component that stores or decrypts secrets; ingest and workers ask it
//! (`ResolveAccount`, service role) and cache briefly.
//!
//! `main.rs` only reads the environment and calls [`run`]; tests and
//! `heraldctl up` call [`Server::start`] on a listener of their own.

pub mod announce;
pub mod auth;
pub mod cache;
pub mod registry;
pub mod secret_box;
pub mod service;
pub mod settings;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use herald_proto::v1::account_registry_server::AccountRegistryServer;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

pub use registry::Registry;
pub use settings::Settings;

use crate::announce::Announcer;
use crate::auth::Tokens;
use crate::secret_box::SecretBox;
use crate::store::{AccountStore, redact_url};

/// Opens the store, checks the preconfigured accounts and connects to NATS.
pub async fn open_registry(settings: &Settings) -> anyhow::Result<Registry> {
    let secret_box =
        SecretBox::from_spec(settings.master_key.expose()).context("HERALD_MASTER_KEY")?;
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
    .map_err(|message| anyhow::anyhow!("HERALD_CONFIG: {message}"))?;
    tracing::info!(
        database = %redact_url(&settings.database_url),
        backend = registry.store().backend(),
        preconfigured = settings.config.preconfigured.len(),
        "registry store ready"
    );
    Ok(registry)
}

/// Runs the registry on `settings.listen` until `shutdown` resolves.
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (HERALD_REGISTRY_ADDR)",
            settings.listen
        )
    })?;
    let registry = Arc::new(open_registry(&settings).await?);
    tracing::info!(addr = %listener.local_addr()?, "herald-registry serving gRPC");
    serve(listener, registry, settings.tokens.clone(), shutdown).await?;
    tracing::info!("herald-registry stopped");
    Ok(())
}

/// Serves `herald.v1.AccountRegistry` (behind bearer-token auth), plus
/// `grpc.health.v1.Health` and server reflection, which stay open.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    tokens: Tokens,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<AccountRegistryServer<service::RegistryService>>()
        .await;
    // v1 for current clients, v1alpha for older ones (grpcurl before 1.9,
    // Python's grpcio-reflection).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(herald_proto::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("herald.v1.AccountRegistry")
            .with_service_name("grpc.health.v1.Health")
    };
    let accounts = AccountRegistryServer::with_interceptor(
        service::RegistryService::new(registry),
        move |request| auth::authenticate(&tokens, request),
    );
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .trace_fn(call_span)
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(accounts)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    pub async fn start(settings: Settings) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(settings.listen).await?;
        let addr = listener.local_addr()?;
        let registry = Arc::new(open_registry(&settings).await?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, registry, settings.tokens.clone(), async {
            let _ = stopped.await;
        }));
        Ok(Server {
            addr,
            stop: Some(stop),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits until in-flight calls have finished.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await?
    }
}
