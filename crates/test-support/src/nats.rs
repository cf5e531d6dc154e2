//! A private `nats-server -js` per test, after nats.rs's own test helper:
//! the server picks its own ports (`-p -1`, so parallel tests never collide)
//! and reports them in a ports file, and the fixture waits until JetStream
//! answers before handing it out.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian's `nats-server` package puts the binary (not on a normal
/// user's PATH).
const DEBIAN_BINARY: &str = "/usr/sbin/nats-server";

/// How long a start may take before we give up: JetStream recovery on a
/// loaded two-core CI machine can take a while, a healthy start takes ~50 ms.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long `restart` keeps trying when the old port is taken meanwhile.
const REBIND_TIMEOUT: Duration = Duration::from_secs(10);

const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A `nats-server` with JetStream, on 127.0.0.1, with its own store in a
/// temporary directory. Killed (and its store removed) on drop.
///
/// Starting is synchronous (it takes tens of milliseconds), so it works the
/// same in plain and `#[tokio::test]` tests. `stop` and `restart` take
/// `&self`, so the server can sit in an `Arc` shared with the code under test
/// while the test cuts and restores it.
///
/// The server's output goes to a log file in its temporary directory, never
/// to the test's stdout/stderr (a child holding those open would make nextest
/// report the test as leaky); a failed start panics with the log's tail.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    /// Server configuration (`-c`), kept for `restart`.
    config: Option<PathBuf>,
    process: Mutex<Option<Child>>,
    // Declared last: dropped after `Drop::drop` has killed the server.
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server on a port the server picks itself, and returns once it
    /// accepts clients and reports JetStream healthy.
    ///
    /// # Panics
    /// When `nats-server` is not installed (run `scripts/setup.sh`), or does
    /// not become ready within 30 s.
    pub fn start() -> NatsServer {
        NatsServer::start_with_config("")
    }

    /// [`NatsServer::start`] with server settings in nats-server's
    /// configuration syntax, e.g. `max_payload: 65536` (the command line
    /// has no flag for some of them). Empty for none.
    pub fn start_with_config(config: &str) -> NatsServer {
        let binary = nats_server_binary();
        let dir = tempfile::Builder::new()
            .prefix("herald-nats-")
            .tempdir()
            .expect("creating a temporary directory for nats-server");
        for sub in ["store", "ports"] {
            fs::create_dir(dir.path().join(sub)).expect("creating nats-server's directories");
        }
        let config = (!config.is_empty()).then(|| {
            let path = dir.path().join("nats-server.conf");
            fs::write(&path, config).expect("writing nats-server's configuration");
            path
        });
        let (child, port) = launch(&binary, dir.path(), config.as_deref(), None)
            .unwrap_or_else(|err| panic!("nats-server did not start: {err}"));
        tracing::debug!(port, store = %dir.path().display(), "nats-server started");
        NatsServer {
            binary,
            port,
            config,
            process: Mutex::new(Some(child)),
            dir,
        }
    }

    /// `nats://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port; the same across `restart`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory (`-sd`); kept across `stop`/`restart`.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Whether the server process is running (it has not been stopped and
    /// has not died).
    pub fn is_running(&self) -> bool {
        match self.lock().as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server (SIGKILL, like a crash) and waits for it to exit.
    /// The port and the store are kept for `restart`. Does nothing when it is
    /// already stopped.
    pub fn stop(&self) {
        if let Some(child) = self.lock().take() {
            kill(child);
            tracing::debug!(port = self.port, "nats-server stopped");
        }
    }

    /// Starts the server again on the same port with the same store (stopping
    /// it first if it runs), and returns once JetStream is ready. Streams and
    /// consumers created before are recovered from the store.
    ///
    /// # Panics
    /// When the server does not come back, e.g. because another process took
    /// the port and kept it for 10 s.
    pub fn restart(&self) {
        let mut process = self.lock();
        if let Some(child) = process.take() {
            kill(child);
        }
        // The port was free while the server was down, so another process may
        // have bound it; that is rare and usually brief, so retry a while.
        let deadline = Instant::now() + REBIND_TIMEOUT;
        let child = loop {
            match launch(
                &self.binary,
                self.dir.path(),
                self.config.as_deref(),
                Some(self.port),
            ) {
                Ok((child, _)) => break child,
                Err(LaunchError::Exited { log_tail, .. })
                    if log_tail.contains("address already in use") && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(err) => panic!("nats-server did not restart on port {}: {err}", self.port),
            }
        };
        *process = Some(child);
        tracing::debug!(port = self.port, "nats-server restarted");
    }

    fn lock(&self) -> MutexGuard<'_, Option<Child>> {
        // A panic while holding the lock leaves the state usable.
        self.process
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.lock().take() {
            kill(child);
        }
    }
}

