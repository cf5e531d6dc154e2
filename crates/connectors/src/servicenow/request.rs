//! The requests ServiceNow gets, as pure builds from params and the
//! account: Table API (`/api/now/v2/table/<table>`), the Elastic app's
//! import set (`/api/now/import/<table>`, fields prefixed `u_`), reads,
//! lookups by correlation id, Event Management events and the OAuth token
//! request.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{HttpRequest, Outcome};
use http::Method;
use serde_json::{Map, Value, json};
use url::Url;

use super::{Flavour, ServiceNowAccount};
use crate::rest::{comments, endpoint, endpoint_with_query, json_request, path_id};

/// Where an account's records of one flavour go.
#[derive(Debug, Clone)]
pub struct Target {
    pub base: Url,
    pub table: &'static str,
    pub import_set: &'static str,
    pub app_scope: &'static str,
    pub uses_table_api: bool,
}

/// Incident fields to write: the connector's own (prefixed `u_` on the
/// import set) and `additional_fields`, written under their own names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incident {
    pub fields: Map<String, Value>,
    pub additional: Map<String, Value>,
}

/// One action, by `subAction`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Create, or update the record `external_id`; then one work note per
    /// comment.
    Push {
        external_id: Option<String>,
        incident: Incident,
        comments: Vec<String>,
    },
    Get {
        external_id: String,
    },
    /// Close the record named by its sys_id, else the newest one with the
    /// correlation id.
    Close {
        external_id: Option<String>,
        correlation_id: Option<String>,
    },
    Fields,
    Handshake,
    Choices {
        fields: Vec<String>,
    },
    AddEvent {
        event: Map<String, Value>,
    },
}

/// Kibana's close: state 7 (Closed) with its close code and notes.
pub fn close_fields() -> Incident {
    let fields = json!({
        "state": "7",
        "close_code": "Closed/Resolved by Caller",
        "close_notes": "Closed by Caller",
    });
    Incident {
        fields: fields.as_object().cloned().unwrap_or_default(),
        additional: Map::new(),
    }
}

/// The text fields an incident of each flavour takes as they are.
fn text_fields(flavour: Flavour) -> Vec<&'static str> {
    const COMMON: &[&str] = &[
        "short_description",
        "description",
        "category",
        "subcategory",
        "correlation_id",
        "correlation_display",
    ];
    let own: &[&str] = match flavour {
        Flavour::Itsm => &["severity", "urgency", "impact"],
        _ => &["priority"],
    };
    COMMON.iter().chain(own).copied().collect()
}

/// SIR observables: one value, a list, or a list in one string.
const OBSERVABLES: &[&str] = &["dest_ip", "malware_hash", "malware_url", "source_ip"];

const EVENT_FIELDS: &[&str] = &[
    "source",
    "event_class",
    "resource",
    "node",
    "metric_name",
    "type",
    "severity",
    "description",
    "additional_info",
    "message_key",
    "time_of_event",
];

impl Operation {
    pub fn parse(params: &Map<String, Value>, flavour: Flavour) -> Result<Operation, Outcome> {
        let root = Fields::params(params);
        root.only(&["subAction", "subActionParams"])?;
        let sub_action = root.required_str("subAction")?;
        let sub = root.nested("subActionParams")?;
        let operation = match (flavour, sub_action) {
            (Flavour::Itom, "addEvent") => {
                sub.only(EVENT_FIELDS)?;
                let mut event = Map::new();
                for field in EVENT_FIELDS {
                    if let Some(value) = sub.str(field)? {
                        event.insert((*field).to_owned(), Value::String(value.to_owned()));
                    }
                }
                Operation::AddEvent { event }
            }
            (Flavour::Itsm | Flavour::Sir, "pushToService") => push(&sub, flavour)?,
            (Flavour::Itsm | Flavour::Sir, "getIncident") => {
                sub.only(&["externalId"])?;
                let id = sub.required_str("externalId")?;
                Operation::Get {
                    external_id: path_id(&sub, "externalId", Some(id))?.unwrap_or_default(),
                }
            }
            (Flavour::Itsm, "closeIncident") => {
                sub.only(&["incident"])?;
                let incident = sub.nested("incident")?;
                incident.only(&["externalId", "correlation_id"])?;
                let external_id = incident.str("externalId")?.filter(|s| !s.is_empty());
                let external_id = path_id(&incident, "externalId", external_id)?;
                let correlation_id = incident.str("correlation_id")?.filter(|s| !s.is_empty());
                if external_id.is_none() && correlation_id.is_none() {
                    return Err(
                        incident.refuse("externalId", "required when correlation_id is absent")
                    );
                }
                Operation::Close {
                    external_id,
                    correlation_id: correlation_id.map(str::to_owned),
                }
            }
            (Flavour::Itsm | Flavour::Sir, "getFields") => Operation::Fields,
            (Flavour::Itsm | Flavour::Sir, "handshake") => {
                sub.only(&[])?;
                Operation::Handshake
            }
            (_, "getChoices") => {
                sub.only(&["fields"])?;
                let items = sub
                    .array("fields")?
                    .ok_or_else(|| sub.refuse("fields", "required"))?;
                let mut fields = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(field) if !field.is_empty() => fields.push(field.to_owned()),
                        _ => {
                            return Err(
                                sub.refuse(&format!("fields[{i}]"), "must be a non-empty string")
                            );
                        }
                    }
                }
                Operation::Choices { fields }
            }
            (_, other) => {
                return Err(root.refuse(
                    "subAction",
                    &format!(
                        "{other:?} is not an operation of {}",
                        flavour.connector_type()
                    ),
                ));
            }
        };
        Ok(operation)
    }
}

