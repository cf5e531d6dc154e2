//! Resilient's REST calls under `/rest/orgs/<orgId>`: `POST /incidents`
//! (with `text_content_output_format=objects_convert`, as Kibana), `GET` and
//! `PATCH /incidents/<id>` (a list of `changes`, each with the field's old
//! and new value), `POST /incidents/<id>/comments`, and the field lookups.

use crate::delivery::fields::Fields;
use crate::delivery::{HttpRequest, Outcome, typed};
use http::Method;
use serde_json::{Map, Value, json};
use url::Url;

use super::ResilientAccount;
use super::spec::{Incident, Params};
use crate::rest::{endpoint, endpoint_with_query, json_request, path_id};
use crate::schema_parts::PushToService;

#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Create, or update `external_id`; then comments.
    Push {
        external_id: Option<String>,
        /// By Resilient field name.
        incident: Map<String, Value>,
        comments: Vec<String>,
    },
    Get {
        external_id: String,
    },
    Handshake,
    /// `getFields` (None), `incidentTypes`, `severity`: one field's
    /// definition, with its values.
    Fields(Option<&'static str>),
}

impl Operation {
    pub fn parse(params: &Map<String, Value>) -> Result<Operation, Outcome> {
        let typed: Params = typed::params(params)?;
        let sub = Fields::params(params).nested("subActionParams")?;
        Ok(match typed {
            Params::PushToService(params) => push(&sub, params)?,
            Params::GetIncident(get) => {
                if get.external_id.is_empty() {
                    return Err(sub.refuse("externalId", "must not be empty"));
                }
                Operation::Get {
                    external_id: path_id(&sub, "externalId", Some(&get.external_id))?
                        .unwrap_or_default(),
                }
            }
            Params::Handshake(_) => Operation::Handshake,
            Params::GetFields(_) => Operation::Fields(None),
            Params::IncidentTypes(_) => Operation::Fields(Some("incident_type_ids")),
            Params::Severity(_) => Operation::Fields(Some("severity_code")),
        })
    }
}

fn push(sub: &Fields<'_>, params: PushToService<Incident>) -> Result<Operation, Outcome> {
    let fields = sub.nested("incident")?;
    let given = params.incident;
    let mut incident = Map::new();
    if given.name.is_empty() {
        return Err(fields.refuse("name", "must not be empty"));
    }
    incident.insert("name".into(), json!(given.name));
    if let Some(description) = given.description.filter(|d| !d.is_empty()) {
        incident.insert("description".into(), json!(description));
    }
    if let Some(types) = given.incident_types {
        let ids = types
            .iter()
            .map(|id| number(&id.0))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| fields.refuse("incidentTypes", "must be an array of numeric ids"))?;
        incident.insert("incident_type_ids".into(), json!(ids));
    }
    if let Some(severity) = given.severity_code {
        let id = number(&severity.0)
            .ok_or_else(|| fields.refuse("severityCode", "must be a numeric id"))?;
        incident.insert("severity_code".into(), json!(id));
    }
    match given.additional_fields {
        None | Some(Value::Null) => {}
        Some(Value::Object(more)) => incident.extend(more),
        Some(Value::String(text)) => match serde_json::from_str(&text) {
            Ok(Value::Object(more)) => incident.extend(more),
            _ => {
                return Err(fields.refuse(
                    "additionalFields",
                    "must be an object or a string holding a JSON object",
                ));
            }
        },
        Some(_) => {
            return Err(fields.refuse(
                "additionalFields",
                "must be an object or a string holding a JSON object",
            ));
        }
    }
    let external_id = given.external_id.filter(|id| !id.is_empty());
    let mut comments = Vec::new();
    for (i, comment) in params.comments.into_iter().flatten().enumerate() {
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
        incident,
        comments,
    })
}

/// An id given as a number or as digits.
fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn incidents(account: &ResilientAccount, more: &[&str]) -> Url {
    let mut segments = vec!["rest", "orgs", account.org_id.as_str(), "incidents"];
    segments.extend(more);
    endpoint(&account.api_url, &segments)
}

