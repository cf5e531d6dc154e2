//! `herald-ai-worker`: delivers the model calls (`gen-ai`, `bedrock`: the
//! types the catalog gives this binary) until SIGTERM; configuration from
//! the environment (see the README). A call takes seconds to minutes, so
//! its defaults differ from the other workers': a 5-minute response
//! timeout and few concurrent slots (see `herald_worker::settings`).

/// mimalloc, like the other workers: many small, short-lived buffers per message.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    herald_worker::main(
        "herald-ai-worker",
        herald_connectors::connectors(herald_catalog::WorkerBinary::Ai),
    )
    .await
}
