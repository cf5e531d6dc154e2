//! The delivery history over REST: `GET /v1/deliveries` (filtered, newest
//! first, a page at a time), `GET /v1/deliveries/counts` (per account or
//! connector type over a window) and `GET /v1/actions/{id}/attempts`. The
//! checks are the registry's ([`Registry::deliveries`]), as on gRPC.
//!
//! [`Registry::deliveries`]: crate::registry::Registry::deliveries

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{ApiError, AppState, READERS, authorize};
use crate::store::{CountBy, DeliveryCount, DeliveryFilter, DeliveryRow};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/deliveries", get(deliveries))
        .route("/v1/deliveries/counts", get(counts))
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
const COUNT_QUERY: &[&str] = &["by", "since", "until"];

fn time(ms: i64) -> Value {
    let t = prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    Value::String(t.to_string())
}

pub(super) fn row_json(r: &DeliveryRow) -> Value {
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

fn count_json(c: &DeliveryCount) -> Value {
    json!({
        "key": c.key,
        "delivered": c.delivered,
        "retrying": c.retrying,
        "failed": c.failed,
        "avg_latency_ms": c.avg_latency_ms,
        "max_latency_ms": c.max_latency_ms,
    })
}

/// An RFC 3339 time as milliseconds; the field is named when it is not one.
pub(super) fn millis(field: &str, text: &str) -> Result<i64, ApiError> {
    let t: prost_types::Timestamp = text
        .parse()
        .map_err(|_| ApiError::invalid(field, "not an RFC 3339 time (2026-01-31T08:00:00Z)"))?;
    Ok(t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
}

/// Refuses a query parameter not in `known`, naming it.
fn only(query: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match query.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(ApiError::invalid(
            herald_catalog::echo(key).as_ref(),
            format!("unknown query parameter ({})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// `since` and `until` in milliseconds, 0 when absent.
fn window(query: &HashMap<String, String>) -> Result<(i64, i64), ApiError> {
    let at = |name: &str| query.get(name).map_or(Ok(0), |t| millis(name, t));
    Ok((at("since")?, at("until")?))
}

/// `{"deliveries": [...], "next_page_token"}`, newest first.
async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read delivery history")?;
    only(&query, QUERY)?;
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let (since, until) = window(&query)?;
    let filter = DeliveryFilter {
        account_id: text("account_id"),
        connector_type: text("connector_type"),
        state: text("state"),
        alert_key: text("alert_key"),
        since,
        until,
    };
    let page_size = match query.get("page_size") {
        None => 0,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=crate::registry::MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| ApiError::invalid("page_size", "must be 1..1000"))?,
    };
    let page = state
        .registry
        .deliveries(filter, page_size, &text("page_token"))
        .await?;
    let deliveries: Vec<Value> = page.rows.iter().map(row_json).collect();
    Ok(
        axum::Json(json!({"deliveries": deliveries, "next_page_token": page.next_page_token}))
            .into_response(),
    )
}

/// `{"by", "since", "until", "counts": [...]}`, most attempts first; the
/// window is the last hour unless `since` says otherwise.
async fn counts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read delivery history")?;
    only(&query, COUNT_QUERY)?;
    let (by, by_name) = match query.get("by").map(String::as_str) {
        Some("account" | "account_id") => (CountBy::Account, "account"),
        Some("connector_type") => (CountBy::ConnectorType, "connector_type"),
        _ => return Err(ApiError::invalid("by", "account or connector_type")),
    };
    let (since, until) = window(&query)?;
    let (since, end) =
        crate::registry::counts_window(query.contains_key("since").then_some(since), until);
    let counts = state.registry.delivery_counts(by, since, until).await?;
    let counts: Vec<Value> = counts.iter().map(count_json).collect();
    Ok(axum::Json(json!({
        "by": by_name,
        "since": time(since),
        "until": time(end),
        "counts": counts,
    }))
    .into_response())
}

/// `{"action_id", "attempts": [...]}`, first attempt first; 404 when the
/// history holds none (unknown, or pruned).
async fn attempts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read delivery history")?;
    let rows = state.registry.attempts(&id).await?;
    let attempts: Vec<Value> = rows.iter().map(row_json).collect();
    Ok(axum::Json(json!({"action_id": id, "attempts": attempts})).into_response())
}
