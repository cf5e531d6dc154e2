//! Signing in with a role's token (admin or producer; the service role is
//! for ingest and workers, not people) and signing out. See `session.rs`
//! for what the cookie holds and how the sign-in form is protected.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::super::AppState;
use super::FormData;
use super::html::{self, Nav, esc};
use super::session::{SESSION_COOKIE, SIGNIN_COOKIE, Session, cookie_value, now_seconds};
use crate::auth::Role;

/// The sign-in page, with a fresh `herald_signin` cookie and its form token.
pub(super) async fn form(State(state): State<AppState>) -> Response {
    signin_page(&state, StatusCode::OK, None)
}

fn signin_page(state: &AppState, status: StatusCode, problem: Option<&str>) -> Response {
    let (nonce, token) = state.console.new_signin();
    let problem = problem.map_or(String::new(), |p| {
        format!(
            "<p class=\"field-error\" id=\"token-error\" role=\"alert\">{}</p>",
            esc(p)
        )
    });
    let invalid = if problem.is_empty() {
        ""
    } else {
        " aria-invalid=\"true\" aria-describedby=\"token-error\""
    };
    let body = format!(
        "<form class=\"card narrow\" method=\"post\" action=\"/sign-in\">\
         <input type=\"hidden\" name=\"signin\" value=\"{token}\">\
         <div class=\"field\"><label for=\"token\">Token</label>\
         <p class=\"hint\">The admin or producer token (HERALD_ADMIN_TOKEN, HERALD_PRODUCER_TOKEN; \
         <code>heraldctl up</code> writes them to <code>herald-data/tokens.env</code>).</p>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required autofocus{invalid}>\
         {problem}</div><button type=\"submit\" class=\"primary\">Sign in</button></form>",
        token = esc(&token),
    );
    let mut response = html::page_with_status(status, None, Nav::None, "Sign in", &body);
    response
        .headers_mut()
        .append(header::SET_COOKIE, state.console.signin_cookie(&nonce));
    response
}

/// Whether the request's `Origin`, when the browser sent one, is this
/// console's own: the `Host` it was asked for, or the `X-Forwarded-Host` a
/// reverse proxy in front of it names.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or_default();
    [header::HOST.as_str(), "x-forwarded-host"]
        .iter()
        .any(|name| {
            headers
                .get(*name)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| !host.is_empty() && host == origin_host)
        })
}

pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let nonce = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
    let presented = form.get("signin").unwrap_or_default();
    if !same_origin(&headers) || !state.console.signin_matches(nonce, presented) {
        return html::error_page(
            None,
            StatusCode::FORBIDDEN,
            "This sign-in did not come from this console's own sign-in form (its cookie or token is missing): open the sign-in page and try again.",
        );
    }
    let token = form.get("token").unwrap_or_default().trim();
    let role = state
        .tokens
        .identify(Some(format!("Bearer {token}").as_bytes()));
    match role {
        Ok(role @ (Role::Admin | Role::Producer)) => {
            let cookie = state.console.issue(role, token, now_seconds());
            let mut response = html::see_other("/");
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, state.console.session_cookie(&cookie));
            headers.append(
                header::SET_COOKIE,
                state.console.cookie(SIGNIN_COOKIE, "", 0),
            );
            tracing::info!(role = role.name(), "console sign-in");
            response
        }
        Ok(Role::Service) => signin_page(
            &state,
            StatusCode::FORBIDDEN,
            Some(
                "The service token is for ingest and workers: sign in with the admin or producer token.",
            ),
        ),
        Err(_) => {
            tracing::info!("console sign-in refused: unknown token");
            signin_page(
                &state,
                StatusCode::UNAUTHORIZED,
                Some(
                    "This token is not one of the registry's (HERALD_ADMIN_TOKEN, HERALD_PRODUCER_TOKEN).",
                ),
            )
        }
    }
}

/// Clears the session cookie; a CSRF-protected POST, so another site
/// cannot sign anyone out.
pub(super) async fn sign_out(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    if let Err(refused) = session.posted_form(&body) {
        return *refused;
    }
    let mut response = html::see_other("/sign-in");
    response.headers_mut().append(
        header::SET_COOKIE,
        state.console.cookie(SESSION_COOKIE, "", 0),
    );
    response.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cache\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cross_site_origin_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&headers), "no Origin: the cookie decides");
        headers.insert(header::ORIGIN, "http://127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
        headers.insert("x-forwarded-host", "evil.example".parse().unwrap());
        assert!(same_origin(&headers), "a proxy named the public host");
        headers.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&headers));
    }
}
