//! Accounts: the list (search by id or name, filter by type), one
//! account's page, and, for admin, the create, edit and delete forms. The
//! forms are generated from the type's config and secrets schemas
//! (`form.rs`); the registry's own validation decides, and its violations
//! are shown beside the fields they name. Preconfigured accounts
//! (HERALD_CONFIG) are read-only here as everywhere.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_catalog::{ConnectorSpec, SecretMap};
use herald_proto::status::ServiceError;

use super::super::AppState;
use super::html::{self, Nav, csrf_field, esc, url_part};
use super::session::Session;
use super::{FormData, deliveries, form, redact};
use crate::registry::{AccountInput, AccountView, RegistryError};
use crate::store::DeliveryFilter;

const PAGE_SIZE: usize = 50;

/// A registry error as a page: what the caller may see, at its status.
pub(super) fn registry_error(session: &Session, error: RegistryError) -> Response {
    let code = error.code();
    if matches!(
        code,
        herald_proto::status::ErrorCode::Internal | herald_proto::status::ErrorCode::Unavailable
    ) {
        tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "console page failed");
    }
    let status = StatusCode::from_u16(code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    html::error_page(Some(session), status, &error.public_message())
}

fn spec_of(id: &str) -> Option<&'static ConnectorSpec> {
    herald_connectors::catalog().get(id)
}

/// A type's name and id, as the lists show it.
fn type_label(id: &str) -> String {
    match spec_of(id) {
        Some(spec) => format!("{} <code>{}</code>", esc(spec.name), esc(spec.id)),
        None => format!("<code>{}</code>", esc(id)),
    }
}

/// `?q=&type=&page=`: every account, a page at a time.
pub(super) async fn list(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let (q, connector_type, page) = (text("q"), text("type"), text("page"));
    let listed = state
        .registry
        .list(Some(connector_type), q, PAGE_SIZE, page)
        .await;
    let (accounts, next) = match listed {
        Ok(listed) => listed,
        Err(error) => return registry_error(&session, error),
    };
    let mut options = String::from("<option value=\"\">Any type</option>");
    for (spec, _) in state.registry.connector_types() {
        let selected = if spec.id == connector_type {
            " selected"
        } else {
            ""
        };
        options.push_str(&format!(
            "<option value=\"{0}\"{selected}>{1} ({0})</option>",
            esc(spec.id),
            esc(spec.name)
        ));
    }
    let new = if session.is_admin() {
        "<a class=\"button primary\" href=\"/accounts/_new\">New account</a>"
    } else {
        ""
    };
    let mut body = format!(
        "<div class=\"actions\">{new}</div>\
         <form class=\"card filters\" method=\"get\" action=\"/accounts\" role=\"search\">\
         <div class=\"field\"><label for=\"q\">Search id or name</label>\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{q}\"></div>\
         <div class=\"field\"><label for=\"type\">Connector type</label>\
         <select id=\"type\" name=\"type\">{options}</select></div>\
         <button type=\"submit\">Search</button></form>",
        q = esc(q),
    );
    if accounts.is_empty() {
        let filtered = !q.is_empty() || !connector_type.is_empty();
        body.push_str(&if filtered {
            "<p class=\"empty\">No account matches. <a href=\"/accounts\">Show every account</a>.</p>".to_owned()
        } else if session.is_admin() {
            "<p class=\"empty\">No accounts yet — <a href=\"/accounts/_new\">create one</a>, \
             or with <code>heraldctl accounts put account.yaml</code>.</p>"
                .to_owned()
        } else {
            "<p class=\"empty\">No accounts yet: an admin creates them here or with \
             <code>heraldctl accounts put</code>.</p>"
                .to_owned()
        });
    } else {
        let rows: String = accounts.iter().map(|a| account_row(&session, a)).collect();
        body.push_str(&format!(
            "<div class=\"table-wrap\"><table><caption class=\"sr\">Accounts</caption><thead><tr>\
             <th scope=\"col\">Id</th><th scope=\"col\">Name</th><th scope=\"col\">Type</th>\
             <th scope=\"col\">Secrets</th><th scope=\"col\">Actions</th></tr></thead><tbody>{rows}</tbody></table></div>"
        ));
    }
    if !next.is_empty() {
        body.push_str(&format!(
            "<p class=\"actions\"><a class=\"button\" href=\"/accounts?q={}&amp;type={}&amp;page={}\">Next page</a></p>",
            esc(&url_part(q)),
            esc(&url_part(connector_type)),
            esc(&url_part(&next))
        ));
    }
    html::page(Some(&session), Nav::Accounts, "Accounts", &body)
}

