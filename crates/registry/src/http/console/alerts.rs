//! Routes and alerts: the registry's routes (stored and preconfigured),
//! and the alerts ingest keeps in its `herald_alerts` bucket, read and
//! acknowledged through ingest's gRPC (`ListAlerts`, `AckAlert`) as the
//! signed-in role. Ingest lets admin and producer ack, so both may here.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_proto::v1;

use super::super::AppState;

use super::accounts::registry_error;
use super::html::{self, Nav, csrf_field, esc, url_part};
use super::session::Session;
use crate::registry::MAX_PAGE_SIZE;

/// "5m", "2h", "0s": a duration as HERALD_CONFIG writes it.
fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0 if d.subsec_millis() > 0 => format!("{}ms", d.subsec_millis()),
        0 => "none".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

async fn routes_section(session: &Session, state: &AppState) -> Result<String, Box<Response>> {
    let (routes, _) = state
        .registry
        .list_routes(MAX_PAGE_SIZE, "")
        .await
        .map_err(|e| Box::new(registry_error(session, e)))?;
    if routes.is_empty() {
        return Ok("<p class=\"empty\">No routes yet. A route sends an alert from Alertmanager or Grafana \
                   (<code>POST /v1/intake/alertmanager/{route}</code>) to its accounts; create one with \
                   <code>heraldctl routes put route.yaml</code> or <code>PUT /v1/routes/{id}</code>.</p>"
            .to_owned());
    }
    let rows: String = routes
        .iter()
        .map(|view| {
            let r = &view.route;
            let actions: Vec<String> = r
                .actions
                .iter()
                .map(|a| {
                    let matchers = if a.matchers.is_empty() {
                        String::new()
                    } else {
                        let m: Vec<String> = a
                            .matchers
                            .iter()
                            .map(|(k, v)| format!("{}=~{}", esc(k), esc(v)))
                            .collect();
                        format!(" <span class=\"hint\">when {}</span>", m.join(", "))
                    };
                    format!(
                        "<a href=\"/accounts/{}\">{}</a>{matchers}",
                        esc(&url_part(&a.account_id)),
                        esc(&a.account_id)
                    )
                })
                .collect();
            let tag = if view.preconfigured {
                " <span class=\"tag\">preconfigured</span>"
            } else {
                ""
            };
            format!(
                "<tr><td><code>{}</code>{tag}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.name),
                actions.join("<br>"),
                duration(r.throttle),
                duration(r.repeat_interval),
                html::time(view.updated_at),
            )
        })
        .collect();
    Ok(format!(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Sends to</th><th scope=\"col\">Throttle</th><th scope=\"col\">Repeat</th>\
         <th scope=\"col\">Updated</th></tr></thead><tbody>{rows}</tbody></table></div>"
    ))
}

fn alert_row(session: &Session, state: &v1::AlertState) -> String {
    let record = state.record.clone().unwrap_or_default();
    let alert = record.alert.clone().unwrap_or_default();
    let resolved = alert.status == v1::AlertStatus::Resolved as i32;
    let status = if resolved {
        "<span class=\"state-delivered\">resolved</span>".to_owned()
    } else if record.acked_at.is_some() {
        format!(
            "<span class=\"state-retrying\">acknowledged</span> {}{}",
            html::proto_time(record.acked_at.as_ref()),
            if record.acked_by.is_empty() {
                String::new()
            } else {
                format!(" by {}", esc(&record.acked_by))
            }
        )
    } else {
        "<span class=\"state-failed\">firing</span>".to_owned()
    };
    let ack = if !resolved && record.acked_at.is_none() {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/alerts/ack\">{}\
             <input type=\"hidden\" name=\"key\" value=\"{}\"><button type=\"submit\">Acknowledge</button></form>",
            csrf_field(session),
            esc(&alert.key)
        )
    } else {
        String::new()
    };
    let targets: Vec<String> = record
        .targets
        .iter()
        .map(|t| {
            format!(
                "<a href=\"/accounts/{}\">{}</a>",
                esc(&url_part(&t.account_id)),
                esc(&t.account_id)
            )
        })
        .collect();
    let summary = if alert.summary.is_empty() {
        String::new()
    } else {
        format!("<br>{}", esc(&alert.summary))
    };
    format!(
        "<tr><td><code>{key}</code>{summary}</td><td>{severity}</td><td>{status}</td><td><code>{route}</code></td>\
         <td>{targets}</td><td class=\"num\">{received}</td><td>{last}</td><td>{ack}</td></tr>",
        key = esc(&herald_catalog::echo_at_most(&alert.key, 120)),
        severity = esc(&alert.severity),
        route = esc(&record.route),
        targets = targets.join(", "),
        received = record.received,
        last = html::proto_time(record.last_received_at.as_ref()),
    )
}

