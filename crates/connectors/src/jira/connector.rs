//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::collections::BTreeMap;

use crate::delivery::attempt::send;
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome, typed};
use serde_json::{Map, Value};

use super::spec::{Config, Params, Secrets};
use crate::auth;

pub use super::request::JiraRequests;
pub use super::response::Issue;

/// Jira's cap on an issue summary.
pub const MAX_SUMMARY: usize = 255;

pub struct Jira;

#[async_trait::async_trait]
impl Connector for Jira {
    fn connector_type(&self) -> &'static str {
        "jira"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let (requests, push) = match parse(&delivery.params, &delivery.account) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        match push_to_service(&requests, &push, http, &delivery.account).await {
            Ok(handles) => Outcome::Delivered {
                handles,
                response: None,
            },
            Err(outcome) => outcome,
        }
    }
}

pub fn parse(
    params: &Map<String, Value>,
    account: &Account,
) -> Result<(JiraRequests, PushToService), Outcome> {
    let requests = JiraRequests::new(JiraAccount::parse(account)?);
    Ok((requests, PushToService::parse(params)?))
}

/// Create or update, then comment, then the transition when the params
/// name one. Once the issue exists nothing is retried: a retry would open a
/// second issue (or repeat comments), which costs more than a missing
/// comment or transition, so a failed one is reported in the
/// `comments_failed` or `transition_failed` handle and logged.
async fn push_to_service(
    requests: &JiraRequests,
    push: &PushToService,
    http: &Outbound,
    account: &Account,
) -> Result<BTreeMap<String, String>, Outcome> {
    let issue = match &push.external_id {
        None => {
            let issue_type = match &push.issue_type {
                Some(id) => id.clone(),
                None => {
                    let answer = send(http, account, requests.issue_types()).await?;
                    super::response::first_issue_type(&answer)?
                }
            };
            let answer = send(http, account, requests.create(push, &issue_type)).await?;
            super::response::created(&answer)?
        }
        Some(id) => {
            let answer = send(http, account, requests.update(id, push)).await?;
            super::response::updated(&answer)?;
            // Only for the key in the result: the update is done either way.
            match send(http, account, requests.get(id)).await {
                Ok(answer) => super::response::read(&answer).unwrap_or_else(|_| Issue::by_id(id)),
                Err(_) => Issue::by_id(id),
            }
        }
    };
    let mut handles = issue.handles(requests.browse_base());
    let mut failed = Vec::new();
    for (index, comment) in push.comments.iter().enumerate() {
        let outcome = match send(http, account, requests.comment(&issue.id, comment)).await {
            Ok(answer) => super::response::commented(&answer),
            Err(outcome) => Err(outcome),
        };
        if let Err(outcome) = outcome {
            failed.push(format!(
                "comments[{index}]: {}",
                crate::rest::reason_of(&outcome)
            ));
        }
    }
    if !failed.is_empty() {
        tracing::warn!(issue = %issue.id, failed = ?failed, "Jira comments not added");
        handles.insert("comments_failed".into(), failed.join("; "));
    }
    if let Some(transition) = &push.transition_id {
        let outcome = match send(http, account, requests.transition(&issue.id, transition)).await {
            Ok(answer) => super::response::transitioned(&answer),
            Err(outcome) => Err(outcome),
        };
        if let Err(outcome) = outcome {
            let reason = crate::rest::reason_of(&outcome);
            tracing::warn!(issue = %issue.id, transition = %transition, %reason, "Jira transition not made");
            handles.insert("transition_failed".into(), reason.to_owned());
        }
    }
    Ok(handles)
}

pub struct JiraAccount {
    /// Without a trailing slash.
    pub api_url: String,
    pub project_key: String,
    pub authorization: Secret,
}

impl JiraAccount {
    pub fn parse(account: &Account) -> Result<JiraAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        let secrets_fields = Fields::secrets(&account.secrets);
        let given = |fields: &Fields<'_>, name: &str, value: &str| {
            if value.is_empty() {
                Err(fields.refuse(name, "must not be empty"))
            } else {
                Ok(())
            }
        };
        given(&config_fields, "apiUrl", &config.api_url)?;
        config_fields.url("apiUrl", &config.api_url)?;
        given(&config_fields, "projectKey", &config.project_key)?;
        given(&secrets_fields, "email", &secrets.email)?;
        given(&secrets_fields, "apiToken", secrets.api_token.expose())?;
        Ok(JiraAccount {
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            project_key: config.project_key,
            authorization: auth::basic(&secrets.email, secrets.api_token.expose()),
        })
    }
}

/// `subActionParams` of `pushToService`, as the requests use it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushToService {
    pub summary: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub issue_type: Option<String>,
    pub priority: Option<String>,
    pub labels: Vec<String>,
    pub parent: Option<String>,
    pub other_fields: Map<String, Value>,
    pub comments: Vec<String>,
    pub transition_id: Option<String>,
}

impl PushToService {
    pub fn parse(params: &Map<String, Value>) -> Result<PushToService, Outcome> {
        let root = Fields::params(params);
        // Said before serde's `must be pushToService`: why the others are
        // refused.
        if let Some(other) = params
            .get("subAction")
            .and_then(Value::as_str)
            .filter(|name| *name != "pushToService")
        {
            return Err(root.refuse(
                "subAction",
                &format!("{other} reads Jira and delivers nothing; use pushToService"),
            ));
        }
        let Params::PushToService(push) = typed::params(params)?;
        let sub = root.nested("subActionParams")?;
        let fields = sub.nested("incident")?;
        let incident = push.incident;
        if incident.summary.is_empty() {
            return Err(fields.refuse("summary", "must not be empty"));
        }
        let labels = incident.labels.unwrap_or_default();
        if let Some(index) = labels
            .iter()
            .position(|label| label.contains(char::is_whitespace))
        {
            return Err(fields.refuse(
                &format!("labels[{index}]"),
                "must be a string without spaces",
            ));
        }
        let other_fields = match incident.other_fields {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(Value::String(text)) => match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                _ => return Err(not_a_field_map(&fields)),
            },
            Some(_) => return Err(not_a_field_map(&fields)),
        };
        // Kibana leaves optional fields as "", and skips empty comments.
        let given = |value: Option<String>| value.filter(|text| !text.is_empty());
        let comments = push.comments.into_iter().flatten();
        let comments = comments
            .map(|comment| comment.comment)
            .filter(|comment| !comment.is_empty())
            .collect();
        let external_id = given(incident.external_id);
        if external_id
            .as_deref()
            .is_some_and(crate::rest::is_dot_segment)
        {
            return Err(fields.refuse(
                "externalId",
                "must not be . or .. (it is a segment of the issue's URL path)",
            ));
        }
        Ok(PushToService {
            summary: incident.summary,
            description: given(incident.description),
            external_id,
            issue_type: given(incident.issue_type),
            priority: given(incident.priority),
            labels,
            parent: given(incident.parent),
            other_fields,
            comments,
            transition_id: given(incident.transition_id),
        })
    }
}

fn not_a_field_map(incident: &Fields<'_>) -> Outcome {
    incident.refuse(
        "otherFields",
        "must be an object or a string holding a JSON object",
    )
}
