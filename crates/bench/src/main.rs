//! Benchmarks that print figures. Each measures a baseline in the same run,
//! since machines here are shared and noisy: the ratio is the figure to
//! compare across runs.
//!
//!     cargo run --release -p herald-bench -- registry [--callers 64] [--seconds 10] [--accounts 1000]
//!     cargo run --release -p herald-bench -- pipeline [--actions 100000] [--rate 0] [--per-event 10]
//!     cargo run --release -p herald-bench -- email [--actions 50000] [--connections 16] [--rate 0]

mod email;
mod pipeline;
mod registry;

/// The allocator the service binaries use, so figures match them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("registry") => registry::main(rest).await,
        Some("pipeline") => pipeline::main(rest).await,
        Some("email") => email::main(rest).await,
        _ => anyhow::bail!(
            "usage: herald-bench registry|pipeline|email [flags]; see the README's Benchmarks"
        ),
    }
}

/// Reads `--flag value` pairs into the named fields.
pub fn flags(
    args: &[String],
    mut set: impl FnMut(&str, &str) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        if !set(flag, value)? {
            anyhow::bail!("unknown flag {flag}");
        }
    }
    Ok(())
}

/// The `p`-th percentile (0..1) of sorted values.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}
