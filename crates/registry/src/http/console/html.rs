//! The console's HTML pieces: escaping, the page frame with its navigation,
//! times, links and the headers every console answer carries. Pages are
//! `format!` strings; every value that did not come from this code goes
//! through [`esc`] (or [`url_part`] inside a URL) on its way in.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Session;

/// Text made safe for HTML element content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text percent-encoded for a path segment or a query value (then still
/// passed through [`esc`] by the caller when it lands in an attribute).
pub(crate) fn url_part(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A time as `<time datetime="RFC 3339">`, shown in UTC until the console's
/// script rewrites it in the viewer's zone; a dash for none (0).
pub(crate) fn time(ms: i64) -> String {
    if ms <= 0 {
        return "—".to_owned();
    }
    let t = prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    let text = t.to_string();
    format!("<time datetime=\"{0}\">{0}</time>", esc(&text))
}

/// A protobuf time as [`time`] shows it.
pub(crate) fn proto_time(t: Option<&prost_types::Timestamp>) -> String {
    match t {
        Some(t) => time(t.seconds * 1000 + i64::from(t.nanos) / 1_000_000),
        None => "—".to_owned(),
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Which entry of the navigation bar a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Accounts,
    Deliveries,
    DeadLetters,
    Routes,
    /// Pages outside the bar (sign-in, errors).
    None,
}

const NAV: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "/", "Overview"),
    (Nav::Accounts, "/accounts", "Accounts"),
    (Nav::Deliveries, "/deliveries", "Deliveries"),
    (Nav::DeadLetters, "/dead-letters", "Dead letters"),
    (Nav::Routes, "/routes", "Routes and alerts"),
];

/// The hidden field that carries a signed-in form's CSRF token.
pub(crate) fn csrf_field(session: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(session.csrf())
    )
}

/// A whole page: the frame, the navigation bar (with sign-out) when
/// someone is signed in, and `body`.
pub(crate) fn page(session: Option<&Session>, nav: Nav, title: &str, body: &str) -> Response {
    page_with_status(StatusCode::OK, session, nav, title, body)
}

pub(crate) fn page_with_status(
    status: StatusCode,
    session: Option<&Session>,
    nav: Nav,
    title: &str,
    body: &str,
) -> Response {
    let bar = match session {
        Some(session) => {
            let links: String = NAV
                .iter()
                .map(|(entry, href, label)| {
                    let current = if *entry == nav {
                        " aria-current=\"page\""
                    } else {
                        ""
                    };
                    format!("<li><a href=\"{href}\"{current}>{label}</a></li>")
                })
                .collect();
            format!(
                "<nav class=\"bar\" aria-label=\"Console\"><a class=\"brand\" href=\"/\">\
                 <img src=\"/console/assets/herald.svg\" alt=\"\" width=\"24\" height=\"24\"> Herald</a>\
                 <ul>{links}</ul><form class=\"signout\" method=\"post\" action=\"/sign-out\">{csrf}\
                 <span class=\"role\">{role}</span> <button type=\"submit\">Sign out</button></form></nav>",
                csrf = csrf_field(session),
                role = session.role().name(),
            )
        }
        None => "<nav class=\"bar\" aria-label=\"Console\"><span class=\"brand\">\
                 <img src=\"/console/assets/herald.svg\" alt=\"\" width=\"24\" height=\"24\"> Herald</span></nav>"
            .to_owned(),
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Herald</title>\
         <link rel=\"icon\" href=\"/console/assets/herald.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         <script src=\"/console/assets/console.js\" defer></script></head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a><header>{bar}</header>\
         <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>\n{body}\n</main></body></html>\n",
        title = esc(title),
    );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// An error page: what went wrong and where to go from here.
pub(crate) fn error_page(session: Option<&Session>, status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let next = if session.is_some() {
        "<p><a href=\"/\">Back to the overview</a></p>"
    } else {
        "<p><a href=\"/sign-in\">Sign in</a></p>"
    };
    page_with_status(
        status,
        session,
        Nav::None,
        title,
        &format!(
            "<p class=\"error\" role=\"alert\">{}</p>{next}",
            esc(message)
        ),
    )
}

/// `303 See Other` to `location` (after a form, so a reload does not post again).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The Content-Security-Policy of every console answer: only the console's
/// own script and style sheet, no inline script or style, no framing.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

/// Adds the console's security headers; pages (everything but the assets,
/// which set their own caching) are never stored.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_every_html_special_character() {
        assert_eq!(
            esc(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(esc("plain text é"), "plain text é");
        assert_eq!(url_part("a b/c?d=&e"), "a+b%2Fc%3Fd%3D%26e");
    }

    #[test]
    fn times_are_machine_readable_and_none_is_a_dash() {
        assert_eq!(
            time(1_700_000_000_123),
            "<time datetime=\"2023-11-14T22:13:20.123Z\">2023-11-14T22:13:20.123Z</time>"
        );
        assert_eq!(time(0), "—");
    }
}
