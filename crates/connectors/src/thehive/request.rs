//! TheHive's API v1 calls: `POST /api/v1/case`, `PATCH
//! /api/v1/case/<id>`, `POST /api/v1/case/<id>/comment` and `POST
//! /api/v1/alert`.

use crate::delivery::fields::Fields;
use crate::delivery::{HttpRequest, Outcome};
use http::Method;
use serde_json::{Map, Value, json};
use url::Url;

use crate::rest::{comments, endpoint, json_request, json_text, path_id};

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
        let root = Fields::params(params);
        root.only(&["subAction", "subActionParams"])?;
        let sub_action = root.required_str("subAction")?;
        let sub = root.nested("subActionParams")?;
        match sub_action {
            "pushToService" => {
                sub.only(&["incident", "comments"])?;
                let incident = sub.nested("incident")?;
                incident.only(&[
                    "title",
                    "description",
                    "externalId",
                    "severity",
                    "tlp",
                    "tags",
                ])?;
                let mut case = Map::new();
                for name in ["title", "description"] {
                    case.insert(name.into(), json!(incident.required_str(name)?));
                }
                common_fields(&incident, &mut case)?;
                let external_id = incident.str("externalId")?.filter(|s| !s.is_empty());
                Ok(Operation::Push {
                    external_id: path_id(&incident, "externalId", external_id)?,
                    case,
                    comments: comments(&sub)?,
                })
            }
            "createAlert" => {
                const NAMED: [&str; 5] = ["title", "description", "type", "source", "sourceRef"];
                let mut known = NAMED.to_vec();
                known.extend(["severity", "isRuleSeverity", "tlp", "tags", "body"]);
                sub.only(&known)?;
                // The body's fields first: the named params win.
                let mut alert = match sub.str("body")? {
                    None | Some("") => Map::new(),
                    Some(_) => match json_text(&sub, "body")? {
                        Value::Object(map) => map,
                        _ => return Err(sub.refuse("body", "must be a JSON object")),
                    },
                };
                for name in NAMED {
                    alert.insert(name.into(), json!(sub.required_str(name)?));
                }
                common_fields(&sub, &mut alert)?;
                Ok(Operation::CreateAlert { alert })
            }
            _ => Err(root.refuse("subAction", "must be pushToService or createAlert")),
        }
    }
}

/// `severity` (1-4), `tlp` (0-4) and `tags`.
fn common_fields(fields: &Fields<'_>, out: &mut Map<String, Value>) -> Result<(), Outcome> {
    for (name, range, default) in [
        ("severity", 1..=4, DEFAULT_SEVERITY),
        ("tlp", 0..=4, DEFAULT_TLP),
    ] {
        let value = match fields.value(name) {
            None => default,
            Some(value) => value
                .as_i64()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    fields.refuse(
                        name,
                        &format!(
                            "must be an integer from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                })?,
        };
        out.insert(name.into(), json!(value));
    }
    if let Some(tags) = fields.array("tags")? {
        if !tags.iter().all(Value::is_string) {
            return Err(fields.refuse("tags", "must be an array of strings"));
        }
        out.insert("tags".into(), Value::Array(tags.clone()));
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
