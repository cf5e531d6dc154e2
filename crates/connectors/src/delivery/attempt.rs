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
    classify: impl FnOnce(&HttpResponse) -> Outcome,
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
/// rules (429 and 5xx retried honouring `Retry-After`, 401/403 an
/// authentication failure, other 4xx refused for good), with a reason that
/// names the vendor and quotes its own error text (`Jira answered 400:
/// Field 'priority' cannot be set`). Every connector words vendor errors
/// with this one function.
pub fn vendor_error(response: &HttpResponse, vendor: &str) -> Outcome {
    let status = response.status;
    let Some(outcome) = classify_status(response) else {
        return Outcome::permanent(
            herald_proto::v1::ErrorKind::VendorRejected,
            format!("{vendor} answered {status} without the expected content"),
        );
    };
    let detail = error_text(&response.body);
    let reason = match (status, detail.is_empty()) {
        (429, _) => format!("{vendor} is rate limiting this account (429)"),
        (_, true) => format!("{vendor} answered {status}"),
        (_, false) => format!("{vendor} answered {status}: {detail}"),
    };
    with_reason(outcome, reason)
}

/// The JSON body of a 2xx answer (`Null` when there is none or it is not
/// JSON), or [`vendor_error`]'s outcome for any other status.
pub fn check(vendor: &str, response: &HttpResponse) -> Result<Value, Outcome> {
    if classify_status(response).is_some() {
        return Err(vendor_error(response, vendor));
    }
    Ok(response.json().unwrap_or(Value::Null))
}

/// A vendor's own words for an error, from the shapes their APIs use:
/// Jira's `errorMessages` and `errors`, `message` (Opsgenie, PagerDuty,
/// Resilient, TheHive, xMatters, Torq), `error` as text (Tines, D3, OAuth),
/// as ServiceNow's `{message, detail}` or Elasticsearch's `{reason,
/// caused_by}`, OAuth's `error_description`, Swimlane's `ErrorCode` and
/// `Argument`; else the start of the body.
pub fn error_text(body: &[u8]) -> String {
    let Ok(Value::Object(json)) = serde_json::from_slice::<Value>(body) else {
        return snippet(body);
    };
    let mut parts: Vec<String> = Vec::new();
    let mut push = |text: String| {
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
    };
    if let Some(Value::Array(items)) = json.get("errorMessages") {
        items.iter().filter_map(item_text).for_each(&mut push);
    }
    if let Some(message) = json.get("message").and_then(text_of) {
        push(message);
    }
    match json.get("error") {
        Some(Value::Object(error)) => {
            let text = |key: &str| error.get(key).and_then(text_of);
            let caused = error
                .get("caused_by")
                .and_then(|c| c.get("reason"))
                .and_then(text_of);
            match (text("reason"), caused, text("message"), text("detail")) {
                (Some(reason), Some(caused), _, _) => push(format!("{reason} ({caused})")),
                (Some(reason), None, _, _) => push(reason),
                (None, _, Some(message), Some(detail)) => push(format!("{message}: {detail}")),
                (None, _, Some(message), None) => push(message),
                _ => pairs(error).into_iter().for_each(&mut push),
            }
        }
        Some(Value::Array(items)) => items.iter().filter_map(item_text).for_each(&mut push),
        Some(other) => text_of(other).into_iter().for_each(&mut push),
        None => {}
    }
    if let Some(description) = json.get("error_description").and_then(text_of) {
        push(description);
    }
    match json.get("errors") {
        Some(Value::Array(items)) => items.iter().filter_map(item_text).for_each(&mut push),
        Some(Value::Object(map)) => pairs(map).into_iter().for_each(&mut push),
        _ => {}
    }
    if let Some(code) = json.get("ErrorCode").and_then(text_of) {
        match json.get("Argument").and_then(text_of) {
            Some(argument) => push(format!("ErrorCode {code}: {argument}")),
            None => push(format!("ErrorCode {code}")),
        }
    }
    if parts.is_empty() {
        return snippet(body);
    }
    snippet(parts.join("; ").as_bytes())
}

/// A string or a number, as text.
pub fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// One item of an error list: text, or an object's `message`, or the
/// object as JSON.
fn item_text(item: &Value) -> Option<String> {
    match item {
        Value::Object(map) => match map.get("message").and_then(text_of) {
            Some(message) => Some(message),
            None => Some(item.to_string()),
        },
        other => text_of(other).or_else(|| Some(other.to_string())),
    }
}

/// `key: value` for each field of an error object.
fn pairs(map: &serde_json::Map<String, Value>) -> Vec<String> {
    map.iter()
        .map(|(key, value)| match text_of(value) {
            Some(text) => format!("{key}: {text}"),
            None => format!("{key}: {value}"),
        })
        .collect()
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
        let cases: [(&str, &str); 10] = [
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
            (
                r#"{"error":{"message":"Invalid table","detail":"no such table"},"status":"failure"}"#,
                "Invalid table: no such table",
            ),
            (
                r#"{"ErrorCode":1051,"Argument":"ApplicationId"}"#,
                "ErrorCode 1051: ApplicationId",
            ),
            (r#"{"errors":[{"message":"bad field"}]}"#, "bad field"),
            (r#"{"other":1}"#, r#"{"other":1}"#),
        ];
        for (body, expected) in cases {
            assert_eq!(super::error_text(body.as_bytes()), expected, "{body}");
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
