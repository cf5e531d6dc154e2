//! `herald-email-worker`: delivers `email` actions until SIGTERM;
//! configuration from the environment (see the README).

/// mimalloc, as in the other workers: many small, short-lived buffers per
/// message.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    herald_worker::main(
        "herald-email-worker",
        herald_connectors::connectors(herald_catalog::WorkerBinary::Email),
    )
    .await
}
