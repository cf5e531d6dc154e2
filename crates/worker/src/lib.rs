//! The worker runtime every Herald worker runs on: a worker binary names
//! the connectors it serves (`herald_connectors::connectors`), and this
//! crate consumes their actions from JetStream, delivers them through the
//! shared outbound HTTP client, and acks, retries or dead-letters each by
//! its `Outcome`.

pub mod admission;
pub mod backoff;
pub mod follow;
mod metrics;
pub mod rate_limit;
pub mod retry;
pub mod runtime;
pub mod settings;

// What connectors deliver with lives beside them in `herald-connectors`;
// the runtime drives it.
#[cfg(any(test, feature = "testing"))]
pub use herald_connectors::delivery::testing;
pub use herald_connectors::delivery::{
    Account, Connector, Delivery, HttpRequest, HttpResponse, Outcome, attempt, classify_status,
    connector, fields, http, outcome,
};

pub use runtime::{Disposition, Worker, WorkerError};
pub use settings::{SettingsError, WorkerSettings};

/// A worker binary's whole `main`: logs and traces per `herald_telemetry`
/// (`HERALD_LOG`, default `info`), runs `connectors` until SIGTERM or
/// Ctrl-C, and exits 1 with the reason if the worker cannot start.
pub async fn main(name: &str, connectors: Vec<std::sync::Arc<dyn Connector>>) {
    let telemetry = match herald_telemetry::init(name) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{name}: {error}");
            std::process::exit(1);
        }
    };
    let result = run_from_env(name, connectors).await;
    // Flushes the spans still buffered; `exit` would skip it.
    drop(telemetry);
    if let Err(error) = result {
        eprintln!("{name}: {}", herald_telemetry::chain(&error));
        std::process::exit(1);
    }
}

/// What `main` runs: reads the environment, connects to
/// NATS (waiting for it if it is not up yet), and runs `connectors` until
/// SIGTERM or Ctrl-C.
pub async fn run_from_env(
    name: &str,
    connectors: Vec<std::sync::Arc<dyn Connector>>,
) -> Result<(), StartError> {
    let settings = WorkerSettings::from_env(name)?;
    let nats = async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connect(&settings.nats_url)
        .await
        .map_err(|source| StartError::Nats {
            url: settings.nats_url.clone(),
            source,
        })?;
    let metrics_listener = herald_metrics::bind(settings.metrics_addr).await?;
    let metrics = herald_metrics::Metrics::default();
    let worker = std::sync::Arc::new(Worker::new(settings, nats, connectors, &metrics).await?);
    // Served until the worker has stopped: probes and a last scrape still
    // answer during the shutdown grace.
    let metrics_server = metrics_listener.map(|listener| {
        let serve = herald_metrics::serve(
            listener,
            metrics,
            worker.readiness(),
            std::future::pending(),
        );
        tokio::spawn(async move {
            if let Err(error) = serve.await {
                tracing::error!(%error, "the metrics listener failed");
            }
        })
    });
    let result = worker.run(herald_telemetry::shutdown_signal()).await;
    if let Some(server) = metrics_server {
        server.abort();
    }
    Ok(result?)
}

/// Why a worker binary stops: it cannot start, or its run failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot connect to NATS at {url} (HERALD_NATS_URL)")]
    Nats {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error(transparent)]
    Metrics(#[from] herald_metrics::ListenError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
}
