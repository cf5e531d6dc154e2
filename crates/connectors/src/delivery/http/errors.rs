//! Turning reqwest's errors into `SendError`s that say what went wrong
//! without the URL: reqwest puts the URL in its Display, and nested errors
//! (a redirect's target, a proxy's address) can carry one too.

use std::error::Error as StdError;

use super::{LookupError, MAX_REDIRECTS, SendError};

#[derive(Debug)]
pub(super) struct TooManyRedirects;

impl std::fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {MAX_REDIRECTS} redirects")
    }
}

impl StdError for TooManyRedirects {}

pub(super) fn from_reqwest(error: reqwest::Error) -> SendError {
    let error = error.without_url();
    let chain = causes(&error);
    for cause in &chain {
        // The resolver refused every address of the host.
        if let Some(LookupError::Internal(refused)) = cause.downcast_ref::<LookupError>() {
            return SendError::InternalAddress(super::InternalAddress {
                host: refused.host.clone(),
                ip: refused.ip,
            });
        }
    }
    if error.is_timeout() {
        return SendError::Timeout;
    }
    if let Some(tls) = chain.iter().find_map(|c| c.downcast_ref::<rustls::Error>()) {
        return SendError::Tls(scrub(&tls.to_string()));
    }
    if error.is_builder() {
        return SendError::InvalidRequest(describe(&error));
    }
    SendError::Connect(describe(&error))
}

/// The error and its causes, looking inside `io::Error`s too (their
/// `source()` skips the error they wrap, which is where rustls puts its).
fn causes<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        out.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => cause.source(),
        };
    }
    out
}

/// The cause chain as one line, `outer: inner: innermost`, without URLs.
/// Nested reqwest errors are left out: their Display carries a URL and adds
/// nothing but their kind.
pub(super) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (depth, cause) in causes(error).into_iter().enumerate() {
        if depth > 0 && cause.is::<reqwest::Error>() {
            continue;
        }
        let text = scrub(&cause.to_string());
        // Wrappers often repeat their cause's message.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Replaces any word that looks like a URL: the last line of defence for
/// messages we did not write.
fn scrub(text: &str) -> String {
    if !text.contains("://") {
        return text.to_owned();
    }
    text.split(' ')
        .map(|word| if word.contains("://") { "[url]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_urls() {
        assert_eq!(
            scrub("error for url (http://h/secret?token=x) via socks5h://u:p@proxy:1"),
            "error for url [url] via [url]"
        );
        assert_eq!(scrub("connection refused"), "connection refused");
    }

    #[test]
    fn describe_walks_io_errors() {
        let inner = rustls::Error::General("bad cert".into());
        let io = std::io::Error::other(inner);
        let chain = causes(&io);
        assert!(chain.iter().any(|c| c.is::<rustls::Error>()));
        assert!(describe(&io).contains("bad cert"));
    }
}
