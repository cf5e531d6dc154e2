//! The requests ServiceNow gets, as pure builds from params and the
//! account: Table API (`/api/now/v2/table/<table>`), the Elastic app's
//! import set (`/api/now/import/<table>`, fields prefixed `u_`), reads,
//! lookups by correlation id, Event Management events and the OAuth token
//! request.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{HttpRequest, Outcome, typed};
use http::Method;
use serde_json::{Map, Value, json};
use url::Url;

use super::spec::{CloseIncident, GetChoices, GetIncident, IncidentParts, Params};
use super::{Flavour, ServiceNowAccount};
use crate::rest::{endpoint, endpoint_with_query, json_request, path_id};
use crate::schema_parts::Comment;
use crate::servicenow_itom::spec::{Event, Params as ItomParams};
use crate::servicenow_sir::spec::Params as SirParams;

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

impl Operation {
    /// The params of `flavour`, read as its `Params`.
    pub fn parse(params: &Map<String, Value>, flavour: Flavour) -> Result<Operation, Outcome> {
        // Where refusals after the typed read point; an object by then.
        let sub = || Fields::params(params).nested("subActionParams");
        match flavour {
            Flavour::Itsm => match typed::params(params)? {
                Params::PushToService(push) => {
                    push_to_service(&sub()?, push.incident.into_parts(), push.comments)
                }
                Params::GetIncident(get) => get_incident(&sub()?, get),
                Params::GetFields(_) => Ok(Operation::Fields),
                Params::Handshake(_) => Ok(Operation::Handshake),
                Params::GetChoices(choices) => get_choices(&sub()?, choices),
                Params::CloseIncident(close) => close_incident(&sub()?, close),
            },
            Flavour::Sir => match typed::params(params)? {
                SirParams::PushToService(push) => {
                    push_to_service(&sub()?, push.incident.into_parts(), push.comments)
                }
                SirParams::GetIncident(get) => get_incident(&sub()?, get),
                SirParams::GetFields(_) => Ok(Operation::Fields),
                SirParams::Handshake(_) => Ok(Operation::Handshake),
                SirParams::GetChoices(choices) => get_choices(&sub()?, choices),
            },
            Flavour::Itom => match typed::params(params)? {
                ItomParams::AddEvent(event) => Ok(Operation::AddEvent {
                    event: event_fields(event.map(|event| *event).unwrap_or_default()),
                }),
                ItomParams::GetChoices(choices) => get_choices(&sub()?, choices),
            },
        }
    }
}

fn push_to_service(
    sub: &Fields<'_>,
    given: IncidentParts,
    comments: Option<Vec<Comment>>,
) -> Result<Operation, Outcome> {
    let fields = sub.nested("incident")?;
    if given
        .columns
        .get("short_description")
        .and_then(Value::as_str)
        == Some("")
    {
        return Err(fields.refuse("short_description", "must not be empty"));
    }
    let incident = Incident {
        fields: given.columns,
        additional: additional_fields(&fields, given.additional_fields)?,
    };
    let external_id = given.external_id.filter(|s| !s.is_empty());
    let mut notes = Vec::new();
    for (i, comment) in comments.into_iter().flatten().enumerate() {
        if comment.comment.is_empty() {
            return Err(sub.refuse(
                &format!("comments[{i}].comment"),
                "must be a non-empty string",
            ));
        }
        notes.push(comment.comment);
    }
    Ok(Operation::Push {
        external_id: path_id(&fields, "externalId", external_id.as_deref())?,
        incident,
        comments: notes,
    })
}

fn get_incident(sub: &Fields<'_>, get: GetIncident) -> Result<Operation, Outcome> {
    if get.external_id.is_empty() {
        return Err(sub.refuse("externalId", "must not be empty"));
    }
    Ok(Operation::Get {
        external_id: path_id(sub, "externalId", Some(&get.external_id))?.unwrap_or_default(),
    })
}

fn get_choices(sub: &Fields<'_>, choices: GetChoices) -> Result<Operation, Outcome> {
    if let Some(i) = choices.fields.iter().position(String::is_empty) {
        return Err(sub.refuse(&format!("fields[{i}]"), "must be a non-empty string"));
    }
    Ok(Operation::Choices {
        fields: choices.fields,
    })
}

fn close_incident(sub: &Fields<'_>, close: CloseIncident) -> Result<Operation, Outcome> {
    let incident = sub.nested("incident")?;
    let external_id = close.incident.external_id.filter(|s| !s.is_empty());
    let external_id = path_id(&incident, "externalId", external_id.as_deref())?;
    let correlation_id = close.incident.correlation_id.filter(|s| !s.is_empty());
    if external_id.is_none() && correlation_id.is_none() {
        return Err(incident.refuse("externalId", "required when correlation_id is absent"));
    }
    Ok(Operation::Close {
        external_id,
        correlation_id,
    })
}

/// The event as it is sent: the fields given, under their names.
fn event_fields(event: Event) -> Map<String, Value> {
    let mut fields = match serde_json::to_value(event) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    fields.retain(|_, value| !value.is_null());
    fields
}

/// `additional_fields`: an object, or a JSON object in a string.
fn additional_fields(
    fields: &Fields<'_>,
    given: Option<Value>,
) -> Result<Map<String, Value>, Outcome> {
    let refuse = || {
        fields.refuse(
            "additional_fields",
            "must be an object or a string holding a JSON object",
        )
    };
    match given {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(Value::String(text)) => match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(refuse()),
        },
        Some(_) => Err(refuse()),
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
