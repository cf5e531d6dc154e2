//! What a Teams webhook's answer means. Incoming webhooks answer 200 (body
//! `1`), Workflows answer 202. Teams reports some failures inside a 200:
//! throttling as `ErrorCode:ApplicationThrottled` (Kibana retries it), and
//! a failed hand-over as `Webhook message delivery failed with error: ...
//! HTTP error <status>`.

use std::collections::BTreeMap;

use crate::delivery::outcome::parse_retry_after;
use crate::delivery::{HttpResponse, Outcome, classify_status};
use herald_proto::v1::ErrorKind;

use crate::delivery::attempt::{snippet, with_reason};

const FAILED_IN_200: &str = "Webhook message delivery failed";

pub fn classify(response: &HttpResponse) -> Outcome {
    let status = response.status;
    let body = String::from_utf8_lossy(&response.body);
    let vendor = Some(response.vendor_response());
    if (200..300).contains(&status) {
        let throttled = body.contains("ApplicationThrottled") || body.contains("HTTP error 429");
        if throttled {
            return Outcome::Retry {
                kind: ErrorKind::Throttled,
                reason: format!(
                    "Teams is throttling this webhook (ApplicationThrottled in a {status})"
                ),
                after: response.header("retry-after").and_then(parse_retry_after),
                response: vendor,
            };
        }
        if body.contains(FAILED_IN_200) {
            let reason = format!(
                "Teams answered {status} but did not deliver: {}",
                snippet(&response.body)
            );
            if body.contains("HTTP error 5") {
                return Outcome::Retry {
                    kind: ErrorKind::VendorTemporary,
                    reason,
                    after: None,
                    response: vendor,
                };
            }
            return Outcome::Permanent {
                kind: ErrorKind::VendorRejected,
                reason,
                response: vendor,
            };
        }
        return Outcome::Delivered {
            handles: BTreeMap::new(),
            response: vendor,
        };
    }
    let detail = detail(response);
    if matches!(status, 404 | 410) {
        return Outcome::Permanent {
            kind: ErrorKind::InvalidConfig,
            reason: format!(
                "Teams does not know this webhook ({status}{detail}): it was deleted, or it is a \
                 retired Office 365 connector; replace secrets.webhookUrl with a Workflows URL"
            ),
            response: vendor,
        };
    }
    let shared = classify_status(response).expect("not 2xx");
    let reason = match status {
        429 => "Teams is throttling this webhook (429)".to_owned(),
        401 | 403 => format!(
            "Teams refused the webhook's credentials ({status}{detail}): check secrets.webhookUrl"
        ),
        _ => format!("Teams answered {status}{detail}"),
    };
    with_reason(shared, reason)
}

/// Workflows answer errors as `{"error": {"code", "message"}}`; the code is
/// what to quote. Incoming webhooks answer a short text.
fn detail(response: &HttpResponse) -> String {
    let code = response.json().and_then(|json| {
        json.pointer("/error/code")
            .and_then(|c| c.as_str())
            .map(str::to_owned)
    });
    let text = code.unwrap_or_else(|| snippet(&response.body));
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}
