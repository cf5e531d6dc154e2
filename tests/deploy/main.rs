//! The deployment files (`Dockerfile`, `docker-compose.yml`, everything
//! under `deploy/`) checked against the code: they parse, and they name only
//! binaries, ports, variables, streams and consumers that exist. Neither
//! docker nor kubectl is needed; `kubectl kustomize` runs as an extra check
//! when kubectl is on the PATH.

mod compose;
mod kubernetes;
mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;

/// The repository's top folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_owned()
}

/// Every binary target of the workspace, as `cargo metadata` lists them.
fn workspace_binaries() -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {output:?}");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut bins = BTreeSet::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            if target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "bin")
            {
                bins.insert(target["name"].as_str().unwrap().to_owned());
            }
        }
    }
    bins
}

/// `HERALD_*` and `OTEL_*` names in the string literals of `crates/*/src`:
/// the variables the binaries read.
fn variables_the_code_reads() -> BTreeSet<String> {
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for prefix in ["\"HERALD_", "\"OTEL_"] {
                    for (at, _) in text.match_indices(prefix) {
                        let name: String = text[at + 1..]
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        if text[at + 1 + name.len()..].starts_with('"') {
                            found.insert(name);
                        }
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    for krate in std::fs::read_dir(root().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            walk(&src, &mut found);
        }
    }
    found
}

/// The binaries the image must carry: every service plus the command line.
const SERVICE_BINARIES: &[&str] = &[
    "herald-registry",
    "herald-ingest",
    "herald-email-worker",
    "herald-chat-worker",
    "herald-incident-worker",
    "herald-ai-worker",
];

#[test]
fn the_code_reads_the_variables_this_test_relies_on() {
    // Guards the scan itself: an empty or broken scan would pass everything.
    let vars = variables_the_code_reads();
    for name in [
        "HERALD_NATS_URL",
        "HERALD_DATABASE_URL",
        "HERALD_REGISTRY_ADDR",
        "HERALD_INGEST_HTTP_ADDR",
        "HERALD_WORKER_SHUTDOWN_GRACE",
    ] {
        assert!(vars.contains(name), "{name} not found in crates/*/src");
    }
    assert!(!vars.contains("HERALD_NO_SUCH_VARIABLE"));
}

#[test]
fn dockerfile_copies_every_service_binary_and_only_existing_ones() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ARG BINARIES="))
        .expect("Dockerfile: ARG BINARIES=\"...\" lists the binaries it copies");
    let listed: BTreeSet<String> = line
        .trim_matches('"')
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let existing = workspace_binaries();
    for bin in &listed {
        assert!(
            existing.contains(bin),
            "Dockerfile copies {bin}, which the workspace does not build"
        );
    }
    for bin in SERVICE_BINARIES.iter().chain(&["heraldctl"]) {
        assert!(listed.contains(*bin), "Dockerfile does not copy {bin}");
    }
    assert!(
        text.contains("FROM rust:1.95-bookworm AS build"),
        "builder stage"
    );
    assert!(text.contains("FROM debian:bookworm-slim"), "runtime stage");
    assert!(
        text.contains("USER 10001"),
        "the runtime runs as a numeric non-root user"
    );
}

/// Runs `deploy/generate-secrets.sh` into a temporary folder and returns
/// (Compose `.env`, Kubernetes `secrets.env`) as maps.
fn generated_secrets() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let (env, k8s) = (dir.path().join(".env"), dir.path().join("k8s/secrets.env"));
    let run = || {
        Command::new("sh")
            .arg(root().join("deploy/generate-secrets.sh"))
            .args([&env, &k8s])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "generate-secrets.sh: {first:?}");
    let compose = model::env_file(&std::fs::read_to_string(&env).unwrap());
    let kube = model::env_file(&std::fs::read_to_string(&k8s).unwrap());
    let again = run();
    assert!(
        !again.status.success(),
        "a second run must not overwrite the master key"
    );
    assert_eq!(
        model::env_file(&std::fs::read_to_string(&env).unwrap()),
        compose
    );
    (compose, kube)
}

#[test]
fn generated_secrets_are_what_the_binaries_accept() {
    let (compose, kube) = generated_secrets();
    let key = base64::engine::general_purpose::STANDARD
        .decode(&compose["HERALD_MASTER_KEY"])
        .expect("master key is base64");
    assert_eq!(key.len(), 32, "master key is 32 bytes");
    let tokens: BTreeSet<&String> = [
        "HERALD_ADMIN_TOKEN",
        "HERALD_PRODUCER_TOKEN",
        "HERALD_SERVICE_TOKEN",
    ]
    .iter()
    .map(|name| {
        let token = &compose[*name];
        assert!(token.len() >= 16, "{name} is shorter than 16 characters");
        token
    })
    .collect();
    assert_eq!(tokens.len(), 3, "tokens must differ");
    // Kubernetes gets the same secrets, minus the Compose database password.
    for (name, value) in &kube {
        assert_eq!(
            compose.get(name),
            Some(value),
            "{name} differs between the files"
        );
    }
    let example = model::env_file(
        &std::fs::read_to_string(
            root().join("deploy/kubernetes/overlays/example/secrets.env.example"),
        )
        .unwrap(),
    );
    assert_eq!(
        kube.keys().collect::<Vec<_>>(),
        example.keys().collect::<Vec<_>>(),
        "secrets.env.example shows the keys the script writes"
    );
    let known = variables_the_code_reads();
    for name in kube.keys() {
        assert!(
            known.contains(name),
            "secrets.env: {name} is read by no binary"
        );
    }
}

#[test]
fn helm_values_parse_and_nats_has_as_many_servers_as_stream_replicas() {
    let nats = model::yaml_documents(&root().join("deploy/helm/nats-values.yaml"));
    let postgres = model::yaml_documents(&root().join("deploy/helm/postgres-values.yaml"));
    let servers = nats[0]["config"]["cluster"]["replicas"].as_u64().unwrap();
    assert!(nats[0]["config"]["jetstream"]["enabled"].as_bool().unwrap());
    let env = kubernetes::herald_env();
    let replicas: u64 = env["HERALD_NATS_REPLICAS"].parse().unwrap();
    assert!(
        replicas <= servers,
        "{replicas} stream replicas need as many NATS servers, not {servers}"
    );
    assert_eq!(replicas, 3, "a cluster keeps every stream on three servers");
    // The registry's HERALD_DATABASE_URL is the Secret CloudNativePG makes
    // for this cluster: <fullnameOverride>-app.
    let cluster = postgres[0]["fullnameOverride"].as_str().unwrap();
    let registry = kubernetes::manifests()
        .into_iter()
        .find(|m| m.kind() == "Deployment" && m.name() == "herald-registry")
        .unwrap();
    let env = registry.value["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .unwrap();
    let database = env
        .iter()
        .find(|e| e["name"] == "HERALD_DATABASE_URL")
        .unwrap();
    let secret = &database["valueFrom"]["secretKeyRef"];
    assert_eq!(
        secret["name"].as_str(),
        Some(format!("{cluster}-app").as_str())
    );
    assert_eq!(secret["key"], "uri", "CloudNativePG's connection URL");
}
