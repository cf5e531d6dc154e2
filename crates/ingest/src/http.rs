//! The HTTP face of ingest (axum): `POST /v1/events`,
//! `GET /v1/actions/{action_id}`, the producers' webhooks
//! (`POST /v1/intake/alertmanager|grafana/{route}`) and the alerts
//! (`GET /v1/alerts[/{key}]`, `POST /v1/alerts/{key}/ack`) behind
//! bearer-token auth, and the open
//! `/healthz`, `/readyz` and `/metrics`. Errors answer
//! `{"error":{"code","message","field"}}` with the status that
//! `herald_proto::status` gives their code.

use std::future::Future;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use herald_proto::status::{ErrorCode, ServiceError};
use herald_proto::v1;
use herald_tls::ServerTls;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::auth::{AuthError, Tokens};
use crate::event::Event;
use crate::metrics::Via;
use crate::submit::{Accepted, IngestError, Ingestor, Origin, report};
use crate::webhooks::Producer;

#[derive(Clone)]
struct AppState {
    ingestor: Ingestor,
    tokens: Tokens,
}

/// The ingest API, plus `/metrics`, `/healthz` and `/readyz` from `health`
/// (`herald_metrics::router`).
pub fn router(ingestor: Ingestor, tokens: Tokens, health: Router) -> Router {
    let limit = ingestor.limits().max_event_bytes;
    Router::new()
        .route("/v1/events", post(submit))
        .route("/v1/actions/{action_id}", get(action_status))
        .route("/v1/intake/alertmanager/{route}", post(from_alertmanager))
        .route("/v1/intake/grafana/{route}", post(from_grafana))
        .route("/v1/alerts", get(list_alerts))
        .route("/v1/alerts/{key}", get(get_alert))
        .route("/v1/alerts/{key}/ack", post(ack_alert))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(AppState { ingestor, tokens })
        .merge(health)
}

/// Serves until `shutdown` resolves; over TLS only when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    ingestor: Ingestor,
    tokens: Tokens,
    health: Router,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    herald_tls::serve_http(router(ingestor, tokens, health), listener, tls, shutdown).await
}

/// The snake_case name of a code, for the `code` of an error body.
fn code_name(code: ErrorCode) -> &'static str {
    match code {
        // The size limits always answered `invalid_argument` (with 413).
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

fn error_body(status: StatusCode, code: &str, message: String, field: Option<&str>) -> Response {
    let body = json!({"error": {"code": code, "message": message, "field": field.unwrap_or("")}});
    (status, axum::Json(body)).into_response()
}

fn error_response(error: &IngestError) -> Response {
    let code = error.code();
    if code == ErrorCode::Internal {
        tracing::error!(%error, "ingest request failed");
    }
    let status = StatusCode::from_u16(code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_body(
        status,
        code_name(code),
        error.public_message(),
        error.field(),
    )
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), AuthError> {
    let header = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    crate::auth::authorize(&state.tokens, header).map(|_| ())
}

fn auth_response(error: AuthError) -> Response {
    tracing::debug!(%error, "HTTP request refused");
    let (status, code) = match error {
        AuthError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::PermissionDenied),
        _ => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated),
    };
    let mut response = error_body(status, code_name(code), error.to_string(), None);
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
    }
    response
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_rejection(&state, rejection),
    };
    let result = match Event::from_json(&body) {
        Ok(event) => {
            let origin = Origin {
                trace: herald_telemetry::extract_http(&headers),
                implicit_key: None,
            };
            state.ingestor.submit(&event, &origin).await
        }
        Err(violations) => Err(IngestError::Invalid(violations)),
    };
    report(state.ingestor.metrics(), Via::Http, &result);
    match result {
        Ok(accepted) => (
            StatusCode::ACCEPTED,
            axum::Json(submit_response_json(&accepted.response)),
        )
            .into_response(),
        Err(error) => error_response(&error),
    }
}

pub fn submit_response_json(response: &v1::SubmitResponse) -> Value {
    let actions: Vec<Value> = response
        .actions
        .iter()
        .map(|a| {
            json!({
                "action_id": a.action_id,
                "account_id": a.account_id,
                "connector_type": a.connector_type,
                "state": match v1::ActionState::try_from(a.state) {
                    Ok(v1::ActionState::Suppressed) => "suppressed",
                    _ => "queued",
                },
            })
        })
        .collect();
    json!({ "actions": actions })
}

