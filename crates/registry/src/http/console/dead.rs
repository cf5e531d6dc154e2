//! Dead letters: the actions that failed for good, with the reason and the
//! vendor's answer, and (admin) replaying one, or every one of a type,
//! after the account is fixed, through the registry's NATS connection as
//! `POST /v1/dead-letters/replay` does.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_proto::v1::ErrorKind;

use super::super::AppState;
use super::deliveries::vendor_answer;
use super::html::{self, Nav, csrf_field, esc, url_part};
use super::redact;
use super::session::Session;

/// The most letters one page lists.
const LIMIT: usize = 200;

pub(super) async fn list(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(dead) = state.registry.dead_letters() else {
        return html::page(
            Some(&session),
            Nav::DeadLetters,
            "Dead letters",
            "<p class=\"empty\">Unknown: this registry has no NATS connection (HERALD_NATS_URL), and dead letters are in NATS.</p>",
        );
    };
    let listing = match dead.list(None, LIMIT).await {
        Ok(listing) => listing,
        Err(error) => {
            tracing::error!(%error, "console: dead letters not read");
            return html::error_page(
                Some(&session),
                StatusCode::SERVICE_UNAVAILABLE,
                &error.to_string(),
            );
        }
    };
    let mut body = String::new();
    if let Some(replayed) = query.get("replayed") {
        let failed = query.get("failed").map_or("0", String::as_str);
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">Replayed {}; {} could not be replayed.</p>",
            esc(replayed),
            esc(failed)
        ));
    }
    if listing.letters.is_empty() {
        body.push_str(
            "<p class=\"empty\">No dead letters: every action was delivered or is still being tried. \
             An action that fails for good (the vendor refused it, or it ran out of attempts) lands here, \
             to be replayed once its account is fixed.</p>",
        );
        return html::page(Some(&session), Nav::DeadLetters, "Dead letters", &body);
    }
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rows = String::new();
    for letter in &listing.letters {
        let request = letter.letter.request.clone().unwrap_or_default();
        *by_type
            .entry(
                herald_connectors::catalog()
                    .get(&request.connector_type)
                    .map_or("", |s| s.id),
            )
            .or_default() += 1;
        let vendor = letter
            .letter
            .vendor_response
            .as_ref()
            .map_or("—".to_owned(), |r| {
                vendor_answer(i64::from(r.status), &r.body)
            });
        let replay = if session.is_admin() {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/dead-letters/replay\">{}\
                 <input type=\"hidden\" name=\"action_id\" value=\"{}\">\
                 <button type=\"submit\">Replay</button></form>",
                csrf_field(&session),
                esc(&request.action_id)
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{dead_at}</td><td><a href=\"/actions/{action_path}\"><code>{action}</code></a></td>\
             <td><a href=\"/accounts/{account_path}\">{account}</a></td><td><code>{ty}</code></td>\
             <td class=\"num\">{attempts}</td><td>{kind}</td><td>{reason}</td><td>{vendor}</td><td>{replay}</td></tr>",
            dead_at = html::proto_time(letter.letter.dead_at.as_ref()),
            action_path = esc(&url_part(&request.action_id)),
            action = esc(&request.action_id),
            account_path = esc(&url_part(&request.account_id)),
            account = esc(&request.account_id),
            ty = esc(&request.connector_type),
            attempts = letter.letter.attempts,
            kind = esc(
                ErrorKind::try_from(letter.letter.error_kind)
                    .unwrap_or_default()
                    .as_str_name()
                    .trim_start_matches("ERROR_KIND_")
            ),
            reason = esc(&letter.letter.reason),
        ));
    }
    if session.is_admin() {
        let forms: String = by_type
            .iter()
            .filter(|(ty, _)| !ty.is_empty())
            .map(|(ty, count)| {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/dead-letters/replay\">{}\
                     <input type=\"hidden\" name=\"connector_type\" value=\"{ty}\">\
                     <button type=\"submit\">Replay every <code>{ty}</code> letter ({count})</button></form>",
                    csrf_field(&session),
                    ty = esc(ty),
                )
            })
            .collect();
        body.push_str(&format!(
            "<div class=\"actions\">{forms}</div><p class=\"hint\">Fix the account first: a replay sends the action again as it was.</p>"
        ));
    }
    body.push_str(&format!(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Dead since</th><th scope=\"col\">Action</th>\
         <th scope=\"col\">Account</th><th scope=\"col\">Type</th><th scope=\"col\" class=\"num\">Attempts</th>\
         <th scope=\"col\">Error kind</th><th scope=\"col\">Reason</th><th scope=\"col\">Vendor's answer</th>\
         <th scope=\"col\"><span class=\"sr\">Replay</span></th></tr></thead><tbody>{rows}</tbody></table></div>"
    ));
    if listing.letters.len() >= LIMIT {
        body.push_str(&format!(
            "<p class=\"hint\">The first {LIMIT} are shown; <code>heraldctl dead list</code> lists them all.</p>"
        ));
    }
    let accounts: Vec<String> = listing
        .letters
        .iter()
        .filter_map(|l| l.letter.request.as_ref().map(|r| r.account_id.clone()))
        .collect();
    let body = redact(&state, accounts.iter().map(String::as_str), body).await;
    html::page(Some(&session), Nav::DeadLetters, "Dead letters", &body)
}

/// `action_id=` or `connector_type=`: resubmits those letters and removes
/// them, then shows the list with how many went.
pub(super) async fn replay(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    if let Err(refused) = session.require_admin("replay dead letters") {
        return *refused;
    }
    let form = match session.posted_form(&body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(dead) = state.registry.dead_letters() else {
        return html::error_page(
            Some(&session),
            StatusCode::SERVICE_UNAVAILABLE,
            "this registry has no NATS connection (HERALD_NATS_URL): dead letters are in NATS",
        );
    };
    let action_id = form.get("action_id").filter(|s| !s.is_empty());
    let connector_type = match super::super::dead::connector_type(form.get("connector_type")) {
        Ok(t) => t,
        Err(_) => {
            return html::error_page(
                Some(&session),
                StatusCode::BAD_REQUEST,
                "connector_type: unknown connector type",
            );
        }
    };
    if action_id.is_some() == connector_type.is_some() {
        return html::error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            "give exactly one of action_id or connector_type",
        );
    }
    let mut letters = match dead.list(connector_type, usize::MAX).await {
        Ok(listing) => listing.letters,
        Err(error) => {
            tracing::error!(%error, "console: dead letters not read");
            return html::error_page(
                Some(&session),
                StatusCode::SERVICE_UNAVAILABLE,
                &error.to_string(),
            );
        }
    };
    if let Some(id) = action_id {
        letters.retain(|d| d.action_id() == Some(id));
        if letters.is_empty() {
            return html::error_page(
                Some(&session),
                StatusCode::NOT_FOUND,
                &format!(
                    "no dead letter for action {} (already replayed?)",
                    herald_catalog::echo(id)
                ),
            );
        }
    }
    let (mut replayed, mut failed) = (0, 0);
    for letter in &letters {
        match dead.replay(letter).await {
            Ok(()) => replayed += 1,
            Err(error) => {
                tracing::warn!(%error, sequence = letter.sequence, "console: dead letter not replayed");
                failed += 1;
            }
        }
    }
    tracing::info!(replayed, failed, "console: dead letters replayed");
    html::see_other(&format!(
        "/dead-letters?replayed={replayed}&failed={failed}"
    ))
}
