//! Test: one action for an account through the real pipeline (ingest's
//! `Submit`, the worker, the vendor), as Kibana's connector "Test" tab
//! does, then its state, attempts and the vendor's answer from the
//! history. The params form comes from the type's params schema. Admin and
//! producer may test (a producer submits events anyway).

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::super::AppState;
use super::accounts::registry_error;
use super::deliveries::{attempts_table, state_word};
use super::html::{self, Nav, csrf_field, esc, url_part};
use super::session::Session;
use super::{form, redact};
use crate::execute::{Execution, Run};
use crate::registry::AccountView;
use crate::store::DeliveryRow;

/// How long the page waits for the history to hold the ended attempt
/// (the registry writes it from the RESULTS stream, in batches).
const HISTORY_WAIT: Duration = Duration::from_secs(3);

fn params_fields(view: &AccountView) -> Vec<form::Field> {
    let spec = herald_connectors::catalog()
        .get(view.connector_type)
        .expect("a stored account's type is in the catalog");
    form::fields(&spec.params_schema, "params", true)
}

fn test_page(
    session: &Session,
    view: &AccountView,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    result: &str,
    status: StatusCode,
) -> Response {
    let fields = params_fields(view);
    let body = format!(
        "<p>Sends one action to <a href=\"/accounts/{path}\">{name}</a> (<code>{ty}</code>) through ingest \
         and the worker, like any event, and shows how it ended. Params are templates, as in an event.</p>\
         {result}<form class=\"card\" method=\"post\" action=\"/accounts/{path}/test\" data-busy=\"Sending…\">{csrf}\
         <fieldset><legend>Params</legend>{fields}</fieldset>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Send test</button></div></form>",
        path = esc(&url_part(&view.id)),
        name = esc(&view.name),
        ty = esc(view.connector_type),
        csrf = csrf_field(session),
        fields = form::render(&fields, values, errors),
    );
    html::page_with_status(
        status,
        Some(session),
        Nav::Accounts,
        &format!("Test {}", view.name),
        &body,
    )
}

pub(super) async fn form(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let view = match state.registry.get(&id).await {
        Ok(view) => view,
        Err(error) => return registry_error(&session, error),
    };
    let spec = herald_connectors::catalog().get(view.connector_type);
    let mut values = HashMap::new();
    if let Some(Value::Object(params)) = spec
        .and_then(|s| s.test_params)
        .map(|p| p("Test message from the Herald console"))
    {
        form::values(&params_fields(&view), &params, &mut values);
    }
    test_page(
        &session,
        &view,
        &values,
        &HashMap::new(),
        "",
        StatusCode::OK,
    )
}

/// The history's attempts of `action_id` once the last one has ended the
/// action (delivered or failed), or what it holds after [`HISTORY_WAIT`].
async fn attempts(state: &AppState, action_id: &str, settled: bool) -> Vec<DeliveryRow> {
    let deadline = tokio::time::Instant::now() + HISTORY_WAIT;
    loop {
        let rows = state
            .registry
            .store()
            .attempts(action_id)
            .await
            .unwrap_or_default();
        let ended = rows
            .last()
            .is_some_and(|r| !settled || r.state != "retrying");
        if ended || tokio::time::Instant::now() >= deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn send(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let view = match state.registry.get(&id).await {
        Ok(view) => view,
        Err(error) => return registry_error(&session, error),
    };
    let fields = params_fields(&view);
    let mut problems = Vec::new();
    let params = form::read(&fields, &form, &mut problems);
    let values = form.into_map();
    let placed = |problems: &[(String, String)]| -> HashMap<String, String> {
        problems
            .iter()
            .filter_map(|(path, message)| {
                form::field_of(&fields, path).map(|field| (field, message.clone()))
            })
            .collect()
    };
    if !problems.is_empty() {
        let errors = placed(&problems);
        return test_page(
            &session,
            &view,
            &values,
            &errors,
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let Some(bearer) = session.bearer() else {
        return html::error_page(
            Some(&session),
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session's token cannot be sent as a header",
        );
    };
    let run = match state.executor.run_action(&bearer, &view.id, &params).await {
        Ok(run) => run,
        Err(error) => {
            tracing::warn!(%error, account = %view.id, "console test not run");
            return html::error_page(
                Some(&session),
                StatusCode::SERVICE_UNAVAILABLE,
                &error.to_string(),
            );
        }
    };
    let Run {
        action_id,
        execution,
    } = run;
    let (headline, settled, vendor_message) = match &execution {
        Execution::Delivered { .. } => (state_word("delivered"), true, None),
        Execution::Failed {
            reason,
            vendor_message,
        } => (
            format!("{} — {}", state_word("failed"), esc(reason)),
            true,
            vendor_message.clone(),
        ),
        Execution::Pending {
            state: pending,
            attempts,
            last_error,
            vendor_message,
            ..
        } => (
            format!(
                "{} after {attempts} attempt(s), still going on{}",
                state_word(
                    &pending
                        .as_str_name()
                        .trim_start_matches("ACTION_STATE_")
                        .to_lowercase()
                ),
                if last_error.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", esc(last_error))
                }
            ),
            false,
            vendor_message.clone(),
        ),
    };
    // Ingest refused the params before any attempt: show it at the field.
    let Some(action_id) = action_id else {
        let reason = match &execution {
            Execution::Failed { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        let path = reason.split(':').next().unwrap_or_default();
        let path = path.strip_prefix("actions[0].").unwrap_or(path).to_owned();
        let errors = placed(&[(path, reason.clone())]);
        let result = format!(
            "<div class=\"problems\" role=\"alert\"><p><strong>Not sent.</strong> Ingest refused it: {}</p></div>",
            esc(&reason)
        );
        return test_page(
            &session,
            &view,
            &values,
            &errors,
            &result,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let rows = attempts(&state, &action_id, settled).await;
    let vendor = match (rows.last(), vendor_message) {
        (Some(_), _) => String::new(),
        (None, Some(message)) => format!("<h3>Vendor's answer</h3><pre>{}</pre>", esc(&message)),
        (None, None) => String::new(),
    };
    let attempts = if rows.is_empty() {
        format!(
            "<p class=\"empty\">The history has no attempt yet: see <a href=\"/actions/{}\">the action's page</a> in a moment.</p>",
            esc(&url_part(&action_id))
        )
    } else {
        attempts_table(&rows)
    };
    let result = format!(
        "<section class=\"card\" aria-labelledby=\"result\"><h2 id=\"result\">Result</h2>\
         <p role=\"status\">{headline}</p><dl class=\"facts\"><dt>Action</dt>\
         <dd><a href=\"/actions/{path}\"><code>{id}</code></a></dd><dt>Attempts</dt><dd>{count}</dd></dl>\
         {vendor}{attempts}</section>",
        path = esc(&url_part(&action_id)),
        id = esc(&action_id),
        count = rows.len(),
    );
    let result = redact(&state, [view.id.as_str()], result).await;
    tracing::info!(account = %view.id, action = %action_id, "console: test sent");
    test_page(
        &session,
        &view,
        &values,
        &HashMap::new(),
        &result,
        StatusCode::OK,
    )
}
