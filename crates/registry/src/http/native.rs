//! Herald's own JSON: `/v1/accounts[/{id}]`, `/v1/connector-types` and
//! `/v1/routes[/{id}]`, the gRPC `AccountRegistry` and `RouteRegistry`
//! calls over HTTP with the same fields (route durations as `5m`).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use herald_catalog::SecretMap;
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;
use crate::registry::{AccountInput, AccountView, MAX_PAGE_SIZE, RouteView};
use herald_config::RouteDocument;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", get(list))
        .route(
            "/v1/accounts/{id}",
            get(get_account).put(put_account).delete(delete_account),
        )
        .route("/v1/connector-types", get(connector_types))
        .route("/v1/routes", get(list_routes))
        .route(
            "/v1/routes/{id}",
            get(get_route).put(put_route).delete(delete_route),
        )
}

/// A route as readers see it: the route document (durations as `5m`)
/// with what the registry adds.
fn route_json(view: &RouteView) -> Value {
    let mut body = serde_json::to_value(&view.route).expect("a route serializes");
    let object = body.as_object_mut().expect("a route is an object");
    object.insert("preconfigured".into(), view.preconfigured.into());
    object.insert("version".into(), view.version.into());
    object.insert("created_at".into(), time(view.created_at));
    object.insert("updated_at".into(), time(view.updated_at));
    body
}

async fn get_route(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read routes")?;
    let view = state.registry.get_route(&id).await?;
    Ok(axum::Json(route_json(&view)).into_response())
}

/// Creates or replaces: the route document, and optionally the `version`
/// read before (0 or left out: unconditionally).
async fn put_route(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &[Role::Admin], "change routes")?;
    let mut body = json_object(body)?;
    let body_id = string_field(&mut body, "id")?;
    if !body_id.is_empty() && body_id != id {
        return Err(ApiError::invalid("id", "differs from the id in the path"));
    }
    let version = version_field(&mut body)?;
    let mut route: RouteDocument =
        serde_path_to_error::deserialize(Value::Object(body)).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::invalid(&field, e.inner().to_string())
        })?;
    route.id = id;
    let created = version == 0 && state.registry.get_route(&route.id).await.is_err();
    let view = state.registry.put_route(route, version).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(route_json(&view))).into_response())
}

