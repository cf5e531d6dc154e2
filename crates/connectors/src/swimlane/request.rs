//! Swimlane's record calls: `POST /api/app/<appId>/record` (create),
//! `PATCH /api/app/<appId>/record/<id>` (update), and `POST
//! /api/app/<appId>/record/<id>/<fieldId>/comment`.

use crate::delivery::fields::Fields;
use crate::delivery::{HttpRequest, Outcome, typed};
use http::Method;
use serde_json::{Map, Value, json};

use super::{Params, SwimlaneAccount};
use crate::rest::{endpoint, json_request, path_id};

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
        let Params::PushToService(push) = typed::params(params)?;
        let sub = Fields::params(params).nested("subActionParams")?;
        let incident_fields = sub.nested("incident")?;
        let incident = push.incident;
        let mut values = Map::new();
        for (param, value) in [
            ("ruleName", incident.rule_name),
            ("alertId", incident.alert_id),
            ("caseId", incident.case_id),
            ("caseName", incident.case_name),
            ("severity", incident.severity),
            ("description", incident.description),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                values.insert(param.to_owned(), json!(value));
            }
        }
        let external_id = incident.external_id.filter(|s| !s.is_empty());
        let mut comments = Vec::new();
        for (i, comment) in push.comments.into_iter().flatten().enumerate() {
            if comment.comment.is_empty() {
                return Err(sub.refuse(
                    &format!("comments[{i}].comment"),
                    "must be a non-empty string",
                ));
            }
            comments.push(comment.comment);
        }
        Ok(Push {
            external_id: path_id(&incident_fields, "externalId", external_id.as_deref())?,
            values,
            comments,
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
