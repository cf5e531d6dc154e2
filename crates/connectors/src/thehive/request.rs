//! TheHive's API v1 calls: `POST /api/v1/case`, `PATCH
//! /api/v1/case/<id>`, `POST /api/v1/case/<id>/comment` and `POST
//! /api/v1/alert`.

use crate::delivery::fields::Fields;
use crate::delivery::{HttpRequest, Outcome, typed};
use http::Method;
use serde_json::{Map, Value, json};
use url::Url;

use super::spec::{Level, Params};
use crate::rest::{endpoint, json_request, path_id};

#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Push {
        external_id: Option<String>,
        case: Map<String, Value>,
        comments: Vec<String>,
    },
    CreateAlert {
        alert: Map<String, Value>,
    },
}

/// Kibana's defaults: medium severity, amber TLP.
const DEFAULT_SEVERITY: i64 = 2;
const DEFAULT_TLP: i64 = 2;

impl Operation {
    pub fn parse(params: &Map<String, Value>) -> Result<Operation, Outcome> {
        let typed: Params = typed::params(params)?;
        let sub = Fields::params(params).nested("subActionParams")?;
        match typed {
            Params::PushToService(push) => {
                let fields = sub.nested("incident")?;
                let incident = push.incident;
                let mut case = Map::new();
                for (name, value) in [
                    ("title", incident.title),
                    ("description", incident.description),
                ] {
                    case.insert(name.into(), json!(required(&fields, name, value)?));
                }
                common_fields(
                    &fields,
                    incident.severity,
                    incident.tlp,
                    incident.tags,
                    &mut case,
                )?;
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
                Ok(Operation::Push {
                    external_id: path_id(&fields, "externalId", external_id.as_deref())?,
                    case,
                    comments,
                })
            }
            Params::CreateAlert(create) => {
                // The body's fields first: the named params win.
                let mut alert = match create.body.filter(|body| !body.is_empty()) {
                    None => Map::new(),
                    Some(body) => match serde_json::from_str(&body) {
                        Ok(Value::Object(map)) => map,
                        Ok(_) => return Err(sub.refuse("body", "must be a JSON object")),
                        Err(_) => return Err(sub.refuse("body", "must be a JSON document")),
                    },
                };
                for (name, value) in [
                    ("title", create.title),
                    ("description", create.description),
                    ("type", create.kind),
                    ("source", create.source),
                    ("sourceRef", create.source_ref),
                ] {
                    alert.insert(name.into(), json!(required(&sub, name, value)?));
                }
                common_fields(&sub, create.severity, create.tlp, create.tags, &mut alert)?;
                Ok(Operation::CreateAlert { alert })
            }
        }
    }
}

/// A named field the vendor needs: `""` is refused.
fn required(fields: &Fields<'_>, name: &str, value: String) -> Result<String, Outcome> {
    if value.is_empty() {
        return Err(fields.refuse(name, "must not be empty"));
    }
    Ok(value)
}

/// `severity` (1-4), `tlp` (0-4) and `tags`.
fn common_fields(
    fields: &Fields<'_>,
    severity: Option<Level>,
    tlp: Option<Level>,
    tags: Option<Vec<String>>,
    out: &mut Map<String, Value>,
) -> Result<(), Outcome> {
    for (name, value, range, default) in [
        ("severity", severity, 1..=4, DEFAULT_SEVERITY),
        ("tlp", tlp, 0..=4, DEFAULT_TLP),
    ] {
        let value = match value {
            None => default,
            Some(Level(value)) if range.contains(&value) => value,
            Some(_) => {
                return Err(fields.refuse(
                    name,
                    &format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                ));
            }
        };
        out.insert(name.into(), json!(value));
    }
    if let Some(tags) = tags {
        out.insert("tags".into(), json!(tags));
    }
    Ok(())
}

pub fn create_case(base: &Url, case: &Map<String, Value>) -> HttpRequest {
    let url = endpoint(base, &["api", "v1", "case"]);
    json_request(Method::POST, &url, Some(&Value::Object(case.clone())))
}

pub fn update_case(base: &Url, id: &str, case: &Map<String, Value>) -> HttpRequest {
    let url = endpoint(base, &["api", "v1", "case", id]);
    json_request(Method::PATCH, &url, Some(&Value::Object(case.clone())))
}

pub fn comment(base: &Url, case_id: &str, comment: &str) -> HttpRequest {
    let url = endpoint(base, &["api", "v1", "case", case_id, "comment"]);
    json_request(Method::POST, &url, Some(&json!({"message": comment})))
}

pub fn create_alert(base: &Url, alert: &Map<String, Value>) -> HttpRequest {
    let url = endpoint(base, &["api", "v1", "alert"]);
    json_request(Method::POST, &url, Some(&Value::Object(alert.clone())))
}

/// Where a person opens the case.
pub fn case_url(base: &Url, id: &str) -> String {
    endpoint(base, &["cases", id, "details"]).to_string()
}
