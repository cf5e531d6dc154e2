//! The web console at `/`: server-rendered pages over the same
//! [`crate::Registry`] as the REST APIs, on the same listener, with its
//! style sheet, script and icon embedded in the binary (`assets/`), so it
//! needs nothing but the registry. One file per page; `session.rs` signs
//! people in with a role's token, `form.rs` makes account and params forms
//! from the connector types' JSON Schemas, `html.rs` escapes and frames.
//!
//! `admin` sees and changes everything; `producer` reads and tests (its
//! GET and POST of a changing form both answer 403); `service` cannot sign
//! in. Every answer carries a strict Content-Security-Policy (no inline
//! script or style), and every form a CSRF token.

mod accounts;
mod alerts;
mod assets;
mod dead;
mod deliveries;
mod form;
mod html;
mod overview;
mod session;
mod signin;
mod test;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub(crate) use session::SessionKeys;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/sign-in", get(signin::form).post(signin::submit))
        .route("/sign-out", post(signin::sign_out))
        .route("/accounts", get(accounts::list))
        // `_` cannot start an account id, so no account hides this page.
        .route(
            "/accounts/_new",
            get(accounts::new_form).post(accounts::create),
        )
        .route("/accounts/{id}", get(accounts::show))
        .route(
            "/accounts/{id}/edit",
            get(accounts::edit_form).post(accounts::update),
        )
        .route(
            "/accounts/{id}/delete",
            get(accounts::confirm_delete).post(accounts::delete),
        )
        .route("/accounts/{id}/test", get(test::form).post(test::send))
        .route("/deliveries", get(deliveries::list))
        .route("/actions/{id}", get(deliveries::action))
        .route("/dead-letters", get(dead::list))
        .route("/dead-letters/replay", post(dead::replay))
        .route("/routes", get(alerts::page))
        .route("/alerts/ack", post(alerts::ack))
        .route("/console/assets/{name}", get(assets::serve))
        .layer(axum::middleware::map_response(html::security_headers))
}

/// A posted `application/x-www-form-urlencoded` body, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    pub(crate) fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn into_map(self) -> std::collections::HashMap<String, String> {
        let mut map = std::collections::HashMap::new();
        for (key, value) in self.0 {
            map.entry(key).or_insert(value);
        }
        map
    }
}

/// `body` with every secret value of `accounts` replaced by `[redacted]`,
/// as written and as escaped: a vendor that echoes a credential, or a
/// reason that quotes a URL holding one, does not put it on a page.
pub(crate) async fn redact<'a>(
    state: &AppState,
    accounts: impl IntoIterator<Item = &'a str>,
    mut body: String,
) -> String {
    let mut seen = std::collections::BTreeSet::new();
    for id in accounts {
        if !seen.insert(id) {
            continue;
        }
        let Ok(account) = state.registry.resolve(id).await else {
            continue;
        };
        for secret in super::kibana::secret_texts(&account.secrets) {
            for form in [html::esc(&secret), secret] {
                if body.contains(&form) {
                    body = body.replace(&form, "[redacted]");
                }
            }
        }
    }
    body
}
