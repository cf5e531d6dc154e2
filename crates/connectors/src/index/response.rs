//! A bulk answer is 200 even when documents failed: `errors: true` and a
//! `status` and `error` per item. Documents already written are not written
//! again (auto ids would duplicate them), so a partial failure is permanent
//! and names each failed document; when every document was refused with
//! 429 (the cluster pushing back) nothing was written and the whole bulk is
//! retried.

use std::collections::BTreeMap;

use crate::delivery::attempt::{snippet, vendor_error};
use crate::delivery::{HttpResponse, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::Value;

pub fn classify(response: &HttpResponse) -> Outcome {
    if !(200..300).contains(&response.status) {
        return vendor_error(response, "Elasticsearch");
    }
    let vendor = Some(response.vendor_response());
    let Some(json) = response.json() else {
        return Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!(
                "the bulk endpoint answered {} without a bulk response",
                response.status
            ),
            response: vendor,
        };
    };
    let items = json
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<(u64, Option<&Value>)> = items
        .iter()
        .map(|item| {
            let op = item.as_object().and_then(|op| op.values().next());
            let status = op
                .and_then(|op| op.get("status"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (status, op.and_then(|op| op.get("error")))
        })
        .collect();
    let failed: Vec<String> = statuses
        .iter()
        .enumerate()
        .filter(|(_, (status, error))| error.is_some() || *status >= 300)
        .map(|(index, (status, error))| {
            format!(
                "documents[{index}]: {status} {}",
                error.map(describe).unwrap_or_default()
            )
        })
        .collect();
    if json.get("errors") != Some(&Value::Bool(true)) && failed.is_empty() {
        return Outcome::Delivered {
            handles: BTreeMap::from([("indexed".to_owned(), items.len().to_string())]),
            response: vendor,
        };
    }
    let reason = snippet(
        format!(
            "{} of {} documents not indexed: {}",
            failed.len(),
            items.len(),
            failed.join("; ")
        )
        .as_bytes(),
    );
    if !statuses.is_empty() && statuses.iter().all(|(status, _)| *status == 429) {
        return Outcome::Retry {
            kind: ErrorKind::Throttled,
            reason,
            after: None,
            response: vendor,
        };
    }
    Outcome::Permanent {
        kind: ErrorKind::VendorRejected,
        reason,
        response: vendor,
    }
}

/// `type: reason (caused_by.reason)`.
fn describe(error: &Value) -> String {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut out = format!("{}: {}", text(error.get("type")), text(error.get("reason")));
    if let Some(cause) = error
        .get("caused_by")
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
    {
        out.push_str(&format!(" ({cause})"));
    }
    out
}
