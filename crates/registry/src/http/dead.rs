//! `/v1/dead-letters`: the actions that failed for good, listed and
//! replayed (after their account is fixed) as `heraldctl dead` does, through
//! the registry's NATS connection.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use herald_messaging::dead_letters::DeadLetters;
use herald_proto::status::ErrorCode;
use serde_json::{Value, json};

use super::native::{json_object, no_other_fields};
use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/dead-letters", get(list))
        .route("/v1/dead-letters/replay", post(replay))
}

/// The most dead letters one listing answers.
const MAX_LIMIT: usize = 1000;

fn stream(state: &AppState) -> Result<DeadLetters, ApiError> {
    state.registry.dead_letters().ok_or_else(|| ApiError {
        code: ErrorCode::Unavailable,
        message: "this registry has no NATS connection (HERALD_NATS_URL): dead letters are in NATS"
            .into(),
        field: String::new(),
    })
}

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "dead letters not read");
    ApiError {
        code: ErrorCode::Unavailable,
        message: error.to_string(),
        field: String::new(),
    }
}

/// Oldest first: `{"dead_letters": [...]}`.
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read dead letters")?;
    if let Some(key) = query
        .keys()
        .find(|k| !["connector_type", "limit"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            herald_catalog::echo(key).as_ref(),
            "unknown query parameter (connector_type, limit)",
        ));
    }
    let limit = match query.get("limit") {
        None => 100,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", format!("must be 1..{MAX_LIMIT}")))?,
    };
    let connector_type = connector_type(query.get("connector_type").map(String::as_str))?;
    let listing = stream(&state)?
        .list(connector_type, limit)
        .await
        .map_err(unavailable)?;
    let letters: Vec<Value> = listing.letters.iter().map(|d| d.to_json()).collect();
    Ok(axum::Json(json!({"dead_letters": letters})).into_response())
}

/// A catalog type id, dotted or not; unknown is bad input.
pub(super) fn connector_type(text: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => herald_connectors::catalog()
            .get(text)
            .map(|spec| Some(spec.id))
            .ok_or_else(|| {
                ApiError::invalid(
                    "connector_type",
                    format!("unknown connector type {}", herald_catalog::echo(text)),
                )
            }),
    }
}

/// `{"connector_type": T}`, `{"action_id": ID}` or `{"all": true}`: resubmits
/// those dead letters and removes them; answers what was replayed and what
/// was not, with why.
async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &[Role::Admin], "replay dead letters")?;
    let mut body = json_object(body)?;
    let text = |body: &mut serde_json::Map<String, Value>, field: &str| match body.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(field, "must be a string")),
    };
    let connector_type = text(&mut body, "connector_type")?;
    let action_id = text(&mut body, "action_id")?;
    let all = match body.remove("all") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(all)) => all,
        Some(_) => return Err(ApiError::invalid("all", "must be true or false")),
    };
    no_other_fields(&body)?;
    let chosen = [connector_type.is_some(), action_id.is_some(), all]
        .iter()
        .filter(|c| **c)
        .count();
    if chosen != 1 {
        return Err(ApiError::invalid(
            "body",
            "give exactly one of connector_type, action_id or all: true",
        ));
    }
    let connector_type = self::connector_type(connector_type.as_deref())?;
    let dead = stream(&state)?;
    let mut letters = dead
        .list(connector_type, usize::MAX)
        .await
        .map_err(unavailable)?
        .letters;
    if let Some(id) = &action_id {
        letters.retain(|d| d.action_id() == Some(id.as_str()));
        if letters.is_empty() {
            return Err(ApiError {
                code: ErrorCode::NotFound,
                message: format!(
                    "no dead letter for action {} (already replayed?)",
                    herald_catalog::echo(id)
                ),
                field: "action_id".into(),
            });
        }
    }
    let mut replayed = Vec::new();
    let mut errors = Vec::new();
    for letter in &letters {
        match dead.replay(letter).await {
            Ok(()) => replayed.push(letter.action_id().unwrap_or_default().to_owned()),
            Err(error) => errors.push(json!({
                "sequence": letter.sequence,
                "action_id": letter.action_id(),
                "error": error,
            })),
        }
    }
    tracing::info!(
        replayed = replayed.len(),
        failed = errors.len(),
        "dead letters replayed"
    );
    Ok(axum::Json(json!({"replayed": replayed, "errors": errors})).into_response())
}
