//! `herald-chat-worker`: delivers `slack`, `slack_api` and `teams` actions
//! until SIGTERM; configuration from the environment (see the README).

use tracing_subscriber::EnvFilter;

/// mimalloc: this process allocates many small, short-lived buffers per
/// message; measured ~20% more pipeline throughput than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let filter = EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    if let Err(error) =
        herald_worker::run_from_env("herald-chat-worker", herald_chat_worker::connectors()).await
    {
        eprintln!("herald-chat-worker: {error}");
        std::process::exit(1);
    }
}