fn account_row(session: &Session, a: &AccountView) -> String {
    let id = esc(&url_part(&a.id));
    let tag = if a.preconfigured {
        " <span class=\"tag\">preconfigured</span>"
    } else {
        ""
    };
    let secrets = if a.secret_fields.is_empty() {
        "—".to_owned()
    } else {
        a.secret_fields
            .iter()
            .map(|s| format!("<span class=\"tag set\">{} set</span>", esc(s)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let edit = if session.is_admin() && !a.preconfigured {
        format!(" <a href=\"/accounts/{id}/edit\">Edit</a>")
    } else {
        String::new()
    };
    format!(
        "<tr><td><a href=\"/accounts/{id}\">{}</a>{tag}</td><td>{}</td><td>{}</td><td>{secrets}</td>\
         <td><a href=\"/accounts/{id}/test\">Test</a>{edit}</td></tr>",
        esc(&a.id),
        esc(&a.name),
        type_label(a.connector_type),
    )
}

/// One account: what it is (never its secrets' values), its latest
/// deliveries, and what may be done with it.
pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let view = match state.registry.get(&id).await {
        Ok(view) => view,
        Err(error) => return registry_error(&session, error),
    };
    let path = esc(&url_part(&view.id));
    let mut body = String::new();
    if query.contains_key("saved") {
        body.push_str("<p class=\"notice\" role=\"status\">Saved.</p>");
    }
    let mut actions =
        format!("<a class=\"button primary\" href=\"/accounts/{path}/test\">Test</a>");
    if session.is_admin() && !view.preconfigured {
        actions.push_str(&format!(
            " <a class=\"button\" href=\"/accounts/{path}/edit\">Edit</a> \
             <a class=\"button danger\" href=\"/accounts/{path}/delete\">Delete</a>"
        ));
    }
    let tag = if view.preconfigured {
        "<span class=\"tag\">preconfigured</span> read-only: it comes from HERALD_CONFIG"
    } else {
        "stored in the registry"
    };
    let secrets = if view.secret_fields.is_empty() {
        "none".to_owned()
    } else {
        view.secret_fields
            .iter()
            .map(|s| format!("<span class=\"tag set\">{} set</span>", esc(s)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let config = if view.config_hidden {
        "<p class=\"empty\">Hidden (exposeConfig: false).</p>".to_owned()
    } else if view.config.is_empty() {
        "<p class=\"empty\">Empty.</p>".to_owned()
    } else {
        format!(
            "<pre>{}</pre>",
            esc(&serde_json::to_string_pretty(&view.config).unwrap_or_default())
        )
    };
    body.push_str(&format!(
        "<div class=\"actions\">{actions}</div><div class=\"card\"><dl class=\"facts\">\
         <dt>Id</dt><dd><code>{id}</code></dd><dt>Name</dt><dd>{name}</dd><dt>Type</dt><dd>{ty}</dd>\
         <dt>Kind</dt><dd>{tag}</dd><dt>Secrets</dt><dd>{secrets}</dd><dt>Version</dt><dd>{version}</dd>\
         <dt>Updated</dt><dd>{updated}</dd></dl><h2>Config</h2>{config}</div>",
        id = esc(&view.id),
        name = esc(&view.name),
        ty = type_label(view.connector_type),
        version = view.version,
        updated = html::time(view.updated_at),
    ));
    let filter = DeliveryFilter {
        account_id: view.id.clone(),
        ..Default::default()
    };
    match state.registry.store().deliveries(&filter, None, 10).await {
        Ok(rows) => {
            body.push_str(&format!(
                "<h2>Latest deliveries</h2>{}<p><a href=\"/deliveries?account_id={path}\">Every delivery of this account</a></p>",
                deliveries::table(&rows, &format!("No delivery of this account yet: <a href=\"/accounts/{path}/test\">send a test</a>."))
            ));
        }
        Err(error) => tracing::warn!(%error, "console: deliveries not read"),
    }
    let body = redact(&state, [view.id.as_str()], body).await;
    html::page(Some(&session), Nav::Accounts, &view.name, &body)
}

/// What the account form is for.
enum Mode<'a> {
    New,
    Edit(&'a AccountView),
}

/// The account form of `spec`'s type: id and name, then the config and
/// secrets fields from the schemas, prefilled from `values`, with `errors`
/// listed on top and each beside the field it names.
fn account_form(
    session: &Session,
    spec: &ConnectorSpec,
    mode: Mode<'_>,
    values: &HashMap<String, String>,
    errors: &[(String, String)],
    status: StatusCode,
) -> Response {
    let config_fields = form::fields(&spec.config_schema, "config", false);
    let secret_fields = form::fields(&spec.secrets_schema, "secrets", false);
    // Each error goes beside its field too (all are listed on top).
    let mut placed: HashMap<String, String> = HashMap::new();
    for (path, message) in errors {
        let field = match path.as_str() {
            "id" | "name" => Some(path.clone()),
            _ => form::field_of(&config_fields, path)
                .or_else(|| form::field_of(&secret_fields, path)),
        };
        if let Some(field) = field {
            let entry = placed.entry(field).or_default();
            if !entry.is_empty() {
                entry.push_str("; ");
            }
            entry.push_str(message);
        }
    }
    let value = |name: &str| esc(values.get(name).map(String::as_str).unwrap_or(""));
    let error_of = |name: &str| match placed.get(name) {
        Some(message) => format!(
            "<p class=\"field-error\" id=\"f-{name}-error\" role=\"alert\">{}</p>",
            esc(message)
        ),
        None => String::new(),
    };
    let invalid = |name: &str| {
        if placed.contains_key(name) {
            format!(" aria-invalid=\"true\" aria-describedby=\"f-{name}-error\"")
        } else {
            String::new()
        }
    };
    let (title, action, id_field, set, version) = match &mode {
        Mode::New => (
            format!("New {} account", spec.name),
            format!("/accounts/_new?type={}", url_part(spec.id)),
            format!(
                "<div class=\"field\"><label for=\"f-id\">Id <span class=\"req\">required</span></label>\
                 <p class=\"hint\">What events name: letters, digits, <code>.</code>, <code>_</code>, <code>-</code>; it cannot change later.</p>\
                 <input type=\"text\" id=\"f-id\" name=\"id\" value=\"{}\" required pattern=\"[A-Za-z0-9][A-Za-z0-9._\\-]{{0,127}}\" autocomplete=\"off\"{}>{}</div>",
                value("id"),
                invalid("id"),
                error_of("id")
            ),
            Vec::new(),
            0,
        ),
        Mode::Edit(view) => (
            format!("Edit {}", view.name),
            format!("/accounts/{}/edit", url_part(&view.id)),
            format!(
                "<dl class=\"facts\"><dt>Id</dt><dd><code>{}</code></dd></dl>",
                esc(&view.id)
            ),
            view.secret_fields.clone(),
            view.version,
        ),
    };
    let mut body = String::new();
    if !errors.is_empty() {
        let listed: String = errors
            .iter()
            .map(|(path, message)| {
                if path.is_empty() {
                    format!("<li>{}</li>", esc(message))
                } else {
                    format!("<li><code>{}</code>: {}</li>", esc(path), esc(message))
                }
            })
            .collect();
        body.push_str(&format!(
            "<div class=\"problems\" role=\"alert\"><p><strong>Not saved.</strong> The registry refused it:</p><ul>{listed}</ul></div>"
        ));
    }
    if let Mode::Edit(view) = &mode
        && view.config_hidden
    {
        body.push_str(
            "<p class=\"notice\">This account's config is hidden from readers (exposeConfig: false): \
             saving replaces it with what is entered below.</p>",
        );
    }
    let config_html = if config_fields.is_empty() {
        "<p class=\"empty\">This type has no config.</p>".to_owned()
    } else {
        form::render(&config_fields, values, &placed)
    };
    let secrets_html = if secret_fields.is_empty() {
        "<p class=\"empty\">This type has no secrets.</p>".to_owned()
    } else {
        format!(
            "<p class=\"hint\">Write-only: a stored secret is never shown; leave its input empty to keep it.</p>{}",
            form::render_secrets(&secret_fields, &set, &placed)
        )
    };
    body.push_str(&format!(
        "<form class=\"card\" method=\"post\" action=\"{action}\">{csrf}\
         <input type=\"hidden\" name=\"version\" value=\"{version}\">\
         <p>Type: {ty}</p>{id_field}\
         <div class=\"field\"><label for=\"f-name\">Name <span class=\"req\">required</span></label>\
         <input type=\"text\" id=\"f-name\" name=\"name\" value=\"{name}\" required maxlength=\"256\"{name_invalid}>{name_error}</div>\
         <fieldset><legend>Config</legend>{config_html}</fieldset>\
         <fieldset><legend>Secrets</legend>{secrets_html}</fieldset>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Save</button> <a href=\"/accounts\">Cancel</a></div></form>",
        action = esc(&action),
        csrf = csrf_field(session),
        ty = type_label(spec.id),
        name = value("name"),
        name_invalid = invalid("name"),
        name_error = error_of("name"),
    ));
    html::page_with_status(status, Some(session), Nav::Accounts, &title, &body)
}

/// `?type=`: the types to choose from, then that type's form.
pub(super) async fn new_form(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = session.require_admin("create accounts") {
        return *refused;
    }
    match query.get("type").and_then(|t| spec_of(t)) {
        Some(spec) => account_form(
            &session,
            spec,
            Mode::New,
            &HashMap::new(),
            &[],
            StatusCode::OK,
        ),
        None => {
            let items: String = state
                .registry
                .connector_types()
                .map(|(spec, enabled)| {
                    if enabled {
                        format!(
                            "<li><a href=\"/accounts/_new?type={}\">{}</a> <code>{}</code></li>",
                            esc(&url_part(spec.id)),
                            esc(spec.name),
                            esc(spec.id)
                        )
                    } else {
                        format!(
                            "<li>{} <code>{}</code> <span class=\"tag\">not enabled by policy</span></li>",
                            esc(spec.name),
                            esc(spec.id)
                        )
                    }
                })
                .collect();
            html::page(
                Some(&session),
                Nav::Accounts,
                "New account",
                &format!("<p>Choose the connector type:</p><ul class=\"card types\">{items}</ul>"),
            )
        }
    }
}

/// The account a posted form describes; `errors` gets what cannot be read.
fn input_of(
    spec: &ConnectorSpec,
    id: String,
    form: &FormData,
    errors: &mut Vec<(String, String)>,
) -> AccountInput {
    let config_fields = form::fields(&spec.config_schema, "config", false);
    let secret_fields = form::fields(&spec.secrets_schema, "secrets", false);
    let version = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    AccountInput {
        id,
        connector_type: spec.id.to_owned(),
        name: form.get("name").unwrap_or_default().trim().to_owned(),
        config: form::read(&config_fields, form, errors),
        secrets: SecretMap(form::read_secrets(&secret_fields, form, errors)),
        version,
        config_hidden: None,
    }
}

/// Saves, or shows the form again with the registry's violations.
async fn save(
    session: &Session,
    state: &AppState,
    spec: &ConnectorSpec,
    mode: Mode<'_>,
    input: AccountInput,
    form: FormData,
    mut errors: Vec<(String, String)>,
) -> Response {
    let values = form.into_map();
    if errors.is_empty() {
        let id = input.id.clone();
        match state.registry.put(input).await {
            Ok(view) => {
                tracing::info!(account = %view.id, "console: account saved");
                return html::see_other(&format!("/accounts/{}?saved=1", url_part(&view.id)));
            }
            Err(RegistryError::Invalid(violations)) => {
                errors.extend(
                    violations
                        .iter()
                        .map(|v| (v.path.clone(), v.message.clone())),
                );
            }
            Err(error @ (RegistryError::Conflict(_) | RegistryError::Preconfigured(_))) => {
                errors.push((String::new(), error.public_message()));
            }
            Err(RegistryError::NotFound(_)) => {
                errors.push((String::new(), format!("account {id} was deleted meanwhile")));
            }
            Err(error) => return registry_error(session, error),
        }
    }
    account_form(
        session,
        spec,
        mode,
        &values,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub(super) async fn create(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Err(refused) = session.require_admin("create accounts") {
        return *refused;
    }
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(spec) = query.get("type").and_then(|t| spec_of(t)) else {
        return html::error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            "type: unknown connector type",
        );
    };
    let id = form.get("id").unwrap_or_default().trim().to_owned();
    let mut errors = Vec::new();
    if id.is_empty() {
        errors.push(("id".to_owned(), "required".to_owned()));
    } else if state.registry.get(&id).await.is_ok() {
        errors.push((
            "id".to_owned(),
            "an account with this id exists already: choose another, or edit that one".to_owned(),
        ));
    }
    let mut input = input_of(spec, id, &form, &mut errors);
    input.version = 0;
    save(&session, &state, spec, Mode::New, input, form, errors).await
}

/// The stored account for a changing form, or the page that says why not.
async fn changeable(
    session: &Session,
    state: &AppState,
    id: &str,
) -> Result<AccountView, Box<Response>> {
    session.require_admin("change accounts")?;
    let view = state
        .registry
        .get(id)
        .await
        .map_err(|e| Box::new(registry_error(session, e)))?;
    if view.preconfigured {
        return Err(Box::new(html::error_page(
            Some(session),
            StatusCode::CONFLICT,
            &format!(
                "Account {} is preconfigured in HERALD_CONFIG: it is read-only here; change it in that file.",
                view.id
            ),
        )));
    }
    Ok(view)
}

pub(super) async fn edit_form(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let view = match changeable(&session, &state, &id).await {
        Ok(view) => view,
        Err(refused) => return *refused,
    };
    let Some(spec) = spec_of(view.connector_type) else {
        return html::error_page(
            Some(&session),
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown type",
        );
    };
    let mut values = HashMap::from([("name".to_owned(), view.name.clone())]);
    form::values(
        &form::fields(&spec.config_schema, "config", false),
        &view.config,
        &mut values,
    );
    account_form(
        &session,
        spec,
        Mode::Edit(&view),
        &values,
        &[],
        StatusCode::OK,
    )
}

pub(super) async fn update(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = session.require_admin("change accounts") {
        return *refused;
    }
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let view = match changeable(&session, &state, &id).await {
        Ok(view) => view,
        Err(refused) => return *refused,
    };
    let Some(spec) = spec_of(view.connector_type) else {
        return html::error_page(
            Some(&session),
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown type",
        );
    };
    let mut errors = Vec::new();
    let input = input_of(spec, view.id.clone(), &form, &mut errors);
    save(
        &session,
        &state,
        spec,
        Mode::Edit(&view),
        input,
        form,
        errors,
    )
    .await
}

pub(super) async fn confirm_delete(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let view = match changeable(&session, &state, &id).await {
        Ok(view) => view,
        Err(refused) => return *refused,
    };
    let body = format!(
        "<form class=\"card narrow\" method=\"post\" action=\"/accounts/{path}/delete\">{csrf}\
         <input type=\"hidden\" name=\"version\" value=\"{version}\">\
         <p>Delete account <code>{id}</code> ({name})? Events that name it will be refused, and its \
         secrets are erased. This cannot be undone.</p>\
         <div class=\"actions\"><button type=\"submit\" class=\"danger\">Delete {id}</button> \
         <a href=\"/accounts/{path}\">Keep it</a></div></form>",
        path = esc(&url_part(&view.id)),
        csrf = csrf_field(&session),
        version = view.version,
        id = esc(&view.id),
        name = esc(&view.name),
    );
    html::page(
        Some(&session),
        Nav::Accounts,
        &format!("Delete {}", view.name),
        &body,
    )
}

pub(super) async fn delete(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = session.require_admin("delete accounts") {
        return *refused;
    }
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let version = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    match state.registry.delete(&id, version).await {
        Ok(()) => {
            tracing::info!(account = %id, "console: account deleted");
            html::see_other("/accounts")
        }
        Err(error) => registry_error(&session, error),
    }
}
