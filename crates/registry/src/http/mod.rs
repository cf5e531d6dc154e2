//! The registry's REST listener (`HERALD_REGISTRY_HTTP_ADDR`): the same
//! bearer tokens and roles as its gRPC service, over the same [`Registry`].
//! One file per surface; `native.rs` is Herald's own JSON. Errors answer
//! ingest's body, `{"error":{"code","message","field"}}`, with the status
//! `herald_proto::status` gives their code. Secrets are write-only here.
//! The web console (`console/`) shares the listener: pages at `/`, not
//! REST API.

mod console;
mod dead;
mod history;
mod kibana;
mod native;
mod signals;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_proto::status::{ErrorCode, ServiceError};
use herald_tls::ServerTls;
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::{Role, Tokens};
use crate::execute::Executor;
use crate::registry::{Registry, RegistryError};

/// The roles that may read accounts and connector types, as on gRPC.
const READERS: &[Role] = &[Role::Admin, Role::Producer, Role::Service];
/// Largest request body: an account is a few kilobytes.
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
struct AppState {
    registry: Arc<Registry>,
    tokens: Tokens,
    /// Runs Kibana's `_execute` through ingest.
    executor: Arc<Executor>,
    /// Signs the console's session cookies.
    console: console::SessionKeys,
}

/// Every REST surface of the registry, and the console; `tls` says the
/// listener serves HTTPS (the console's cookies are then `Secure`).
pub fn router(
    registry: Arc<Registry>,
    tokens: Tokens,
    executor: Arc<Executor>,
    tls: bool,
) -> Router {
    let console_keys = console::SessionKeys::new(registry.console_key(), tls);
    native::routes()
        .merge(dead::routes())
        .merge(history::routes())
        .merge(kibana::routes())
        .merge(signals::routes())
        .merge(console::routes())
        .route("/v1/openapi.json", axum::routing::get(openapi))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState {
            registry,
            tokens,
            executor,
            console: console_keys,
        })
}

/// The OpenAPI document of every route above, checked in as
/// `crates/registry/openapi.json`. It describes the API and holds nothing
/// secret, so it is served without a token.
const OPENAPI: &str = include_str!("../../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Serves until `shutdown` resolves; over TLS only when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    tokens: Tokens,
    executor: Arc<Executor>,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(registry, tokens, executor, tls.is_some());
    herald_tls::serve_http(router, listener, tls, shutdown).await
}

/// An error answer in ingest's body; `field` names the part of the request
/// at fault when one is.
#[derive(Debug)]
struct ApiError {
    code: ErrorCode,
    message: String,
    field: String,
}

impl ApiError {
    fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: ErrorCode::InvalidArgument,
            message: format!("{field}: {}", message.into()),
            field: field.to_owned(),
        }
    }
}

/// The snake_case name of a code, as ingest writes it.
fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidArgument | ErrorCode::TooLarge => "invalid_argument",
        ErrorCode::NotFound => "not_found",
        ErrorCode::AlreadyExists => "already_exists",
        ErrorCode::Aborted => "aborted",
        ErrorCode::FailedPrecondition => "failed_precondition",
        ErrorCode::Unauthenticated => "unauthenticated",
        ErrorCode::PermissionDenied => "permission_denied",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::Internal => "internal",
    }
}

impl From<RegistryError> for ApiError {
    /// Logs what the caller will not see, once, where it is handled.
    fn from(error: RegistryError) -> ApiError {
        let code = error.code();
        if code == ErrorCode::Internal || code == ErrorCode::Unavailable {
            tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "registry REST call failed");
        }
        let field = match &error {
            RegistryError::Invalid(v) | RegistryError::InvalidRoute(v) => {
                v.iter().next().map(|v| v.path.clone())
            }
            RegistryError::BadQuery { field, .. } => Some(field.clone()),
            _ => None,
        };
        ApiError {
            code,
            message: error.public_message(),
            field: field.unwrap_or_default(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error": {
            "code": code_name(self.code),
            "message": self.message,
            "field": self.field,
        }});
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        response
    }
}

/// The caller's role from `authorization: Bearer`, refused unless it is one
/// of `allowed`.
fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    allowed: &[Role],
    action: &str,
) -> Result<Role, ApiError> {
    let header = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let role = state.tokens.identify(header).map_err(|e| ApiError {
        code: ErrorCode::Unauthenticated,
        message: e.to_string(),
        field: String::new(),
    })?;
    if allowed.contains(&role) {
        Ok(role)
    } else {
        Err(ApiError {
            code: ErrorCode::PermissionDenied,
            message: format!("the {} role may not {action}", role.name()),
            field: String::new(),
        })
    }
}