async fn alerts_section(session: &Session, state: &AppState, all: bool) -> String {
    let Some(bearer) = session.bearer() else {
        return "<p class=\"error\">The session's token cannot be sent to ingest.</p>".into();
    };
    let alerts = match state.executor.list_alerts(&bearer, !all).await {
        Ok(alerts) => alerts,
        Err(error) => {
            tracing::warn!(%error, "console: alerts not read");
            return format!(
                "<p class=\"error\">Alerts are unknown right now: {}</p>",
                esc(&error.to_string())
            );
        }
    };
    let toggle = if all {
        "<a href=\"/routes\">Show open alerts only</a>"
    } else {
        "<a href=\"/routes?alerts=all\">Show resolved alerts too</a>"
    };
    if alerts.is_empty() {
        return format!(
            "<p class=\"empty\">No {}alerts. Alerts arrive from Alertmanager or Grafana through a route, \
             or with an event's <code>alert</code>. {toggle}</p>",
            if all { "" } else { "open " }
        );
    }
    let rows: String = alerts.iter().map(|a| alert_row(session, a)).collect();
    format!(
        "<p>{toggle}</p><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Alert</th>\
         <th scope=\"col\">Severity</th><th scope=\"col\">Status</th><th scope=\"col\">Route</th>\
         <th scope=\"col\">Targets</th><th scope=\"col\" class=\"num\">Received</th>\
         <th scope=\"col\">Last received</th><th scope=\"col\"><span class=\"sr\">Acknowledge</span></th>\
         </tr></thead><tbody>{rows}</tbody></table></div>"
    )
}

/// `?alerts=all` lists resolved alerts too.
pub(super) async fn page(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let routes = match routes_section(&session, &state).await {
        Ok(html) => html,
        Err(refused) => return *refused,
    };
    let all = query.get("alerts").is_some_and(|v| v == "all");
    let alerts = alerts_section(&session, &state, all).await;
    let notice = match query.get("acked") {
        Some(key) => format!(
            "<p class=\"notice\" role=\"status\">Acknowledged <code>{}</code>: its repeats stop until it resolves.</p>",
            esc(&herald_catalog::echo_at_most(key, 120))
        ),
        None => String::new(),
    };
    let body = format!("{notice}<h2>Routes</h2>{routes}<h2>Alerts</h2>{alerts}");
    html::page(Some(&session), Nav::Routes, "Routes and alerts", &body)
}

/// `key=`: acknowledges the alert through ingest, as the signed-in role.
pub(super) async fn ack(session: Session, State(state): State<AppState>, body: Bytes) -> Response {
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let key = form.get("key").unwrap_or_default();
    let Some(bearer) = session.bearer() else {
        return html::error_page(
            Some(&session),
            StatusCode::INTERNAL_SERVER_ERROR,
            "the session's token cannot be sent to ingest",
        );
    };
    let by = format!("console ({})", session.role().name());
    match state.executor.ack_alert(&bearer, key, &by).await {
        Ok(_) => html::see_other(&format!("/routes?acked={}", url_part(key))),
        Err(error) => html::error_page(Some(&session), StatusCode::BAD_GATEWAY, &error.to_string()),
    }
}
