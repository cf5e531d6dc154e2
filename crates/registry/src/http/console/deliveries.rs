//! Deliveries: the history's attempts, filtered by account, type, state
//! and time window, newest first a page at a time (the same query and page
//! tokens as `GET /v1/deliveries`), and one action's attempts with the
//! vendor's answers.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::super::AppState;
use super::accounts::registry_error;
use super::html::{self, Nav, esc, url_part};
use super::redact;
use super::session::Session;
use crate::registry::HISTORY_STATES;
use crate::store::{DeliveryFilter, DeliveryRow};

const PAGE_SIZE: usize = 50;

/// The time windows the filter offers: (value, label, milliseconds).
const WINDOWS: &[(&str, &str, i64)] = &[
    ("15m", "Last 15 minutes", 15 * 60_000),
    ("1h", "Last hour", 3_600_000),
    ("6h", "Last 6 hours", 6 * 3_600_000),
    ("24h", "Last 24 hours", 24 * 3_600_000),
    ("7d", "Last 7 days", 7 * 24 * 3_600_000),
    ("", "Any time", 0),
];

/// A state as a styled word.
pub(super) fn state_word(state: &str) -> String {
    format!("<span class=\"state-{0}\">{0}</span>", esc(state))
}

/// The vendor's answer: its status and the excerpt the history keeps.
pub(super) fn vendor_answer(status: i64, excerpt: &str) -> String {
    let status = if status == 0 {
        "no answer".to_owned()
    } else {
        status.to_string()
    };
    if excerpt.is_empty() {
        esc(&status)
    } else {
        format!("{} <pre>{}</pre>", esc(&status), esc(excerpt))
    }
}

/// Rows as a table, newest first as given; `empty` (HTML) when none.
pub(super) fn table(rows: &[DeliveryRow], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{empty}</p>");
    }
    let body: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{finished}</td><td><a href=\"/actions/{action_path}\"><code>{action}</code></a></td>\
                 <td><a href=\"/accounts/{account_path}\">{account}</a></td><td><code>{ty}</code></td>\
                 <td class=\"num\">{attempt}</td><td>{state}</td><td class=\"num\">{vendor}</td>\
                 <td class=\"num\">{latency} ms</td><td>{error}</td></tr>",
                finished = html::time(r.finished_at),
                action_path = esc(&url_part(&r.action_id)),
                action = esc(&r.action_id),
                account_path = esc(&url_part(&r.account_id)),
                account = esc(&r.account_id),
                ty = esc(&r.connector_type),
                attempt = r.attempt,
                state = state_word(&r.state),
                vendor = if r.vendor_status == 0 {
                    "—".to_owned()
                } else {
                    r.vendor_status.to_string()
                },
                latency = r.latency_ms,
                error = esc(&herald_catalog::echo_at_most(&r.error, 160)),
            )
        })
        .collect();
    format!(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Finished</th><th scope=\"col\">Action</th>\
         <th scope=\"col\">Account</th><th scope=\"col\">Type</th><th scope=\"col\" class=\"num\">Attempt</th>\
         <th scope=\"col\">State</th><th scope=\"col\" class=\"num\">Vendor</th><th scope=\"col\" class=\"num\">Latency</th>\
         <th scope=\"col\">Reason</th></tr></thead><tbody>{body}</tbody></table></div>"
    )
}

fn select(id: &str, label: &str, options: &[(&str, &str)], chosen: &str) -> String {
    let options: String = options
        .iter()
        .map(|(value, text)| {
            let selected = if *value == chosen { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                esc(value),
                esc(text)
            )
        })
        .collect();
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{id}\">{options}</select></div>"
    )
}

