//! Herald's chat worker: the connectors that post to chat tools (`slack`,
//! `slack_api`, `teams`). Each is a folder with the same files: `mod.rs`
//! (its params / config / secrets types and the `Connector`), `request.rs`
//! (a pure build), `response.rs` (a pure classify) and `tests.rs`. The
//! consume loop, retries and outbound HTTP live in `herald-worker`.

use std::sync::Arc;

use herald_worker::http::Outbound;
use herald_worker::{Account, Connector, HttpRequest, HttpResponse, Outcome};

mod fields;
pub mod slack;
pub mod slack_api;
pub mod teams;

#[cfg(test)]
mod test_support;

pub use slack::Slack;
pub use slack_api::SlackApi;
pub use teams::Teams;

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![Arc::new(Slack), Arc::new(SlackApi), Arc::new(Teams)]
}

/// The one attempt every connector here makes: build, send, classify. A
/// request that cannot be built is already its outcome.
pub(crate) async fn attempt(
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
pub(crate) fn snippet(body: &[u8]) -> String {
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
pub(crate) fn with_reason(outcome: Outcome, reason: String) -> Outcome {
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

    #[test]
    fn serves_the_chat_types() {
        let types: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        assert_eq!(types, ["slack", "slack_api", "teams"]);
    }

    #[test]
    fn serves_every_type_the_catalog_gives_this_worker() {
        let chat: Vec<&str> = herald_catalog::catalog()
            .all()
            .iter()
            .filter(|spec| spec.worker == herald_catalog::Worker::Chat)
            .map(|spec| spec.id)
            .collect();
        let served: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        assert_eq!(served, chat);
    }
}
