//! What HTTP connectors share around their pure `build` and `classify`
//! functions: the attempt itself and the wording of reasons.

use crate::http::Outbound;
use crate::{Account, HttpRequest, HttpResponse, Outcome};

/// The one attempt an HTTP connector makes: build, send, classify. A
/// request that cannot be built is already its outcome.
pub async fn attempt(
    http: &Outbound,
    account: &Account,
    request: Result<HttpRequest, Outcome>,
    classify: fn(&HttpResponse) -> Outcome,
) -> Outcome {
    let request = match request {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    match http.send(account, request).await {
        Ok(response) => classify(&response),
        Err(error) => error.outcome(),
    }
}

/// The start of a vendor's answer, on one line, for a reason: enough to
/// show an error code or a short message, never a whole page.
pub fn snippet(body: &[u8]) -> String {
    const KEEP: usize = 200;
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// `outcome` with its reason replaced: the shared status classification
/// says "the vendor answered 500", a connector knows which vendor and why.
pub fn with_reason(outcome: Outcome, reason: String) -> Outcome {
    match outcome {
        Outcome::Retry {
            kind,
            after,
            response,
            ..
        } => Outcome::Retry {
            kind,
            reason,
            after,
            response,
        },
        Outcome::Permanent { kind, response, .. } => Outcome::Permanent {
            kind,
            reason,
            response,
        },
        delivered @ Outcome::Delivered { .. } => delivered,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn snippets_are_short_single_lines() {
        assert_eq!(super::snippet(b" invalid_payload\n"), "invalid_payload");
        assert_eq!(super::snippet(b"a\n  b"), "a b");
        let long = "x".repeat(500);
        assert_eq!(
            super::snippet(long.as_bytes()),
            format!("{}...", "x".repeat(200))
        );
    }
}
