//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::collections::BTreeMap;

use crate::delivery::attempt::send;
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use serde_json::{Map, Value};

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

/// Create or update, then comment. Once the issue exists nothing is
/// retried: a retry would open a second issue (or repeat comments), which
/// costs more than a missing comment, so a failed comment is reported in
/// the `comments_failed` handle and logged.
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
        let config = Fields::config(&account.config);
        config.only(&["apiUrl", "projectKey"])?;
        let api_url = config.required_str("apiUrl")?;
        config.url("apiUrl", api_url)?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["email", "apiToken"])?;
        Ok(JiraAccount {
            api_url: api_url.trim_end_matches('/').to_owned(),
            project_key: config.required_str("projectKey")?.to_owned(),
            authorization: auth::basic(
                secrets.required_str("email")?,
                secrets.required_str("apiToken")?,
            ),
        })
    }
}

/// `subActionParams` of `pushToService`.
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
}

impl PushToService {
    pub fn parse(params: &Map<String, Value>) -> Result<PushToService, Outcome> {
        let root = Fields::params(params);
        root.only(&["subAction", "subActionParams"])?;
        match root.required_str("subAction")? {
            "pushToService" => {}
            other => {
                return Err(root.refuse(
                    "subAction",
                    &format!("{other} reads Jira and delivers nothing; use pushToService"),
                ));
            }
        }
        let sub = root.nested("subActionParams")?;
        sub.only(&["incident", "comments"])?;
        let incident = sub.nested("incident")?;
        incident.only(&[
            "summary",
            "description",
            "externalId",
            "issueType",
            "priority",
            "labels",
            "parent",
            "otherFields",
        ])?;
        let owned = |value: Option<&str>| value.map(str::to_owned);
        let mut labels = Vec::new();
        for (index, label) in incident.array("labels")?.into_iter().flatten().enumerate() {
            match label.as_str() {
                Some(text) if !text.contains(char::is_whitespace) => labels.push(text.to_owned()),
                _ => {
                    return Err(incident.refuse(
                        &format!("labels[{index}]"),
                        "must be a string without spaces",
                    ));
                }
            }
        }
        let other_fields = match incident.map().get("otherFields") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(Value::String(text)) => match serde_json::from_str(text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(incident.refuse(
                        "otherFields",
                        "must be an object or a string holding a JSON object",
                    ));
                }
            },
            Some(_) => {
                return Err(incident.refuse(
                    "otherFields",
                    "must be an object or a string holding a JSON object",
                ));
            }
        };
        let comments = crate::rest::comments_skipping_empty(&sub)?;
        let external_id = owned(incident.non_empty_str("externalId")?);
        if external_id
            .as_deref()
            .is_some_and(crate::rest::is_dot_segment)
        {
            return Err(incident.refuse(
                "externalId",
                "must not be . or .. (it is a segment of the issue's URL path)",
            ));
        }
        Ok(PushToService {
            summary: incident.required_str("summary")?.to_owned(),
            description: owned(incident.non_empty_str("description")?),
            external_id,
            issue_type: owned(incident.non_empty_str("issueType")?),
            priority: owned(incident.non_empty_str("priority")?),
            labels,
            parent: owned(incident.non_empty_str("parent")?),
            other_fields,
            comments,
        })
    }
}
