//! The delivery history over REST: `GET /v1/deliveries` (filtered, newest
//! first, a page at a time) and `GET /v1/actions/{id}/attempts`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{ApiError, AppState, READERS, authorize};
use crate::store::{After, DeliveryFilter, DeliveryRow};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/deliveries", get(deliveries))
        .route("/v1/actions/{id}/attempts", get(attempts))
}

const QUERY: &[&str] = &[
    "account_id",
    "connector_type",
    "state",
    "alert_key",
    "since",
    "until",
    "page_size",
    "page_token",
];
pub(super) const STATES: &[&str] = &["delivered", "retrying", "failed"];

fn time(ms: i64) -> Value {
    let t = prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    Value::String(t.to_string())
}

fn row_json(r: &DeliveryRow) -> Value {
    let handles: Value = serde_json::from_str(&r.handles).unwrap_or_else(|_| json!({}));
    json!({
        "action_id": r.action_id,
        "attempt": r.attempt,
        "event_id": r.event_id,
        "account_id": r.account_id,
        "connector_type": r.connector_type,
        "alert_key": r.alert_key,
        "state": r.state,
        "error_kind": r.error_kind,
        "error": r.error,
        "vendor_status": r.vendor_status,
        "vendor_excerpt": r.vendor_excerpt,
        "handles": handles,
        "latency_ms": r.latency_ms,
        "trace_id": r.trace_id,
        "started_at": time(r.started_at),
        "finished_at": time(r.finished_at),
    })
}

/// An RFC 3339 time as milliseconds; the field is named when it is not one.
fn millis(field: &str, text: &str) -> Result<i64, ApiError> {
    let t: prost_types::Timestamp = text
        .parse()
        .map_err(|_| ApiError::invalid(field, "not an RFC 3339 time (2026-01-31T08:00:00Z)"))?;
    Ok(t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
}

/// `<finished ms>.<attempt>.<action id>` of the page's last row.
pub(super) fn page_token(r: &DeliveryRow) -> String {
    format!("{}.{}.{}", r.finished_at, r.attempt, r.action_id)
}

pub(super) fn after(token: &str) -> Result<After, ApiError> {
    let bad = || ApiError::invalid("page_token", "not a page token this API gave");
    let mut parts = token.splitn(3, '.');
    let finished_at = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let attempt = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let action_id = parts.next().filter(|p| !p.is_empty()).ok_or_else(bad)?;
    Ok(After {
        finished_at,
        action_id: action_id.to_owned(),
        attempt,
    })
}

/// `{"deliveries": [...], "next_page_token"}`, newest first.
async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read delivery history")?;
    if let Some(key) = query.keys().find(|k| !QUERY.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            herald_catalog::echo(key).as_ref(),
            format!("unknown query parameter ({})", QUERY.join(", ")),
        ));
    }
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let state_filter = text("state");
    if !state_filter.is_empty() && !STATES.contains(&state_filter.as_str()) {
        return Err(ApiError::invalid(
            "state",
            format!("one of {}", STATES.join(", ")),
        ));
    }
    let connector_type = match text("connector_type").as_str() {
        "" => String::new(),
        t => herald_connectors::catalog()
            .get(t)
            .map(|spec| spec.id.to_owned())
            .ok_or_else(|| ApiError::invalid("connector_type", "unknown connector type"))?,
    };
    let filter = DeliveryFilter {
        account_id: text("account_id"),
        connector_type,
        state: state_filter,
        alert_key: text("alert_key"),
        since: match query.get("since") {
            Some(t) => millis("since", t)?,
            None => 0,
        },
        until: match query.get("until") {
            Some(t) => millis("until", t)?,
            None => 0,
        },
    };
    let page_size: i64 = match query.get("page_size") {
        None => 100,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::invalid("page_size", "must be 1..1000"))?,
    };
    let after = match query.get("page_token").filter(|t| !t.is_empty()) {
        Some(token) => Some(self::after(token)?),
        None => None,
    };
    let mut rows = state
        .registry
        .store()
        .deliveries(&filter, after.as_ref(), page_size + 1)
        .await
        .map_err(crate::registry::RegistryError::from)?;
    let next = if rows.len() as i64 > page_size {
        rows.truncate(page_size as usize);
        rows.last().map(page_token).unwrap_or_default()
    } else {
        String::new()
    };
    let deliveries: Vec<Value> = rows.iter().map(row_json).collect();
    Ok(axum::Json(json!({"deliveries": deliveries, "next_page_token": next})).into_response())
}

/// `{"action_id", "attempts": [...]}`, first attempt first; 404 when the
/// history holds none (unknown, or pruned).
async fn attempts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read delivery history")?;
    let rows = state
        .registry
        .store()
        .attempts(&id)
        .await
        .map_err(crate::registry::RegistryError::from)?;
    if rows.is_empty() {
        return Err(ApiError {
            code: herald_proto::status::ErrorCode::NotFound,
            message: format!(
                "the history holds no attempt of action {} (unknown, not ended yet, or past HERALD_HISTORY_TTL)",
                herald_catalog::echo(&id)
            ),
            field: String::new(),
        });
    }
    let attempts: Vec<Value> = rows.iter().map(row_json).collect();
    Ok(axum::Json(json!({"action_id": id, "attempts": attempts})).into_response())
}
