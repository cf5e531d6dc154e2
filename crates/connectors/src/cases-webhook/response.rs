//! Reading the case system's answers: the new case's id at
//! `createIncidentResponseKey` and its title at
//! `getIncidentResponseExternalTitleKey`, both dotted paths (`data.id`).

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::Value;

pub fn ok(response: &HttpResponse) -> Result<(), Outcome> {
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(vendor_error(response, "the case system"))
    }
}

/// The value at a dotted path, as text (ids are often numbers).
fn at(json: &Value, key: &str) -> Option<String> {
    let value = key.split('.').try_fold(json, |value, part| match value {
        Value::Array(items) => items.get(part.parse::<usize>().ok()?),
        _ => value.get(part),
    })?;
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The created case's id. Missing, the case may still exist: not retried.
pub fn created_id(response: &HttpResponse, key: &str) -> Result<String, Outcome> {
    ok(response)?;
    response.json().and_then(|json| at(&json, key)).ok_or_else(|| Outcome::Permanent {
        kind: ErrorKind::VendorRejected,
        reason: format!(
            "the case system answered {} without an id at config.createIncidentResponseKey ({key}); \
             check whether the case was created",
            response.status
        ),
        response: Some(response.vendor_response()),
    })
}

pub fn title(response: &HttpResponse, key: &str) -> Option<String> {
    ok(response).ok()?;
    at(&response.json()?, key)
}
