//! What HTTP connectors share around their pure `build` and `classify`
//! functions: the attempt itself and the wording of reasons.

use serde_json::Value;

use crate::delivery::http::Outbound;
use crate::delivery::{Account, HttpRequest, HttpResponse, Outcome, classify_status};

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

/// One exchange of a connector that makes several (create, then comment):
/// the response, or the outcome of a request that got none.
pub async fn send(
    http: &Outbound,
    account: &Account,
    request: HttpRequest,
) -> Result<HttpResponse, Outcome> {
    http.send(account, request).await.map_err(|e| e.outcome())
}

/// The outcome of a non-2xx answer from `vendor`, by the shared status
/// rules, with a reason that names the vendor and quotes its own error
/// text (`Jira answered 400: Field 'priority' cannot be set`).
pub fn vendor_error(response: &HttpResponse, vendor: &str) -> Outcome {
    let status = response.status;
    let Some(outcome) = classify_status(response) else {
        return Outcome::permanent(
            herald_proto::v1::ErrorKind::VendorRejected,
            format!("{vendor} answered {status} without the expected content"),
        );
    };
    let detail = error_detail(&response.body);
    let reason = match (status, detail.is_empty()) {
        (429, _) => format!("{vendor} is rate limiting (429)"),
        (_, true) => format!("{vendor} answered {status}"),
        (_, false) => format!("{vendor} answered {status}: {detail}"),
    };
    with_reason(outcome, reason)
}

/// A vendor's own error text out of its JSON answer: the fields vendors
/// use (`errorMessages` and `errors` for Jira, `message` for Opsgenie and
/// PagerDuty, `error.reason` for Elasticsearch, `error_description` for
/// OAuth), else the start of the body.
pub fn error_detail(body: &[u8]) -> String {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return snippet(body);
    };
    let mut parts: Vec<String> = Vec::new();
    let mut add = |value: &Value| match value {
        Value::String(text) if !text.is_empty() => parts.push(text.clone()),
        Value::Array(items) => parts.extend(items.iter().map(|item| match item {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })),
        Value::Object(map) if !map.is_empty() => {
            let reason = map.get("reason").and_then(Value::as_str);
            let caused = map
                .get("caused_by")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str);
            match (reason, caused) {
                (Some(reason), Some(caused)) => parts.push(format!("{reason} ({caused})")),
                (Some(reason), None) => parts.push(reason.to_owned()),
                _ => parts.extend(map.iter().map(|(k, v)| match v {
                    Value::String(text) => format!("{k}: {text}"),
                    other => format!("{k}: {other}"),
                })),
            }
        }
        _ => {}
    };
    for key in [
        "errorMessages",
        "message",
        "error",
        "error_description",
        "errors",
    ] {
        if let Some(value) = json.get(key) {
            add(value);
        }
    }
    if parts.is_empty() {
        return snippet(body);
    }
    snippet(parts.join("; ").as_bytes())
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
    fn error_details_quote_the_vendor() {
        let cases: [(&str, &str); 6] = [
            (
                r#"{"errorMessages":["Issue does not exist"],"errors":{"priority":"bad"}}"#,
                "Issue does not exist; priority: bad",
            ),
            (
                r#"{"message":"Key format is not valid!","took":0.0}"#,
                "Key format is not valid!",
            ),
            (
                r#"{"error":{"type":"x","reason":"failed to parse","caused_by":{"reason":"bad date"}}}"#,
                "failed to parse (bad date)",
            ),
            (
                r#"{"error":"invalid_client","error_description":"no such client"}"#,
                "invalid_client; no such client",
            ),
            (
                r#"{"status":"invalid event","message":"Event object is invalid","errors":["'routing_key' is missing"]}"#,
                "Event object is invalid; 'routing_key' is missing",
            ),
            ("<html>Bad gateway</html>\n", "<html>Bad gateway</html>"),
        ];
        for (body, expected) in cases {
            assert_eq!(super::error_detail(body.as_bytes()), expected, "{body}");
        }
    }

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
