//! Compiles `proto/herald/v1/*.proto` with protox (pure Rust), so a fresh
//! machine builds with cargo alone: no system `protoc`.
use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "herald/v1/registry.proto",
        "herald/v1/ingest.proto",
        "herald/v1/delivery.proto",
        "herald/v1/history.proto",
    ];
    let fds = protox::compile(files, [&root])?;

    // Server reflection serves this descriptor set.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("herald_descriptor.bin"), fds.encode_to_vec())?;

    // Messages and clients, with tonic-prost's codec.
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(fds.clone())?;
    // Servers alone, with the codec that answers an undecodable request with
    // INVALID_ARGUMENT (see src/codec.rs); the messages are the ones above.
    let servers = out.join("servers");
    fs::create_dir_all(&servers)?;
    tonic_prost_build::configure()
        .build_client(false)
        .extern_path(".herald.v1", "crate::v1")
        .codec_path("crate::codec::ServerCodec")
        .out_dir(&servers)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
