//! What a Web API answer means. Slack answers most errors as HTTP 200 with
//! `{"ok": false, "error": "<code>"}` (<https://api.slack.com/web#responses>)
//! and rate limits as 429 with `Retry-After`. On success the message's `ts`
//! and `channel` are the handles (for threading or editing later).

use std::collections::BTreeMap;

use crate::delivery::outcome::parse_retry_after;
use crate::delivery::{HttpResponse, Outcome, classify_status};
use herald_proto::v1::ErrorKind;
use serde_json::Value;

use crate::delivery::attempt::{snippet, with_reason};

pub fn classify(response: &HttpResponse) -> Outcome {
    let status = response.status;
    let json = response.json();
    let vendor = Some(response.vendor_response());
    if !(200..300).contains(&status) {
        let code = json
            .as_ref()
            .and_then(error_code)
            .map(|code| format!(": {code}"))
            .unwrap_or_default();
        if status == 404 {
            return Outcome::Permanent {
                kind: ErrorKind::InvalidConfig,
                reason: format!("the Slack API answered 404{code}: check config.apiUrl"),
                response: vendor,
            };
        }
        let shared = classify_status(response).expect("not 2xx");
        let reason = match status {
            429 => "the Slack API is rate limiting this token (429)".to_owned(),
            401 | 403 => {
                format!("the Slack API refused the token ({status}{code}): check secrets.token")
            }
            _ => format!("the Slack API answered {status}{code}"),
        };
        return with_reason(shared, reason);
    }
    let Some(json) = json.filter(Value::is_object) else {
        return Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!(
                "the Slack API answered {status} without a JSON object ({}): check config.apiUrl",
                snippet(&response.body)
            ),
            response: vendor,
        };
    };
    if json.get("ok") == Some(&Value::Bool(true)) {
        return Outcome::Delivered {
            handles: handles(&json),
            response: vendor,
        };
    }
    let code = error_code(&json).unwrap_or("unknown_error");
    let permanent = |kind, reason| Outcome::Permanent {
        kind,
        reason,
        response: vendor.clone(),
    };
    let retry = |kind, reason, after| Outcome::Retry {
        kind,
        reason,
        after,
        response: vendor.clone(),
    };
    match code {
        "ratelimited" | "rate_limited" => retry(
            ErrorKind::Throttled,
            format!("the Slack API is rate limiting this token ({code})"),
            response.header("retry-after").and_then(parse_retry_after),
        ),
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => retry(
            ErrorKind::VendorTemporary,
            format!("the Slack API failed on its side ({code})"),
            None,
        ),
        "invalid_auth"
        | "not_authed"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "no_permission"
        | "missing_scope"
        | "not_allowed_token_type" => permanent(
            ErrorKind::Auth,
            format!(
                "the Slack API refused the token ({code}): check secrets.token and its scopes \
                 (chat:write, channels:read)"
            ),
        ),
        "channel_not_found" | "not_in_channel" | "is_archived" => permanent(
            ErrorKind::VendorRejected,
            format!(
                "Slack cannot post to the channel ({code}): check that it exists, is not \
                 archived, and that the app is invited to it"
            ),
        ),
        "invalid_blocks"
        | "invalid_blocks_format"
        | "no_text"
        | "msg_too_long"
        | "too_many_attachments"
        | "invalid_arguments" => permanent(
            ErrorKind::InvalidParams,
            format!("Slack refused the message ({code}): check subActionParams.text"),
        ),
        _ => permanent(
            ErrorKind::VendorRejected,
            format!("the Slack API refused the call ({code})"),
        ),
    }
}

fn error_code(json: &Value) -> Option<&str> {
    json.get("error")
        .and_then(Value::as_str)
        .filter(|code| !code.is_empty())
}

/// `ts` and the channel id: `chat.postMessage` answers `channel` as an id,
/// `conversations.info` as an object with one.
fn handles(json: &Value) -> BTreeMap<String, String> {
    let mut handles = BTreeMap::new();
    if let Some(ts) = json.get("ts").and_then(Value::as_str) {
        handles.insert("ts".to_owned(), ts.to_owned());
    }
    let channel = match json.get("channel") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(channel) => channel.get("id").and_then(Value::as_str),
        None => None,
    };
    if let Some(channel) = channel {
        handles.insert("channel".to_owned(), channel.to_owned());
    }
    handles
}