async fn from_alertmanager(
    state: State<AppState>,
    headers: HeaderMap,
    route: Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    intake(Producer::Alertmanager, state, headers, route, body).await
}

async fn from_grafana(
    state: State<AppState>,
    headers: HeaderMap,
    route: Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    intake(Producer::Grafana, state, headers, route, body).await
}

/// A producer's webhook, as it sends it: each alert it carries is submitted
/// on the route, and the answer lists what each became.
async fn intake(
    producer: Producer,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(route_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_rejection(&state, rejection),
    };
    let route = match state.ingestor.route(&route_id).await {
        Ok(route) => route,
        Err(IngestError::Invalid(_)) => {
            return error_body(
                StatusCode::NOT_FOUND,
                code_name(ErrorCode::NotFound),
                format!("route {} does not exist", herald_catalog::echo(&route_id)),
                None,
            );
        }
        Err(error) => return error_response(&error),
    };
    let alerts = match crate::webhooks::alerts(producer, &route.id, route.grouping(), &body) {
        Ok(alerts) => alerts,
        Err(violations) => {
            let refused: Result<Accepted, IngestError> = Err(IngestError::Invalid(violations));
            report(state.ingestor.metrics(), Via::Http, &refused);
            return refused.map_or_else(|error| error_response(&error), |_| unreachable!());
        }
    };
    let origin = Origin {
        trace: herald_telemetry::extract_http(&headers),
        implicit_key: None,
    };
    let mut answered = Vec::with_capacity(alerts.len());
    for alert in alerts {
        let key = alert.key.clone();
        let event = Event {
            route: route.id.clone(),
            alert: Some(alert),
            ..Event::default()
        };
        let result = state.ingestor.submit(&event, &origin).await;
        report(state.ingestor.metrics(), Via::Http, &result);
        match result {
            Ok(accepted) => {
                let mut answer = submit_response_json(&accepted.response);
                answer["key"] = Value::String(key);
                answered.push(answer);
            }
            // The producer retries the whole notification; the alerts
            // taken before this one are then repeats, recorded as such.
            Err(error) => return error_response(&error),
        }
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "alerts": answered })),
    )
        .into_response()
}

