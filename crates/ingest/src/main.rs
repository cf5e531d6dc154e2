//! `herald-ingest` serves gRPC, HTTP and the `herald.event` intake until
//! SIGTERM or Ctrl-C.

use herald_ingest::{Settings, run};

/// mimalloc: this process allocates many small, short-lived buffers per
/// message; measured ~20% more pipeline throughput than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = herald_telemetry::init("herald-ingest")?;
    Ok(run(Settings::from_env()?, shutdown_signal()).await?)
}

fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let signal = herald_telemetry::shutdown_signal();
    async move {
        signal.await;
        tracing::info!("shutting down: finishing in-flight events");
    }
}
