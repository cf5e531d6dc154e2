//! Jira's answers: `201 {"id","key","self"}` for a created issue, `204`
//! for an update, `201` for a comment; errors carry `errorMessages` and
//! `errors` (quoted in the reason by `vendor_error`).

use std::collections::BTreeMap;

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::Value;

/// The issue an action created or updated.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: String,
    pub key: Option<String>,
}

impl Issue {
    pub fn by_id(id: &str) -> Issue {
        Issue {
            id: id.to_owned(),
            key: None,
        }
    }

    pub fn handles(&self, browse_base: String) -> BTreeMap<String, String> {
        let mut handles = BTreeMap::from([("issue_id".to_owned(), self.id.clone())]);
        if let Some(key) = &self.key {
            handles.insert("issue_key".into(), key.clone());
            handles.insert("issue_url".into(), format!("{browse_base}{key}"));
        }
        handles
    }
}

fn ok(response: &HttpResponse) -> Result<(), Outcome> {
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(vendor_error(response, "Jira"))
    }
}

fn text(json: &Value, key: &str) -> Option<String> {
    match json.get(key)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The first issue type of the project: Jira Cloud lists them under
/// `issueTypes`, Data Center under `values`.
pub fn first_issue_type(response: &HttpResponse) -> Result<String, Outcome> {
    ok(response)?;
    let json = response.json().unwrap_or(Value::Null);
    let first = ["issueTypes", "values"]
        .iter()
        .find_map(|key| json.get(key)?.as_array()?.first())
        .and_then(|first| text(first, "id"));
    first.ok_or_else(|| Outcome::Permanent {
        kind: ErrorKind::InvalidConfig,
        reason: "Jira lists no issue type for config.projectKey; set \
                 subActionParams.incident.issueType"
            .into(),
        response: Some(response.vendor_response()),
    })
}

/// The created issue. A 2xx without an id is not retried: the issue may
/// exist, and a retry would open a second one.
pub fn created(response: &HttpResponse) -> Result<Issue, Outcome> {
    ok(response)?;
    read(response)
}

pub fn read(response: &HttpResponse) -> Result<Issue, Outcome> {
    ok(response)?;
    let json = response.json().unwrap_or(Value::Null);
    match text(&json, "id") {
        // Used as a path segment of later requests (comments).
        Some(id) if crate::rest::is_dot_segment(&id) => Err(Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!(
                "Jira answered {} with the issue id {id:?}, which cannot name an issue in a URL path",
                response.status
            ),
            response: Some(response.vendor_response()),
        }),
        Some(id) => Ok(Issue {
            id,
            key: text(&json, "key"),
        }),
        None => Err(Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            reason: format!(
                "Jira answered {} without an issue id; check whether the issue was created",
                response.status
            ),
            response: Some(response.vendor_response()),
        }),
    }
}

pub fn updated(response: &HttpResponse) -> Result<(), Outcome> {
    ok(response)
}

pub fn commented(response: &HttpResponse) -> Result<(), Outcome> {
    ok(response)
}

pub fn transitioned(response: &HttpResponse) -> Result<(), Outcome> {
    ok(response)
}
