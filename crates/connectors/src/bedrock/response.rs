//! A model's answer: the completion's text (Anthropic's `content[].text`,
//! or a text completion's `completion`), the model, the token usage and
//! the stop reason become the result's handles. Errors are classified by
//! the status and by Bedrock's error type (`x-amzn-ErrorType`, or the
//! body's `__type`): throttling and an unavailable model are retried
//! (honouring `Retry-After`), a refused identity or a bad request is
//! refused for good with Bedrock's message.

use crate::delivery::attempt::with_reason;
use crate::delivery::outcome::parse_retry_after;
use crate::delivery::{HttpResponse, Outcome};
use crate::rest::{check, delivered, error_text, text_at};
use herald_proto::v1::ErrorKind;
use serde_json::Value;

const VENDOR: &str = "Amazon Bedrock";

pub fn classify(response: &HttpResponse) -> Outcome {
    let error_type = error_type(response);
    let outcome = match check(VENDOR, response) {
        Ok(json) => {
            return delivered(
                [
                    ("message", completion(&json)),
                    ("model", text_at(&json, "/model")),
                    ("input_tokens", text_at(&json, "/usage/input_tokens")),
                    ("output_tokens", text_at(&json, "/usage/output_tokens")),
                    ("stop_reason", text_at(&json, "/stop_reason")),
                ],
                response,
            );
        }
        Err(outcome) => outcome,
    };
    let Some(error_type) = error_type else {
        return outcome;
    };
    let status = response.status;
    let detail = error_text(&response.body);
    let reason = if detail.is_empty() {
        format!("{VENDOR} answered {status} ({error_type})")
    } else {
        format!("{VENDOR} answered {status} ({error_type}): {detail}")
    };
    let kind = match error_type.as_str() {
        "ThrottlingException" => Some((true, ErrorKind::Throttled)),
        "ServiceUnavailableException"
        | "ModelNotReadyException"
        | "InternalServerException"
        | "ModelTimeoutException" => Some((true, ErrorKind::VendorTemporary)),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "ExpiredTokenException" => Some((false, ErrorKind::Auth)),
        _ => None,
    };
    let vendor = Some(response.vendor_response());
    match kind {
        Some((true, kind)) => Outcome::Retry {
            kind,
            reason,
            after: response.header("retry-after").and_then(parse_retry_after),
            response: vendor,
        },
        Some((false, kind)) => Outcome::Permanent {
            kind,
            reason,
            response: vendor,
        },
        None => with_reason(outcome, reason),
    }
}

/// Bedrock's error type: `x-amzn-ErrorType` (`ThrottlingException:http://…`)
/// or the body's `__type` (`com.amazon…#ThrottlingException`).
fn error_type(response: &HttpResponse) -> Option<String> {
    if (200..300).contains(&response.status) {
        return None;
    }
    let header = response
        .header("x-amzn-errortype")
        .and_then(|value| value.split(':').next());
    let body = || {
        response
            .json()
            .and_then(|json| text_at(&json, "/__type"))
            .map(|kind| kind.rsplit('#').next().unwrap_or_default().to_owned())
    };
    header
        .map(str::to_owned)
        .or_else(body)
        .map(|kind| kind.trim().to_owned())
        .filter(|kind| !kind.is_empty())
}

/// The text of the answer's `text` content blocks, joined; or a text
/// completion's `completion`.
fn completion(json: &Value) -> Option<String> {
    let blocks = json.get("content").and_then(Value::as_array);
    let text: Vec<&str> = blocks
        .into_iter()
        .flatten()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect();
    if text.is_empty() {
        text_at(json, "/completion")
    } else {
        Some(text.concat())
    }
}
