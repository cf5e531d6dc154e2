//! `herald-ingest` serves gRPC, HTTP and the `herald.event` intake until
//! SIGTERM or Ctrl-C.

use herald_ingest::{Settings, run};
use tracing_subscriber::EnvFilter;

/// mimalloc: this process allocates many small, short-lived buffers per
/// message; measured ~20% more pipeline throughput than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    run(Settings::from_env()?, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: finishing in-flight events");
}