fn push(sub: &Fields<'_>, flavour: Flavour) -> Result<Operation, Outcome> {
    sub.only(&["incident", "comments"])?;
    let fields = sub.nested("incident")?;
    let text = text_fields(flavour);
    let mut known = text.clone();
    known.extend(["externalId", "additional_fields"]);
    if flavour == Flavour::Sir {
        known.extend(OBSERVABLES);
    }
    fields.only(&known)?;
    fields.required_str("short_description")?;
    let mut incident = Incident::default();
    for field in text {
        if let Some(value) = fields.str(field)? {
            incident.fields.insert(field.to_owned(), json!(value));
        }
    }
    if flavour == Flavour::Sir {
        for field in OBSERVABLES {
            if let Some(value) = observables(&fields, field)? {
                incident.fields.insert((*field).to_owned(), json!(value));
            }
        }
    }
    incident.additional = additional_fields(&fields)?;
    let external_id = fields.str("externalId")?.filter(|s| !s.is_empty());
    Ok(Operation::Push {
        external_id: path_id(&fields, "externalId", external_id)?,
        incident,
        comments: comments(sub)?,
    })
}

/// Observables as SIR stores them: one comma-separated list, each value
/// once, in the order given. A string is split on commas, spaces, pipes
/// and line breaks, as Kibana splits it.
fn observables(fields: &Fields<'_>, name: &str) -> Result<Option<String>, Outcome> {
    let values: Vec<String> = match fields.value(name) {
        None => return Ok(None),
        Some(Value::String(text)) => text
            .split([',', ' ', '|', '\r', '\n', '\t'])
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| fields.refuse(name, "must be a string or an array of strings"))?,
        Some(_) => return Err(fields.refuse(name, "must be a string or an array of strings")),
    };
    let mut unique: Vec<String> = Vec::new();
    for value in values.into_iter().filter(|v| !v.is_empty()) {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    Ok((!unique.is_empty()).then(|| unique.join(",")))
}

/// `additional_fields`: an object, or a JSON object in a string.
fn additional_fields(fields: &Fields<'_>) -> Result<Map<String, Value>, Outcome> {
    const NAME: &str = "additional_fields";
    match fields.value(NAME) {
        None => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(fields.refuse(NAME, "must be an object or a string holding a JSON object")),
        },
        Some(_) => Err(fields.refuse(NAME, "must be an object or a string holding a JSON object")),
    }
}

impl Incident {
    /// The incident with `more` fields added (the creator, a work note).
    pub fn with(&self, more: &[(&str, &str)]) -> Incident {
        let mut incident = self.clone();
        for (name, value) in more {
            incident.fields.insert((*name).to_owned(), json!(value));
        }
        incident
    }

    fn body(&self, table_api: bool) -> Map<String, Value> {
        let mut body: Map<String, Value> = self
            .fields
            .iter()
            .map(|(name, value)| {
                let name = if table_api {
                    name.clone()
                } else {
                    format!("u_{name}")
                };
                (name, value.clone())
            })
            .collect();
        body.extend(self.additional.clone());
        body
    }
}

