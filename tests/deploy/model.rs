//! What Compose services and Kubernetes containers have in common: a Herald
//! binary, its environment and its listeners, checked the same way for both.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::Value;

/// Every YAML document of a file, with `<<` merge keys applied; empty
/// documents (comments only) are left out.
pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let mut value = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
            value
                .apply_merge()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            value
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// `KEY=VALUE` lines; `#` comments and blank lines skipped.
pub fn env_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not KEY=VALUE: {l}"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

pub fn str_list(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| s.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// The listen-address variables a binary must be given in a container
/// (their defaults bind 127.0.0.1, unreachable from outside the container).
fn listen_vars(binary: &str) -> &'static [&'static str] {
    match binary {
        "herald-registry" => &["HERALD_REGISTRY_ADDR", "HERALD_METRICS_ADDR"],
        "herald-ingest" => &["HERALD_INGEST_GRPC_ADDR", "HERALD_INGEST_HTTP_ADDR"],
        "heraldctl" => &[],
        worker if is_worker(worker) => &["HERALD_METRICS_ADDR"],
        other => panic!("no listeners known for {other}"),
    }
}

pub fn is_worker(binary: &str) -> bool {
    herald_connectors::catalog()
        .all()
        .iter()
        .any(|spec| spec.worker.binary() == binary)
}

/// How long a worker binary drains on SIGTERM with this environment.
pub fn worker_grace(binary: &str, env: &BTreeMap<String, Option<String>>) -> Duration {
    match env.get("HERALD_WORKER_SHUTDOWN_GRACE") {
        Some(Some(v)) => herald_config::parse_duration(v).unwrap(),
        _ => herald_worker::WorkerSettings::new(binary).shutdown_grace,
    }
}

/// One Herald process as a deployment file describes it.
pub struct Container {
    /// Where it is described, for messages: `docker-compose.yml registry`.
    pub place: String,
    pub binary: String,
    /// Variable names, with their value when it is written out (not when
    /// it comes from a Secret).
    pub env: BTreeMap<String, Option<String>>,
}

impl Container {
    /// Checks the binary and the variable names, and returns the ports it
    /// listens on, by the variable that sets each.
    pub fn check(
        &self,
        binaries: &BTreeSet<String>,
        known: &BTreeSet<String>,
    ) -> BTreeMap<String, u16> {
        let at = &self.place;
        assert!(
            binaries.contains(&self.binary),
            "{at}: runs {}, which the workspace does not build",
            self.binary
        );
        for name in self.env.keys() {
            assert!(
                known.contains(name),
                "{at}: sets {name}, which no Herald binary reads"
            );
        }
        let mut ports = BTreeMap::new();
        for var in listen_vars(&self.binary) {
            let value = self.env.get(*var).cloned().flatten().unwrap_or_else(|| {
                panic!("{at}: {var} must be set (its default listens on 127.0.0.1 only)")
            });
            let addr: SocketAddr = value
                .parse()
                .unwrap_or_else(|_| panic!("{at}: {var}={value} is not host:port"));
            assert!(
                addr.ip().is_unspecified(),
                "{at}: {var}={value} must bind 0.0.0.0"
            );
            ports.insert((*var).to_owned(), addr.port());
        }
        ports
    }
}

/// The ports a set of listeners open.
pub fn port_set(listeners: &BTreeMap<String, u16>) -> BTreeSet<u16> {
    listeners.values().copied().collect()
}