fn kill(mut child: Child) {
    // Fails only when the process has already exited; `wait` reaps it then.
    let _ = child.kill();
    let _ = child.wait();
}

/// `nats-server` on PATH, else Debian's location.
fn nats_server_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| is_executable(candidate))
    });
    on_path
        .or_else(|| Some(PathBuf::from(DEBIAN_BINARY)).filter(|p| is_executable(p)))
        .unwrap_or_else(|| {
            panic!(
                "nats-server not found on PATH nor at {DEBIAN_BINARY}. Herald's tests need it: \
                 run scripts/setup.sh (or `apt-get install nats-server`)."
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[derive(Debug, thiserror::Error)]
enum LaunchError {
    #[error("could not run {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("nats-server exited with {status}; its log ends with:\n{log_tail}")]
    Exited {
        status: ExitStatus,
        log_tail: String,
    },
    #[error(
        "nats-server was not ready after {READY_TIMEOUT:?} ({waiting_for}); its log ends with:\n{log_tail}"
    )]
    NotReady {
        waiting_for: &'static str,
        log_tail: String,
    },
}

/// Spawns the server (on `port`, or on one it picks when `None`) and waits
/// until it is ready; returns it with its client port.
fn launch(
    binary: &Path,
    dir: &Path,
    config: Option<&Path>,
    port: Option<u16>,
) -> Result<(Child, u16), LaunchError> {
    let log_path = dir.join("nats-server.log");
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("opening nats-server's log file");
    let log_err = log.try_clone().expect("duplicating the log file handle");
    let port_arg = port.map_or_else(|| "-1".to_owned(), |p| p.to_string());
    let mut command = Command::new(binary);
    // The command line's settings below override the file's.
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .args(["--addr", "127.0.0.1", "--port", &port_arg])
        // The monitoring port serves /healthz, our readiness check.
        .args(["--http_port", "-1"])
        .arg("--jetstream")
        .arg("--store_dir")
        .arg(dir.join("store"))
        // The server writes the ports it bound to `<name>_<pid>.ports` here.
        .arg("--ports_file_dir")
        .arg(dir.join("ports"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;

    let deadline = Instant::now() + READY_TIMEOUT;
    let mut waiting_for = "its ports file";
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LaunchError::Exited {
                status,
                log_tail: log_tail(&log_path),
            });
        }
        if let Some((client, monitor)) = read_ports_file(&dir.join("ports"), child.id()) {
            waiting_for = "a client connection";
            if read_info_line(client).is_ok() {
                waiting_for = "/healthz?js-enabled-only=true";
                if healthz_ok(monitor) {
                    return Ok((child, client));
                }
            }
        }
        if Instant::now() >= deadline {
            kill(child);
            return Err(LaunchError::NotReady {
                waiting_for,
                log_tail: log_tail(&log_path),
            });
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// The client and monitoring ports from the ports file of process `pid`:
/// `{"nats":["nats://127.0.0.1:P"],"monitoring":["http://127.0.0.1:M"]}`.
/// Keyed by pid, so it is this process's and not a predecessor's.
fn read_ports_file(dir: &Path, pid: u32) -> Option<(u16, u16)> {
    let suffix = format!("_{pid}.ports");
    let path = fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.to_str().is_some_and(|p| p.ends_with(&suffix)))?;
    // The file may be half-written; the next poll reads it again.
    let ports: serde_json::Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    let port_of = |key: &str| -> Option<u16> {
        let url = ports.get(key)?.get(0)?.as_str()?;
        url.rsplit(':').next()?.parse().ok()
    };
    Some((port_of("nats")?, port_of("monitoring")?))
}

/// Connects and reads the server's greeting (`INFO {...}`).
fn read_info_line(port: u16) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    if line.starts_with("INFO ") {
        Ok(line)
    } else {
        Err(std::io::Error::other(format!(
            "unexpected greeting {line:?}"
        )))
    }
}

/// `GET /healthz?js-enabled-only=true` answers 200 once JetStream is up.
fn healthz_ok(port: u16) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream
            .write_all(b"GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut status_line = String::new();
        BufReader::new(&mut stream).read_line(&mut status_line)?;
        Ok(status_line.split_whitespace().nth(1) == Some("200"))
    };
    attempt().unwrap_or(false)
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .is_err()
    {
        return format!("(could not read {})", path.display());
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
