//! Kibana's connector API (`/api/actions/...`), bodies and answers as
//! Kibana documents them, so a script written for Kibana runs against
//! Herald with only its address and token changed. Errors answer Kibana's
//! body, `{statusCode, error, message}`; writes need Kibana's `kbn-xsrf`
//! header, as in Kibana. `_execute` runs one action through ingest
//! (`crate::execute`) and answers Kibana's run result.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use herald_catalog::SecretMap;
use herald_proto::status::ErrorCode;
use serde_json::{Value, json};

use super::native::{json_object, no_other_fields, object_field, string_field};
use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;
use crate::execute::{ExecuteError, Execution};
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
        .route(
            "/api/actions/connector/{id}/_execute",
            post(execute_connector),
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
        // Not in Kibana's or Signals' documents: the stored flag stays.
        config_hidden: None,
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
        // Not in Kibana's or Signals' documents: the stored flag stays.
        config_hidden: None,
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

/// `{params}`: runs one action for the connector through ingest, as the
/// caller (admins only, as Kibana's other writes), and answers when it has
/// been delivered or has failed, or after the timeout (HERALD_EXECUTE_TIMEOUT,
/// 60 s by default): `{status: "ok", connector_id, data}` with what the
/// worker recorded, or `{status: "error", connector_id, message,
/// service_message?, retry}`, both `200` as in Kibana. Any of the account's
/// secret values in the answer (a vendor echoing a credential) is
/// replaced by `[redacted]`.
async fn execute_connector(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, KibanaError> {
    authorize(&state, &headers, &[Role::Admin], "run connectors")?;
    xsrf(&headers)?;
    let mut body = json_object(body)?;
    let params = match body.remove("params") {
        Some(Value::Object(params)) => params,
        None | Some(Value::Null) => return Err(ApiError::invalid("params", "required").into()),
        Some(_) => return Err(ApiError::invalid("params", "must be an object").into()),
    };
    no_other_fields(&body)?;
    // Its secrets only to keep them out of the answer.
    let account = state.registry.resolve(&id).await?;
    // `authorize` accepted the header, so it is a valid token.
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::invalid("authorization", "not a valid header value"))?;
    let execution = state
        .executor
        .run(&authorization, &id, &params)
        .await
        .map_err(execute_error)?;
    let mut answer = match execution {
        Execution::Delivered { handles } => {
            json!({"status": "ok", "connector_id": id, "data": handles})
        }
        Execution::Failed {
            reason,
            vendor_message,
        } => run_error(&id, reason, vendor_message, false),
        Execution::Pending {
            action_id,
            state: action_state,
            attempts,
            last_error,
            vendor_message,
        } => {
            let state_name = action_state
                .as_str_name()
                .trim_start_matches("ACTION_STATE_")
                .to_lowercase();
            let mut reason = format!(
                "action {action_id} did not end within {:?} (HERALD_EXECUTE_TIMEOUT): it is {state_name} after {attempts} attempt(s); follow it with GET /v1/actions/{action_id} on ingest",
                state.executor.timeout(),
            );
            if !last_error.is_empty() {
                reason = format!("{reason}; last error: {last_error}");
            }
            run_error(&id, reason, vendor_message, true)
        }
    };
    redact(&mut answer, &secret_texts(&account.secrets));
    Ok(axum::Json(answer).into_response())
}

fn run_error(id: &str, message: String, service_message: Option<String>, retry: bool) -> Value {
    let mut answer = json!({
        "status": "error",
        "connector_id": id,
        "message": message,
        "retry": retry,
    });
    if let Some(service_message) = service_message {
        answer["service_message"] = service_message.into();
    }
    answer
}

fn execute_error(error: ExecuteError) -> KibanaError {
    let code = match &error {
        ExecuteError::Unavailable { .. } | ExecuteError::Refused { .. } => ErrorCode::Unavailable,
        ExecuteError::NotFound(_) => ErrorCode::NotFound,
        ExecuteError::Internal(_) => ErrorCode::Internal,
    };
    if code != ErrorCode::NotFound {
        tracing::error!(error = %error, "_execute could not run the action");
    }
    KibanaError(ApiError {
        code,
        message: error.to_string(),
        field: String::new(),
    })
}

/// Every string among the secrets' values (nested ones too).
pub(super) fn secret_texts(secrets: &SecretMap) -> Vec<String> {
    fn collect(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::String(s) if !s.is_empty() => into.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| collect(v, into)),
            Value::Object(map) => map.values().for_each(|v| collect(v, into)),
            _ => {}
        }
    }
    let mut texts = Vec::new();
    secrets.values().for_each(|v| collect(v, &mut texts));
    // Longest first, so a secret holding another is replaced whole.
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    texts
}

/// Replaces each of `secrets` in every string of `value`.
fn redact(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(text) => {
            for secret in secrets {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), "[redacted]");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| redact(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_redacted_wherever_they_appear() {
        let secrets = SecretMap(
            json!({"password": "hunter2-long", "nested": {"token": "tok-9"}, "n": 5})
                .as_object()
                .cloned()
                .unwrap(),
        );
        let mut answer = json!({
            "message": "the webhook answered 400: bad password hunter2-long",
            "data": {"echo": ["tok-9", "fine"]},
        });
        redact(&mut answer, &secret_texts(&secrets));
        assert_eq!(
            answer,
            json!({
                "message": "the webhook answered 400: bad password [redacted]",
                "data": {"echo": ["[redacted]", "fine"]},
            })
        );
    }
}