impl Target {
    pub fn new(account: &ServiceNowAccount, flavour: Flavour) -> Target {
        let (import_set, app_scope) = flavour.import_set();
        Target {
            base: account.api_url.clone(),
            table: flavour.table(),
            import_set,
            app_scope,
            uses_table_api: account.uses_table_api,
        }
    }

    fn table_url(&self, sys_id: Option<&str>) -> Url {
        let mut segments = vec!["api", "now", "v2", "table", self.table];
        segments.extend(sys_id);
        endpoint(&self.base, &segments)
    }

    /// Create (`sys_id` None) or update a record: Table API POST / PATCH,
    /// or an import-set row (`elastic_incident_id` names the record to
    /// update).
    pub fn write(&self, sys_id: Option<&str>, incident: &Incident) -> HttpRequest {
        if self.uses_table_api {
            let method = if sys_id.is_some() {
                Method::PATCH
            } else {
                Method::POST
            };
            let body = Value::Object(incident.body(true));
            return json_request(method, &self.table_url(sys_id), Some(&body));
        }
        let mut body = incident.body(false);
        if let Some(sys_id) = sys_id {
            body.insert("elastic_incident_id".into(), json!(sys_id));
        }
        let url = endpoint(&self.base, &["api", "now", "import", self.import_set]);
        json_request(Method::POST, &url, Some(&Value::Object(body)))
    }

    pub fn read(&self, sys_id: &str) -> HttpRequest {
        json_request(Method::GET, &self.table_url(Some(sys_id)), None)
    }

    /// The newest record with this correlation id.
    pub fn find_by_correlation(&self, correlation_id: &str) -> HttpRequest {
        let query = format!("ORDERBYDESCsys_created_on^correlation_id={correlation_id}");
        let url = endpoint_with_query(
            &self.base,
            &["api", "now", "v2", "table", self.table],
            &[("sysparm_query", &query)],
        );
        json_request(Method::GET, &url, None)
    }

    /// The Elastic app's health check (import set accounts).
    pub fn health(&self) -> HttpRequest {
        let url = endpoint(
            &self.base,
            &["api", self.app_scope, "elastic_api", "health"],
        );
        json_request(Method::GET, &url, None)
    }

    /// The table's writable fields, from the dictionary.
    pub fn fields(&self) -> HttpRequest {
        let query = format!(
            "name=task^ORname={}^internal_type!=collection^ORDERBYsequence",
            self.table
        );
        let url = endpoint_with_query(
            &self.base,
            &["api", "now", "table", "sys_dictionary"],
            &[
                ("sysparm_query", &query),
                ("active", "true"),
                ("array", "false"),
                ("read_only", "false"),
                (
                    "sysparm_fields",
                    "max_length,element,column_label,mandatory",
                ),
            ],
        );
        json_request(Method::GET, &url, None)
    }

    /// The choices of `fields`.
    pub fn choices(&self, fields: &[String]) -> HttpRequest {
        let query = format!(
            "name=task^ORname={}^element={}^language=en",
            self.table,
            fields.join("^ORelement=")
        );
        let url = endpoint_with_query(
            &self.base,
            &["api", "now", "table", "sys_choice"],
            &[
                ("sysparm_query", &query),
                ("sysparm_fields", "label,value,dependent_value,element"),
            ],
        );
        json_request(Method::GET, &url, None)
    }

    /// One Event Management event.
    pub fn add_event(&self, event: &Map<String, Value>) -> HttpRequest {
        let url = endpoint(&self.base, &["api", "global", "em", "jsonv2"]);
        json_request(Method::POST, &url, Some(&json!({"records": [event]})))
    }

    /// Where a person opens the record.
    pub fn view_url(&self, sys_id: &str) -> String {
        let mut url = endpoint(&self.base, &["nav_to.do"]);
        url.query_pairs_mut()
            .append_pair("uri", &format!("{}.do?sys_id={sys_id}", self.table));
        url.to_string()
    }
}

/// The JWT bearer grant (RFC 7523) at `/oauth_token.do`, form-encoded.
pub fn token_request(
    base: &Url,
    client_id: &str,
    client_secret: &Secret,
    assertion: &str,
) -> HttpRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
        .append_pair("client_id", client_id)
        .append_pair("client_secret", client_secret.expose())
        .append_pair("assertion", assertion)
        .finish();
    HttpRequest {
        method: Method::POST,
        url: endpoint(base, &["oauth_token.do"]).to_string(),
        headers: vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("accept".into(), "application/json".into()),
        ],
        body: Some(body.into_bytes()),
    }
}
