//! Kibana's connector API (`/api/actions/...`), bodies and answers as
//! Kibana documents them, so a script written for Kibana runs against
//! Herald with only its address and token changed. Errors answer Kibana's
//! body, `{statusCode, error, message}`; writes need Kibana's `kbn-xsrf`
//! header, as in Kibana. `_execute` (running one action) is not built yet.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use herald_catalog::SecretMap;
use serde_json::{Value, json};

use super::native::{json_object, no_other_fields, object_field, string_field};
use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;
use crate::registry::{AccountInput, AccountView, MAX_PAGE_SIZE};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/actions/connector/{id}",
            get(get_connector)
                .post(create_connector)
                .put(update_connector)
                .delete(delete_connector),
        )
        .route("/api/actions/connectors", get(list_connectors))
        .route("/api/actions/connector_types", get(connector_types))
}

/// An error in Kibana's body; the message is the native one (it names the
/// field and never holds a secret).
struct KibanaError(ApiError);

impl From<ApiError> for KibanaError {
    fn from(error: ApiError) -> KibanaError {
        KibanaError(error)
    }
}

impl From<crate::registry::RegistryError> for KibanaError {
    fn from(error: crate::registry::RegistryError) -> KibanaError {
        KibanaError(error.into())
    }
}

impl IntoResponse for KibanaError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Kibana answers 400 for a change to a preconfigured connector.
        let status = if self.0.code == herald_proto::status::ErrorCode::FailedPrecondition {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        let body = json!({
            "statusCode": status.as_u16(),
            "error": status.canonical_reason().unwrap_or("Error"),
            "message": self.0.message,
        });
        (status, axum::Json(body)).into_response()
    }
}

/// A connector as Kibana's GET answers it: never its secrets.
fn connector_json(view: &AccountView) -> Value {
    json!({
        "id": view.id,
        "name": view.name,
        "connector_type_id": format!(".{}", view.connector_type),
        "config": view.config,
        "is_preconfigured": view.preconfigured,
        "is_deprecated": false,
        "is_missing_secrets": false,
        "is_system": false,
    })
}

/// Kibana refuses a write without `kbn-xsrf` (any value), against
/// cross-site requests from a browser.
fn xsrf(headers: &HeaderMap) -> Result<(), KibanaError> {
    if headers.contains_key("kbn-xsrf") {
        Ok(())
    } else {
        Err(ApiError::invalid("kbn-xsrf", "Request must contain a kbn-xsrf header.").into())
    }
}

async fn get_connector(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, READERS, "read connectors")?;
    let view = state.registry.get(&id).await?;
    Ok(axum::Json(connector_json(&view)).into_response())
}

/// `{name, connector_type_id, config, secrets}`; an existing id is a conflict.
async fn create_connector(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, &[Role::Admin], "create connectors")?;
    xsrf(&headers)?;
    let mut body = json_object(body)?;
    let input = AccountInput {
        connector_type: string_field(&mut body, "connector_type_id")?,
        name: string_field(&mut body, "name")?,
        config: object_field(&mut body, "config")?,
        secrets: SecretMap(object_field(&mut body, "secrets")?),
        id,
        version: 0,
    };
    no_other_fields(&body)?;
    if input.connector_type.is_empty() {
        return Err(ApiError::invalid("connector_type_id", "required").into());
    }
    if state.registry.get(&input.id).await.is_ok() {
        return Err(ApiError {
            code: herald_proto::status::ErrorCode::AlreadyExists,
            message: format!(
                "connector {} already exists",
                herald_catalog::echo(&input.id)
            ),
            field: "id".into(),
        }
        .into());
    }
    let view = state.registry.put(input).await?;
    Ok(axum::Json(connector_json(&view)).into_response())
}

/// `{name, config, secrets}`: the type stays; a secret left out keeps its
/// stored value (Kibana asks for all of them again; both work here).
async fn update_connector(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, &[Role::Admin], "update connectors")?;
    xsrf(&headers)?;
    let mut body = json_object(body)?;
    let current = state.registry.get(&id).await?;
    let input = AccountInput {
        connector_type: current.connector_type.to_owned(),
        name: string_field(&mut body, "name")?,
        config: object_field(&mut body, "config")?,
        secrets: SecretMap(object_field(&mut body, "secrets")?),
        version: current.version,
        id,
    };
    no_other_fields(&body)?;
    let view = state.registry.put(input).await?;
    Ok(axum::Json(connector_json(&view)).into_response())
}

async fn delete_connector(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, &[Role::Admin], "delete connectors")?;
    xsrf(&headers)?;
    state.registry.delete(&id, 0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every connector, stored and preconfigured, as one array (Kibana does
/// not page this call).
async fn list_connectors(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, READERS, "list connectors")?;
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = state.registry.list(None, "", MAX_PAGE_SIZE, &token).await?;
        all.extend(page.iter().map(|view| {
            let mut connector = connector_json(view);
            connector["referenced_by_count"] = 0.into();
            connector
        }));
        if next.is_empty() {
            break;
        }
        token = next;
    }
    Ok(axum::Json(Value::Array(all)).into_response())
}

/// Kibana's connector type list; Herald has no licence levels, so every
/// type is enabled in licence at `basic`.
async fn connector_types(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, READERS, "list connector types")?;
    let types: Vec<Value> = state
        .registry
        .connector_types()
        .map(|(spec, enabled)| {
            json!({
                "id": format!(".{}", spec.id),
                "name": spec.name,
                "enabled": enabled,
                "enabled_in_config": enabled,
                "enabled_in_license": true,
                "minimum_license_required": "basic",
                "supported_feature_ids": ["alerting"],
                "is_system_action_type": false,
            })
        })
        .collect();
    Ok(axum::Json(Value::Array(types)).into_response())
}
