use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use serde_json::{Value, json};

pub struct Env {
    pub nats: NatsServer,
    pub stack: Stack,
    pub http: reqwest::Client,
    /// `HERALD_CONFIG` for worker processes: the stack's policy.
    pub config_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    pub async fn start(adjust: impl FnOnce(&mut StackOptions)) -> Env {
        herald_test_support::init_tracing();
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let mut options = StackOptions::new(nats.url(), dir.path());
        // The vendors are wiremock servers on loopback, which `*` alone
        // does not reach.
        options.config.policy = herald_catalog::Policy::default().with_loopback();
        options.worker = Box::new(|w| {
            w.config.delivery.backoff.initial = Duration::from_millis(20);
            w.config.delivery.backoff.max = Duration::from_millis(200);
        });
        adjust(&mut options);
        let config_file = dir.path().join("herald.yaml");
        let config = serde_yaml_ng::to_string(&json!({"policy": options.config.policy})).unwrap();
        std::fs::write(&config_file, config).unwrap();
        let stack = Stack::start(options).await.unwrap();
        Env {
            nats,
            stack,
            http: reqwest::Client::new(),
            config_file,
            _dir: dir,
        }
    }

    /// `POST /v1/events`; the response status and JSON body.
    pub async fn submit(&self, event: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/events", self.stack.ingest.http_url()))
            .bearer_auth(&self.stack.producer_token)
            .json(&event)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn status(&self, action_id: &str) -> Value {
        self.http
            .get(format!(
                "{}/v1/actions/{action_id}",
                self.stack.ingest.http_url()
            ))
            .bearer_auth(&self.stack.producer_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until the action reaches `state` (or fails the test after 20 s).
    pub async fn wait_for_state(&self, action_id: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.status(action_id).await;
            if status["state"] == state {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "action {action_id} never became {state}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn action_ids(body: &Value) -> Vec<String> {
    body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn teams_event(key: Option<&str>, account: &str, message: &str) -> Value {
    let mut event = json!({
        "context": {"host": "db-1"},
        "actions": [{"account_id": account, "params": {"message": message}}]
    });
    if let Some(key) = key {
        event["idempotency_key"] = key.into();
    }
    event
}

/// A Herald binary (`herald-chat-worker`, ...) beside this test's own
/// executable (`scripts/test.sh` builds them first with
/// `cargo build --workspace --bins`), or in `HERALD_E2E_BIN_DIR` when set
/// (a copy taken right after building, when a target directory is shared
/// by several checkouts that overwrite each other's binaries).
pub fn binary(name: &str) -> std::path::PathBuf {
    let dir = match std::env::var_os("HERALD_E2E_BIN_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().unwrap();
            exe.parent()
                .and_then(|deps| deps.parent())
                .unwrap()
                .to_owned()
        }
    };
    let binary = dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build --workspace --bins`",
        binary.display()
    );
    binary
}

/// A worker process, killed (SIGKILL) on drop so a failing test leaves none behind.
pub struct WorkerProcess(Child);

impl WorkerProcess {
    /// SIGKILL: no chance to ack or NAK anything.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn spawn_worker(env: &Env) -> WorkerProcess {
    spawn_worker_with(env, &[])
}

/// A worker process with more (or other) environment variables.
pub fn spawn_worker_with(env: &Env, vars: &[(&str, &str)]) -> WorkerProcess {
    spawn_binary(env, "herald-chat-worker", vars)
}

/// The worker binary `name` joined to `env`, with the stack's policy.
pub fn spawn_binary(env: &Env, name: &str, vars: &[(&str, &str)]) -> WorkerProcess {
    WorkerProcess(
        Command::new(binary(name))
            .env("HERALD_CONFIG", &env.config_file)
            .env("HERALD_NATS_URL", env.nats.url())
            .env("HERALD_REGISTRY_URL", env.stack.registry_url())
            .env("HERALD_SERVICE_TOKEN", &env.stack.service_token)
            .env("HERALD_WORKER_ACK_WAIT", "3s")
            .env("HERALD_LOG", "warn")
            // A free port rather than the default, so tests can run side by side.
            .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    )
}

/// A loopback address no one listens on right now.
pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}