const OUTPUT_FORMAT: (&str, &str) = ("text_content_output_format", "objects_convert");

/// A field's value in a create body.
fn create_value(name: &str, value: &Value) -> Value {
    match name {
        "description" => json!({"format": "html", "content": value}),
        "incident_type_ids" => Value::Array(
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| json!({"id": id}))
                .collect(),
        ),
        "severity_code" => json!({"id": value}),
        _ => value.clone(),
    }
}

/// A field's value in an update's change list.
fn change_value(name: &str, value: &Value) -> Value {
    match (name, value) {
        (_, Value::Null) => Value::Null,
        ("description", _) => json!({"textarea": {"format": "html", "content": value}}),
        ("incident_type_ids", _) => json!({"ids": value}),
        ("severity_code", _) => json!({"id": value}),
        (_, Value::Bool(_)) => json!({"boolean": value}),
        (_, Value::Number(_)) => json!({"id": value}),
        (_, Value::Array(_)) => json!({"ids": value}),
        _ => json!({"text": value}),
    }
}

pub fn create(
    account: &ResilientAccount,
    incident: &Map<String, Value>,
    now_millis: i64,
) -> HttpRequest {
    let mut body: Map<String, Value> = incident
        .iter()
        .map(|(name, value)| (name.clone(), create_value(name, value)))
        .collect();
    body.insert("discovered_date".into(), json!(now_millis));
    let mut url = incidents(account, &[]);
    url.query_pairs_mut()
        .append_pair(OUTPUT_FORMAT.0, OUTPUT_FORMAT.1);
    json_request(Method::POST, &url, Some(&Value::Object(body)))
}

pub fn get(account: &ResilientAccount, id: &str) -> HttpRequest {
    let mut url = incidents(account, &[id]);
    url.query_pairs_mut()
        .append_pair(OUTPUT_FORMAT.0, OUTPUT_FORMAT.1);
    json_request(Method::GET, &url, None)
}

/// The changes from `current` (the incident as Resilient has it) to
/// `incident`. Resilient gives `description` back as `{format, content}`
/// and ids as numbers, the shapes `change_value` expects.
pub fn update(
    account: &ResilientAccount,
    id: &str,
    incident: &Map<String, Value>,
    current: &Value,
) -> HttpRequest {
    let changes: Vec<Value> = incident
        .iter()
        .map(|(name, value)| {
            let old = match (name.as_str(), current.get(name)) {
                ("description", Some(old)) => old.get("content").cloned().unwrap_or(Value::Null),
                (_, old) => old.cloned().unwrap_or(Value::Null),
            };
            json!({
                "field": {"name": name},
                "old_value": change_value(name, &old),
                "new_value": change_value(name, value),
            })
        })
        .collect();
    let mut url = incidents(account, &[id]);
    url.query_pairs_mut()
        .append_pair(OUTPUT_FORMAT.0, OUTPUT_FORMAT.1);
    json_request(Method::PATCH, &url, Some(&json!({"changes": changes})))
}

pub fn comment(account: &ResilientAccount, id: &str, comment: &str) -> HttpRequest {
    let url = incidents(account, &[id, "comments"]);
    json_request(
        Method::POST,
        &url,
        Some(&json!({"text": {"format": "text", "content": comment}})),
    )
}

/// The incident type's fields, or one of them.
pub fn fields(account: &ResilientAccount, field: Option<&str>) -> HttpRequest {
    let mut segments = vec![
        "rest",
        "orgs",
        account.org_id.as_str(),
        "types",
        "incident",
        "fields",
    ];
    segments.extend(field);
    json_request(
        Method::GET,
        &endpoint_with_query(&account.api_url, &segments, &[]),
        None,
    )
}

/// Where a person opens the incident.
pub fn incident_url(account: &ResilientAccount, id: &str) -> String {
    let mut url = account.api_url.clone();
    url.set_query(None);
    url.set_fragment(Some(&format!("incidents/{id}")));
    url.to_string()
}