async fn delete_route(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &[Role::Admin], "delete routes")?;
    let version = version_param(&query)?;
    state.registry.delete_route(&id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?page_size=&page_token=`, as `ListRoutes`.
async fn list_routes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "list routes")?;
    for key in query.keys() {
        if !matches!(key.as_str(), "page_size" | "page_token") {
            return Err(ApiError::invalid(
                herald_catalog::echo(key).as_ref(),
                "unknown query parameter (page_size, page_token)",
            ));
        }
    }
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let page_size = page_size_param(param("page_size"))?;
    let (routes, next_page_token) = state
        .registry
        .list_routes(page_size, param("page_token"))
        .await?;
    let routes: Vec<Value> = routes.iter().map(route_json).collect();
    Ok(axum::Json(json!({"routes": routes, "next_page_token": next_page_token})).into_response())
}

/// The body's optional `version`, 0 when absent.
fn version_field(body: &mut Map<String, Value>) -> Result<i64, ApiError> {
    match body.remove("version") {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_i64()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::invalid("version", "must be a whole number, 0 or more")),
    }
}

/// `?version=`, 0 when absent.
fn version_param(query: &HashMap<String, String>) -> Result<i64, ApiError> {
    match query.get("version") {
        None => Ok(0),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::invalid("version", "must be a whole number, 0 or more")),
    }
}

fn page_size_param(text: &str) -> Result<usize, ApiError> {
    match text {
        "" => Ok(0),
        text => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_PAGE_SIZE)
            .ok_or_else(|| ApiError::invalid("page_size", format!("must be 0..{MAX_PAGE_SIZE}"))),
    }
}

/// An account as readers see it: `secret_fields` names the secrets set,
/// never their values.
pub(super) fn account_json(view: &AccountView) -> Value {
    json!({
        "id": view.id,
        "connector_type": view.connector_type,
        "name": view.name,
        "config": view.config,
        "secret_fields": view.secret_fields,
        "preconfigured": view.preconfigured,
        "config_hidden": view.config_hidden,
        "version": view.version,
        "created_at": time(view.created_at),
        "updated_at": time(view.updated_at),
    })
}

/// RFC 3339, or null for preconfigured accounts (which have no times).
fn time(ms: i64) -> Value {
    if ms <= 0 {
        return Value::Null;
    }
    let t = prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    Value::String(t.to_string())
}

/// The body as a JSON object, or an error naming what is wrong with it.
pub(super) fn json_object(
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|r| ApiError::invalid("body", r.body_text()))?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("body", "must be a JSON object")),
        Err(e) => Err(ApiError::invalid("body", format!("not JSON: {e}"))),
    }
}

/// An optional object member, `{}` when absent or null.
pub(super) fn object_field(
    body: &mut Map<String, Value>,
    field: &str,
) -> Result<Map<String, Value>, ApiError> {
    match body.remove(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(ApiError::invalid(field, "must be an object")),
    }
}

/// An optional string member, empty when absent.
pub(super) fn string_field(body: &mut Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match body.remove(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::invalid(field, "must be a string")),
    }
}

/// No member left over that the surface does not know.
pub(super) fn no_other_fields(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.keys().next() {
        Some(key) => Err(ApiError::invalid(
            herald_catalog::echo(key).as_ref(),
            "unknown field",
        )),
        None => Ok(()),
    }
}

async fn get_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "read accounts")?;
    let view = state.registry.get(&id).await?;
    Ok(axum::Json(account_json(&view)).into_response())
}

/// Creates or replaces: `{connector_type, name, config, secrets, version,
/// config_hidden}`. A secret left out keeps its stored value, `null` removes
/// it; `config_hidden` left out keeps the stored flag.
async fn put_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &[Role::Admin], "change accounts")?;
    let mut body = json_object(body)?;
    let body_id = string_field(&mut body, "id")?;
    if !body_id.is_empty() && body_id != id {
        return Err(ApiError::invalid("id", "differs from the id in the path"));
    }
    let version = match body.remove("version") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::invalid("version", "must be a whole number, 0 or more"))?,
    };
    let config_hidden = match body.remove("config_hidden") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(hidden)) => Some(hidden),
        Some(_) => return Err(ApiError::invalid("config_hidden", "must be true or false")),
    };
    let input = AccountInput {
        connector_type: string_field(&mut body, "connector_type")?,
        name: string_field(&mut body, "name")?,
        config: object_field(&mut body, "config")?,
        secrets: SecretMap(object_field(&mut body, "secrets")?),
        id,
        version,
        config_hidden,
    };
    no_other_fields(&body)?;
    let created = input.version == 0 && state.registry.get(&input.id).await.is_err();
    let view = state.registry.put(input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(account_json(&view))).into_response())
}

async fn delete_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &[Role::Admin], "delete accounts")?;
    let version = match query.get("version") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::invalid("version", "must be a whole number, 0 or more"))?,
    };
    state.registry.delete(&id, version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?connector_type=&query=&page_size=&page_token=`, as `ListAccounts`.
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "list accounts")?;
    for key in query.keys() {
        if !matches!(
            key.as_str(),
            "connector_type" | "query" | "page_size" | "page_token"
        ) {
            return Err(ApiError::invalid(
                herald_catalog::echo(key).as_ref(),
                "unknown query parameter (connector_type, query, page_size, page_token)",
            ));
        }
    }
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let page_size = match param("page_size") {
        "" => 0,
        text => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_PAGE_SIZE)
            .ok_or_else(|| ApiError::invalid("page_size", format!("must be 0..{MAX_PAGE_SIZE}")))?,
    };
    let (accounts, next_page_token) = state
        .registry
        .list(
            Some(param("connector_type")),
            param("query"),
            page_size,
            param("page_token"),
        )
        .await?;
    let accounts: Vec<Value> = accounts.iter().map(account_json).collect();
    Ok(
        axum::Json(json!({"accounts": accounts, "next_page_token": next_page_token}))
            .into_response(),
    )
}

/// Every connector type with its config, secrets and params JSON Schemas.
async fn connector_types(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, READERS, "list connector types")?;
    let types: Vec<Value> = state
        .registry
        .connector_types()
        .map(|(spec, enabled)| {
            json!({
                "id": spec.id,
                "name": spec.name,
                "worker": spec.worker.binary(),
                "enabled": enabled,
                "config_schema": spec.config_schema,
                "secrets_schema": spec.secrets_schema,
                "params_schema": spec.params_schema,
                "secret_fields": spec.secret_fields(),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "connector_types": types })).into_response())
}
