//! Talking to Herald: gRPC clients that carry the bearer token, the mapping
//! from gRPC status codes to exit codes, and reading documents (YAML or
//! JSON, from a file, stdin or an argument).

use std::path::{Path, PathBuf};

use herald_proto::v1::account_registry_client::AccountRegistryClient;
use herald_proto::v1::history_client::HistoryClient;
use herald_proto::v1::ingest_client::IngestClient;
use herald_proto::v1::route_registry_client::RouteRegistryClient;
use herald_tls::{ClientTls, PemFile, cleartext_warning, error_chain};
use serde_json::Value;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::Global;

/// The exit codes documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Herald = 1,
    Usage = 2,
    NotFound = 3,
    ActionFailed = 4,
}

/// Why a command did not succeed, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    pub fn herald(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Herald,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::NotFound,
            message: message.into(),
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Failure {
        use tonic::Code;
        let exit = match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::Aborted => Exit::Usage,
            Code::NotFound => Exit::NotFound,
            _ => Exit::Herald,
        };
        let message = match status.code() {
            Code::Unavailable => format!("Herald unreachable: {}", status.message()),
            Code::Unauthenticated | Code::PermissionDenied => format!(
                "{} (give a token with --token or HERALD_TOKEN)",
                status.message()
            ),
            _ => status.message().to_owned(),
        };
        Failure { exit, message }
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Registry = AccountRegistryClient<InterceptedService<Channel, Bearer>>;
pub type Routes = RouteRegistryClient<InterceptedService<Channel, Bearer>>;
pub type History = HistoryClient<InterceptedService<Channel, Bearer>>;
pub type Ingest = IngestClient<InterceptedService<Channel, Bearer>>;

/// The token from `--token` / `HERALD_TOKEN`, else the admin token that
/// `heraldctl up` wrote to `./herald-data/tokens.env`.
fn token(g: &Global) -> Result<Bearer, Failure> {
    let token = g.token.clone().or_else(|| {
        let text = std::fs::read_to_string("herald-data/tokens.env").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("HERALD_ADMIN_TOKEN="))
            .map(str::to_owned)
    });
    match token {
        None => Ok(Bearer(None)),
        Some(t) => format!("Bearer {}", t.trim())
            .parse()
            .map(|v| Bearer(Some(v)))
            .map_err(|_| Failure::usage("--token: not a valid header value")),
    }
}

/// What https:// URLs trust and present: `--ca-file`, `--client-cert`,
/// `--client-key` (or their variables). Errors name the flag.
pub fn client_tls(g: &Global) -> Result<ClientTls, Failure> {
    let file = |flag: &str, var: &str, path: &Option<PathBuf>| {
        path.as_ref()
            .map(|path| PemFile::new(format!("{flag} ({var})"), path))
    };
    ClientTls::new(
        file("--ca-file", herald_tls::CA_FILE, &g.ca_file).as_ref(),
        file(
            "--client-cert",
            herald_tls::CLIENT_CERT_FILE,
            &g.client_cert,
        )
        .as_ref(),
        file("--client-key", herald_tls::CLIENT_KEY_FILE, &g.client_key).as_ref(),
    )
    .map_err(|e| Failure::usage(e.to_string()))
}

async fn channel(g: &Global, url: &str, flag: &str) -> Result<Channel, Failure> {
    if let Some(warning) = cleartext_warning(flag, url) {
        eprintln!("heraldctl: warning: {warning}");
    }
    client_tls(g)?
        .endpoint(flag, url)
        .map_err(|e| Failure::usage(e.to_string()))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| Failure::herald(format!("cannot reach {url} ({flag}): {}", error_chain(&e))))
}

pub async fn registry(g: &Global) -> Result<Registry, Failure> {
    let channel = channel(g, &g.registry_url, "--registry-url").await?;
    Ok(AccountRegistryClient::with_interceptor(channel, token(g)?))
}

pub async fn routes(g: &Global) -> Result<Routes, Failure> {
    let channel = channel(g, &g.registry_url, "--registry-url").await?;
    Ok(RouteRegistryClient::with_interceptor(channel, token(g)?))
}

pub async fn history(g: &Global) -> Result<History, Failure> {
    let channel = channel(g, &g.registry_url, "--registry-url").await?;
    Ok(HistoryClient::with_interceptor(channel, token(g)?))
}

pub async fn ingest(g: &Global) -> Result<Ingest, Failure> {
    let channel = channel(g, &g.ingest_url, "--ingest-url").await?;
    Ok(IngestClient::with_interceptor(channel, token(g)?))
}

/// Reads a YAML or JSON document (JSON is YAML); `-` is stdin.
pub fn read_document(path: &str) -> Result<Value, Failure> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("stdin: {e}")))?
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{path}: {e}")))?
    };
    parse_document(&text).map_err(|e| Failure::usage(format!("{path}: {e}")))
}

pub fn parse_document(text: &str) -> Result<Value, String> {
    serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
}

/// A JSON object given inline or as `@file` (YAML or JSON), for `flag`.
pub fn object_argument(flag: &str, text: &str) -> Result<serde_json::Map<String, Value>, Failure> {
    let value = match text.strip_prefix('@') {
        Some(path) => read_document(path)?,
        None => parse_document(text).map_err(|e| Failure::usage(format!("{flag}: {e}")))?,
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Failure::usage(format!(
            "{flag}: must be an object, not {other}"
        ))),
    }
}

/// The file name without its extensions (`ops.slack.json` gives `ops.slack`).
pub fn file_stem(path: &str) -> String {
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".json", ".yaml", ".yml"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    name
}