/// A body that could not be read: over the size limit, or cut short.
fn body_rejection(state: &AppState, rejection: BytesRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let limit = state.ingestor.limits().max_event_bytes;
        tracing::info!(via = "http", limit, "event refused: over the size limit");
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            code_name(ErrorCode::InvalidArgument),
            format!(
                "the event is larger than the limit of {limit} bytes (HERALD_INGEST_MAX_EVENT_BYTES)"
            ),
            None,
        );
    }
    error_body(
        rejection.status(),
        code_name(ErrorCode::InvalidArgument),
        rejection.body_text(),
        None,
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsQuery {
    /// Only firing alerts.
    #[serde(default)]
    open: bool,
    #[serde(default)]
    limit: Option<usize>,
}

async fn list_alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<AlertsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    let Ok(axum::extract::Query(query)) = query else {
        return error_body(
            StatusCode::BAD_REQUEST,
            code_name(ErrorCode::InvalidArgument),
            "the query takes `open` (true or false) and `limit` (a number)".into(),
            None,
        );
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    match state.ingestor.alerts(query.open, limit).await {
        Ok(alerts) => {
            let alerts: Vec<Value> = alerts.iter().map(alert_state_json).collect();
            (StatusCode::OK, axum::Json(json!({ "alerts": alerts }))).into_response()
        }
        Err(error) => error_response(&error),
    }
}

async fn get_alert(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    match state.ingestor.alert(&key).await {
        Ok(alert) => (StatusCode::OK, axum::Json(alert_state_json(&alert))).into_response(),
        Err(error) => error_response(&error),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AckBody {
    #[serde(default)]
    by: String,
}

async fn ack_alert(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    let ack: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(ack) => ack,
            Err(error) => {
                return error_body(
                    StatusCode::BAD_REQUEST,
                    code_name(ErrorCode::InvalidArgument),
                    format!(
                        "the body is an object with an optional `by` (who acknowledges): {error}"
                    ),
                    Some("by"),
                );
            }
        }
    };
    match state.ingestor.ack(&key, &ack.by).await {
        Ok(alert) => (StatusCode::OK, axum::Json(alert_state_json(&alert))).into_response(),
        Err(error) => error_response(&error),
    }
}

fn strings(map: &std::collections::HashMap<String, String>) -> Value {
    let sorted: std::collections::BTreeMap<&String, &String> = map.iter().collect();
    json!(sorted)
}

/// An alert's lifecycle state as `GET /v1/alerts/{key}` answers it.
pub fn alert_state_json(state: &v1::AlertState) -> Value {
    let record = state.record.clone().unwrap_or_default();
    let alert = record.alert.clone().unwrap_or_default();
    let handles = |index: usize| {
        state
            .handles
            .iter()
            .find(|h| h.target as usize == index)
            .map_or(json!({}), |h| strings(&h.handles))
    };
    let targets: Vec<Value> = record
        .targets
        .iter()
        .enumerate()
        .map(|(index, t)| {
            json!({
                "account_id": t.account_id,
                "connector_type": t.connector_type,
                "opener_action_id": t.opener_action_id,
                "last_action_id": t.last_action_id,
                "last_sent_at": time(t.last_sent_at.as_ref()),
                "sent": t.sent,
                "handles": handles(index),
            })
        })
        .collect();
    let history: Vec<Value> = record
        .history
        .iter()
        .map(|h| json!({"at": time(h.at.as_ref()), "what": h.what, "action_ids": h.action_ids}))
        .collect();
    json!({
        "key": alert.key,
        "status": if alert.status == v1::AlertStatus::Resolved as i32 { "resolved" } else { "firing" },
        "acknowledged": record.acked_at.is_some(),
        "severity": alert.severity,
        "summary": alert.summary,
        "source": alert.source,
        "source_url": alert.source_url,
        "labels": strings(&alert.labels),
        "annotations": strings(&alert.annotations),
        "route": record.route,
        "cycle": record.cycle,
        "first_fired_at": time(record.first_fired_at.as_ref()),
        "last_received_at": time(record.last_received_at.as_ref()),
        "resolved_at": time(record.resolved_at.as_ref()),
        "acked_at": time(record.acked_at.as_ref()),
        "acked_by": record.acked_by,
        "received": record.received,
        "delivered": record.delivered,
        "suppressed": record.suppressed,
        "targets": targets,
        "history": history,
    })
}

async fn action_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(action_id): Path<String>,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return auth_response(error);
    }
    match state.ingestor.status(&action_id).await {
        Ok(status) => (StatusCode::OK, axum::Json(action_status_json(&status))).into_response(),
        Err(error) => error_response(&error),
    }
}

/// `queued`, `retrying`, `delivered`, `failed` (and `unspecified`).
fn state_name(state: i32) -> String {
    let name = v1::ActionState::try_from(state)
        .unwrap_or(v1::ActionState::Unspecified)
        .as_str_name();
    name.trim_start_matches("ACTION_STATE_")
        .to_ascii_lowercase()
}

/// `network`, `vendor_rejected`, ...; empty when unspecified.
fn error_kind_name(kind: i32) -> String {
    match v1::ErrorKind::try_from(kind) {
        Ok(v1::ErrorKind::Unspecified) | Err(_) => String::new(),
        Ok(kind) => kind
            .as_str_name()
            .trim_start_matches("ERROR_KIND_")
            .to_ascii_lowercase(),
    }
}

fn time(t: Option<&prost_types::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn vendor_json(v: Option<&v1::VendorResponse>) -> Value {
    v.map_or(
        Value::Null,
        |v| json!({"status": v.status, "body": v.body, "request_id": v.request_id}),
    )
}

pub fn action_status_json(s: &v1::ActionStatus) -> Value {
    let history: Vec<Value> = s
        .history
        .iter()
        .map(|a| {
            json!({
                "number": a.number,
                "state": state_name(a.state),
                "error_kind": error_kind_name(a.error_kind),
                "error": a.error,
                "started_at": time(a.started_at.as_ref()),
                "finished_at": time(a.finished_at.as_ref()),
                "vendor_response": vendor_json(a.vendor_response.as_ref()),
            })
        })
        .collect();
    let handles: serde_json::Map<String, Value> = s
        .handles
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "action_id": s.action_id,
        "state": state_name(s.state),
        "attempts": s.attempts,
        "last_error": s.last_error,
        "last_error_kind": error_kind_name(s.last_error_kind),
        "account_id": s.account_id,
        "connector_type": s.connector_type,
        "handles": handles,
        "accepted_at": time(s.accepted_at.as_ref()),
        "updated_at": time(s.updated_at.as_ref()),
        "history": history,
    })
}
