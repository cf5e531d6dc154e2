//! A real SMTP server on loopback for the e-mail tests: aiosmtpd (Debian's
//! `python3-aiosmtpd`, installed by `scripts/setup.sh`) run as a child
//! process by `server.py`. It speaks plain SMTP, STARTTLS or implicit TLS
//! with the certificate a test gives it, offers AUTH PLAIN and LOGIN, plays
//! back chosen replies (`451 ...`, a dropped connection, a slow answer) and
//! records the envelope and raw message of every mail it accepts.
//!
//! A maintained server rather than one of our own: what the tests prove is
//! that Herald's client gets along with a real implementation of the
//! protocol, TLS and AUTH included.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `HERALD_TEST_PYTHON` overrides the interpreter that has aiosmtpd.
pub const PYTHON_ENV: &str = "HERALD_TEST_PYTHON";
/// Debian's interpreter, where `python3-aiosmtpd` installs.
const DEFAULT_PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = include_str!("server.py");

/// How the server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    /// Offers STARTTLS after EHLO.
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

#[derive(Debug, Clone)]
pub struct SmtpOptions {
    pub tls: SmtpTls,
    /// PEM certificate chain and key, for `StartTls` and `Implicit`.
    pub cert_pem: String,
    pub key_pem: String,
    /// With `StartTls`: refuse mail until the client upgraded.
    pub require_starttls: bool,
    /// `Some`: AUTH PLAIN and LOGIN with these (user, password) pairs.
    pub users: Option<Vec<(String, String)>>,
    /// AUTH only over TLS (aiosmtpd's default; implicit TLS always counts).
    pub auth_require_tls: bool,
    /// AUTH mechanisms not offered (`"PLAIN"`, `"LOGIN"`).
    pub auth_exclude: Vec<&'static str>,
    /// (`MAIL` | `RCPT` | `DATA`, reply): each such command, in order, gets
    /// the next reply given for it: an SMTP reply line (2xx: accepted as
    /// usual), `DROP` (the
    /// connection is closed) or `SLEEP <seconds>`. Then commands succeed.
    pub replies: Vec<(&'static str, String)>,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            tls: SmtpTls::None,
            cert_pem: String::new(),
            key_pem: String::new(),
            require_starttls: false,
            users: None,
            auth_require_tls: true,
            auth_exclude: Vec::new(),
            replies: Vec::new(),
        }
    }
}

/// One accepted message as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The raw message: headers, blank line, body, CRLF line ends.
    pub data: String,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    /// Whether the session was encrypted when the mail was accepted.
    pub tls: bool,
    /// The client's port: mails sent over one connection share it.
    pub peer_port: u16,
}

impl ReceivedMail {
    /// The header part, up to the first blank line.
    pub fn headers(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .or_else(|| self.data.split_once("\n\n"))
            .map_or(self.data.as_str(), |(head, _)| head)
    }

    /// The unfolded value of the first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self.headers().lines().peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if !key.eq_ignore_ascii_case(name) {
                continue;
            }
            let mut value = value.trim().to_owned();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
        None
    }
}

/// The running server; killed on drop.
pub struct SmtpServer {
    child: Child,
    port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits until it listens. Panics with what to do
    /// when aiosmtpd is missing.
    pub fn start(options: SmtpOptions) -> SmtpServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("server.py"), SCRIPT).expect("writing server.py");
        std::fs::write(path("cert.pem"), &options.cert_pem).expect("writing cert.pem");
        std::fs::write(path("key.pem"), &options.key_pem).expect("writing key.pem");
        let mut replies = serde_json::Map::new();
        for (command, reply) in &options.replies {
            replies
                .entry(command.to_string())
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
                .expect("an array")
                .push(reply.clone().into());
        }
        let config = serde_json::json!({
            "tls": match options.tls {
                SmtpTls::None => "none",
                SmtpTls::StartTls => "starttls",
                SmtpTls::Implicit => "implicit",
            },
            "cert": path("cert.pem"),
            "key": path("key.pem"),
            "require_starttls": options.require_starttls,
            "users": options.users.as_ref().map(|users| {
                users
                    .iter()
                    .map(|(user, password)| (user.clone(), serde_json::Value::from(password.as_str())))
                    .collect::<serde_json::Map<_, _>>()
            }),
            "auth_require_tls": options.auth_require_tls,
            "auth_exclude": options.auth_exclude,
            "replies": replies,
            "record": path("mails.jsonl"),
            "auth_record": path("auths.jsonl"),
        });
        let python = std::env::var(PYTHON_ENV).unwrap_or_else(|_| DEFAULT_PYTHON.to_owned());
        let mut child = Command::new(&python)
            .arg(path("server.py"))
            .arg(config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} ({e}); run scripts/setup.sh or set {PYTHON_ENV}")
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
        let Some(port) = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
        else {
            let _ = child.kill();
            let output = child.wait_with_output().expect("the server's output");
            panic!(
                "the test SMTP server did not start (is python3-aiosmtpd installed? run scripts/setup.sh): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        SmtpServer {
            child,
            port,
            record: path("mails.jsonl"),
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let text = std::fs::read_to_string(&self.record).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
                ReceivedMail {
                    mail_from: v["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_to: v["rcpt_to"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect(),
                    data: v["data"].as_str().unwrap_or_default().to_owned(),
                    auth_user: v["auth_user"].as_str().map(str::to_owned),
                    tls: v["tls"].as_bool().unwrap_or(false),
                    peer_port: v["peer_port"].as_u64().unwrap_or(0) as u16,
                }
            })
            .collect()
    }

    /// Every AUTH command received so far (accepted or not): its mechanism
    /// (`PLAIN`, `LOGIN`) and whether the session was encrypted.
    pub fn auth_attempts(&self) -> Vec<(String, bool)> {
        let text =
            std::fs::read_to_string(self.record.with_file_name("auths.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
                (
                    v["mechanism"].as_str().unwrap_or_default().to_owned(),
                    v["tls"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }

    /// Waits up to `timeout` for at least `count` messages.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
