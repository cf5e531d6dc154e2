//! What a Slack webhook's answer means. Webhooks answer `ok` in plain text;
//! errors are a status and a short code in the body (`invalid_payload`,
//! `channel_not_found`, `no_service`, ...), documented at
//! <https://api.slack.com/messaging/webhooks#handling_errors>.

use std::collections::BTreeMap;

use crate::delivery::{HttpResponse, Outcome, classify_status};
use herald_proto::v1::ErrorKind;

use crate::delivery::attempt::{snippet, with_reason};

pub fn classify(response: &HttpResponse) -> Outcome {
    let status = response.status;
    let code = snippet(&response.body);
    let vendor = Some(response.vendor_response());
    if (200..300).contains(&status) {
        if code == "ok" {
            return Outcome::Delivered {
                handles: BTreeMap::new(),
                response: vendor,
            };
        }
        return Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!("Slack answered {status} with \"{code}\" instead of \"ok\""),
            response: vendor,
        };
    }
    // Throttling and Slack's own failures are retried whatever the body says.
    if matches!(status, 408 | 429 | 500..=599) {
        let shared = classify_status(response).expect("not 2xx");
        let reason = match status {
            429 => "Slack is rate limiting this webhook (429)".to_owned(),
            _ => format!("Slack answered {status}{}", with_code(&code)),
        };
        return with_reason(shared, reason);
    }
    let (kind, reason) = match code.as_str() {
        "invalid_payload"
        | "no_text"
        | "invalid_blocks"
        | "invalid_blocks_format"
        | "invalid_attachments"
        | "too_many_attachments"
        | "msg_too_long" => (
            ErrorKind::InvalidParams,
            format!("Slack refused the message ({code}): check message, blocks and attachments"),
        ),
        "channel_not_found" | "channel_is_archived" | "user_not_found" => (
            ErrorKind::VendorRejected,
            format!(
                "Slack cannot post to the channel ({code}): check the channel param, or whether \
                 the webhook's channel still exists"
            ),
        ),
        "action_prohibited" | "posting_to_general_channel_denied" => (
            ErrorKind::VendorRejected,
            format!("a Slack workspace admin restricts posting to this channel ({code})"),
        ),
        "invalid_token" | "team_disabled" => (
            ErrorKind::Auth,
            format!("Slack refused the webhook's credentials ({code}): replace secrets.webhookUrl"),
        ),
        _ if matches!(code.as_str(), "no_service" | "no_team" | "no_active_hooks")
            || matches!(status, 404 | 410) =>
        {
            (
                ErrorKind::InvalidConfig,
                format!(
                    "Slack does not know this webhook ({status}{}): it was revoked or its app \
                     removed; replace secrets.webhookUrl",
                    with_code(&code)
                ),
            )
        }
        _ => {
            let shared = classify_status(response).expect("not 2xx");
            return with_reason(
                shared,
                format!("Slack answered {status}{}", with_code(&code)),
            );
        }
    };
    Outcome::Permanent {
        kind,
        reason,
        response: vendor,
    }
}

fn with_code(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(": {code}")
    }
}
