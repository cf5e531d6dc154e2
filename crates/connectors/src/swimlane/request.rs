//! Swimlane's record calls: `POST /api/app/<appId>/record` (create),
//! `PATCH /api/app/<appId>/record/<id>` (update), and `POST
//! /api/app/<appId>/record/<id>/<fieldId>/comment`.

use crate::delivery::{HttpRequest, Outcome};
use http::Method;
use serde_json::{Map, Value, json};

use super::SwimlaneAccount;
use crate::rest::{comments, endpoint, json_request, path_id};

/// The params a mapping can name, as Kibana's `<param>Config` keys.
pub const MAPPED: [&str; 7] = [
    "ruleName",
    "alertId",
    "caseId",
    "caseName",
    "comments",
    "severity",
    "description",
];

/// Param `param` goes to the application field `field_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub param: &'static str,
    pub field_id: String,
}

/// `pushToService`.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub external_id: Option<String>,
    pub values: Map<String, Value>,
    pub comments: Vec<String>,
}

impl Push {
    pub fn parse(params: &Map<String, Value>) -> Result<Push, Outcome> {
        let (sub, incident) = crate::rest::push_to_service(params)?;
        let mut known = MAPPED.to_vec();
        known.retain(|p| *p != "comments");
        known.push("externalId");
        incident.only(&known)?;
        let mut values = Map::new();
        for param in known.iter().filter(|p| **p != "externalId") {
            if let Some(value) = incident.str(param)?.filter(|v| !v.is_empty()) {
                values.insert((*param).to_owned(), json!(value));
            }
        }
        let external_id = incident.str("externalId")?.filter(|s| !s.is_empty());
        Ok(Push {
            external_id: path_id(&incident, "externalId", external_id)?,
            values,
            comments: comments(&sub)?,
        })
    }
}

/// Create or update the record: each mapped param under its field id.
pub fn write(account: &SwimlaneAccount, push: &Push) -> HttpRequest {
    let mut values = Map::new();
    for (param, value) in &push.values {
        if let Some(field) = account.field_of(param) {
            values.insert(field.to_owned(), value.clone());
        }
    }
    let mut body = json!({"applicationId": account.app_id, "values": values});
    let mut segments = vec!["api", "app", account.app_id.as_str(), "record"];
    let method = match &push.external_id {
        Some(id) => {
            body["id"] = json!(id);
            segments.push(id);
            Method::PATCH
        }
        None => Method::POST,
    };
    json_request(method, &endpoint(&account.api_url, &segments), Some(&body))
}

pub fn comment(
    account: &SwimlaneAccount,
    record_id: &str,
    field_id: &str,
    comment: &str,
) -> HttpRequest {
    let url = endpoint(
        &account.api_url,
        &[
            "api",
            "app",
            &account.app_id,
            "record",
            record_id,
            field_id,
            "comment",
        ],
    );
    let body = json!({
        "createdDate": now_rfc3339(),
        "fieldId": field_id,
        "isRichText": true,
        "message": comment,
    });
    json_request(Method::POST, &url, Some(&body))
}

/// Where a person opens the record.
pub fn record_url(account: &SwimlaneAccount, record_id: &str) -> String {
    endpoint(&account.api_url, &["record", &account.app_id, record_id]).to_string()
}

/// Now, as the RFC 3339 UTC time Swimlane stores comments with.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
