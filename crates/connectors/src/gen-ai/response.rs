//! A chat completion's answer: its first choice's text, the model and the
//! token usage become the result's handles. Rate limits are retried after
//! the longest of `Retry-After` and OpenAI's `x-ratelimit-reset-*`; a
//! prompt over the model's context is refused for good, saying so.

use std::time::Duration;

use crate::delivery::{HttpResponse, Outcome};
use crate::rest::{check, delivered, text_at};
use herald_proto::v1::ErrorKind;

pub fn classify(response: &HttpResponse) -> Outcome {
    if response.status == 400
        && response
            .json()
            .and_then(|json| text_at(&json, "/error/code"))
            .as_deref()
            == Some("context_length_exceeded")
    {
        return Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: "OpenAI refused the prompt: it is longer than the model's context \
                     (context_length_exceeded)"
                .into(),
            response: Some(response.vendor_response()),
        };
    }
    match check("OpenAI", response) {
        Ok(json) => delivered(
            [
                ("message", text_at(&json, "/choices/0/message/content")),
                ("model", text_at(&json, "/model")),
                ("prompt_tokens", text_at(&json, "/usage/prompt_tokens")),
                (
                    "completion_tokens",
                    text_at(&json, "/usage/completion_tokens"),
                ),
                ("total_tokens", text_at(&json, "/usage/total_tokens")),
            ],
            response,
        ),
        Err(Outcome::Retry {
            kind,
            reason,
            after,
            response: vendor,
        }) if response.status == 429 => {
            let resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
                .iter()
                .filter_map(|name| response.header(name).and_then(parse_reset));
            Outcome::Retry {
                kind,
                reason,
                after: after.into_iter().chain(resets).max(),
                response: vendor,
            }
        }
        Err(outcome) => outcome,
    }
}

/// OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
pub fn parse_reset(value: &str) -> Option<Duration> {
    let mut rest = value.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += Duration::try_from_secs_f64(number * unit).ok()?;
    }
    Some(total)
}