/// `?account_id=&connector_type=&state=&window=&page=`.
pub(super) async fn list(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let (account_id, connector_type, state_filter, page) = (
        text("account_id").trim(),
        text("connector_type"),
        text("state"),
        text("page"),
    );
    // A window left out is the last 24 hours; "Any time" is an empty one.
    let window = query.get("window").map_or("24h", String::as_str);
    let Some((_, _, span)) = WINDOWS.iter().find(|(value, _, _)| *value == window) else {
        return html::error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            "window: one of 15m, 1h, 6h, 24h, 7d or empty",
        );
    };
    // The registry checks the type and the state, as for REST and gRPC.
    let filter = DeliveryFilter {
        account_id: account_id.to_owned(),
        connector_type: connector_type.to_owned(),
        state: state_filter.to_owned(),
        since: if *span > 0 { html::now_ms() - span } else { 0 },
        ..Default::default()
    };
    let (rows, next) = match state.registry.deliveries(filter, PAGE_SIZE, page).await {
        Ok(page) => (page.rows, page.next_page_token),
        Err(error) => return registry_error(&session, error),
    };
    let connector_type = herald_connectors::catalog()
        .get(connector_type)
        .map_or("", |spec| spec.id);
    let mut types: Vec<(&str, &str)> = vec![("", "Any type")];
    types.extend(
        herald_connectors::catalog()
            .all()
            .iter()
            .map(|spec| (spec.id, spec.id)),
    );
    let mut states: Vec<(&str, &str)> = vec![("", "Any state")];
    states.extend(HISTORY_STATES.iter().map(|s| (*s, *s)));
    let windows: Vec<(&str, &str)> = WINDOWS.iter().map(|(v, l, _)| (*v, *l)).collect();
    let mut body = format!(
        "<form class=\"card filters\" method=\"get\" action=\"/deliveries\">\
         <div class=\"field\"><label for=\"account_id\">Account id</label>\
         <input type=\"text\" id=\"account_id\" name=\"account_id\" value=\"{}\"></div>{}{}{}\
         <button type=\"submit\">Filter</button></form>",
        esc(account_id),
        select("connector_type", "Type", &types, connector_type),
        select("state", "State", &states, state_filter),
        select("window", "Finished", &windows, window),
    );
    let empty = if account_id.is_empty() && connector_type.is_empty() && state_filter.is_empty() {
        "No delivery in this window yet. Send one from an account's <a href=\"/accounts\">Test</a> page, \
         or with <code>heraldctl send</code>."
    } else {
        "No delivery matches these filters. <a href=\"/deliveries?window=\">Show every delivery</a>."
    };
    body.push_str(&table(&rows, empty));
    if !next.is_empty() {
        body.push_str(&format!(
            "<p class=\"actions\"><a class=\"button\" href=\"/deliveries?account_id={}&amp;connector_type={}&amp;state={}&amp;window={}&amp;page={}\">Older</a></p>",
            esc(&url_part(account_id)),
            esc(&url_part(connector_type)),
            esc(&url_part(state_filter)),
            esc(&url_part(window)),
            esc(&url_part(&next)),
        ));
    }
    let accounts: Vec<&str> = rows.iter().map(|r| r.account_id.as_str()).collect();
    let body = redact(&state, accounts, body).await;
    html::page(Some(&session), Nav::Deliveries, "Deliveries", &body)
}

/// Attempts as the action page and the Test page show them.
pub(super) fn attempts_table(rows: &[DeliveryRow]) -> String {
    let body: String = rows
        .iter()
        .map(|r| {
            let handles = if r.handles.is_empty() || r.handles == "{}" {
                String::new()
            } else {
                format!("<pre>{}</pre>", esc(&r.handles))
            };
            format!(
                "<tr><td class=\"num\">{attempt}</td><td>{state}</td><td>{finished}</td><td class=\"num\">{latency} ms</td>\
                 <td>{kind}</td><td>{error}</td><td>{vendor}</td><td>{handles}</td><td><code>{trace}</code></td></tr>",
                attempt = r.attempt,
                state = state_word(&r.state),
                finished = html::time(r.finished_at),
                latency = r.latency_ms,
                kind = esc(&r.error_kind),
                error = esc(&r.error),
                vendor = vendor_answer(r.vendor_status, &r.vendor_excerpt),
                trace = if r.trace_id.is_empty() {
                    "—".to_owned()
                } else {
                    esc(&r.trace_id)
                },
            )
        })
        .collect();
    format!(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\" class=\"num\">Attempt</th><th scope=\"col\">State</th>\
         <th scope=\"col\">Finished</th><th scope=\"col\" class=\"num\">Latency</th><th scope=\"col\">Error kind</th>\
         <th scope=\"col\">Reason</th><th scope=\"col\">Vendor's answer</th><th scope=\"col\">Handles</th>\
         <th scope=\"col\">Trace id</th></tr></thead><tbody>{body}</tbody></table></div>"
    )
}

/// One action: every attempt the history holds.
pub(super) async fn action(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let rows = match state.registry.store().attempts(&id).await {
        Ok(rows) => rows,
        Err(error) => return registry_error(&session, error.into()),
    };
    let title = format!("Action {id}");
    let Some(last) = rows.last() else {
        return html::page_with_status(
            StatusCode::NOT_FOUND,
            Some(&session),
            Nav::Deliveries,
            &title,
            "<p class=\"empty\">The history holds no attempt of this action: it is unknown, has not \
             ended an attempt yet (reload in a moment), or is older than HERALD_HISTORY_TTL.</p>\
             <p><a href=\"/deliveries\">Back to deliveries</a></p>",
        );
    };
    let body = format!(
        "<div class=\"card\"><dl class=\"facts\"><dt>State</dt><dd>{state}</dd>\
         <dt>Account</dt><dd><a href=\"/accounts/{account_path}\">{account}</a> (<code>{ty}</code>)</dd>\
         <dt>Event</dt><dd><code>{event}</code></dd><dt>Alert</dt><dd>{alert}</dd>\
         <dt>Attempts</dt><dd>{count}</dd></dl></div><h2>Attempts</h2>{attempts}\
         <p><a href=\"/deliveries?account_id={account_path}\">Deliveries of this account</a></p>",
        state = state_word(&last.state),
        account_path = esc(&url_part(&last.account_id)),
        account = esc(&last.account_id),
        ty = esc(&last.connector_type),
        event = esc(&last.event_id),
        alert = if last.alert_key.is_empty() {
            "—".to_owned()
        } else {
            format!("<code>{}</code>", esc(&last.alert_key))
        },
        count = rows.len(),
        attempts = attempts_table(&rows),
    );
    let body = redact(&state, [last.account_id.as_str()], body).await;
    html::page(Some(&session), Nav::Deliveries, &title, &body)
}
