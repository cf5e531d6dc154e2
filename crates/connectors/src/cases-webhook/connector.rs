//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::collections::BTreeMap;

use crate::delivery::fields::Fields;
use crate::delivery::http::Outbound;
use crate::delivery::{Connector, Delivery, Outcome, typed};
use serde_json::{Map, Value};

use super::spec::{Config, Params};

use crate::token_cache::TokenCache;
use crate::webhook_auth::WebhookAuth;

pub use super::request::{CaseRequests, Templates};

#[derive(Default)]
pub struct CasesWebhook {
    tokens: TokenCache,
}

#[async_trait::async_trait]
impl Connector for CasesWebhook {
    fn connector_type(&self) -> &'static str {
        "cases-webhook"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let account = &delivery.account;
        let parsed = typed::config::<Config>(&account.config).and_then(|config| {
            let auth = config.auth();
            let templates = Templates::of(config, account)?;
            let push = Push::parse(&delivery.params)?;
            Ok((templates, push, WebhookAuth::parse(account, &auth)?))
        });
        let (templates, push, auth) = match parsed {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let requests = CaseRequests::new(&templates, &push);
        let send = |request| auth.send(&self.tokens, http, account, request);
        match push_to_service(&requests, &push, send).await {
            Ok(handles) => Outcome::Delivered {
                handles,
                response: None,
            },
            Err(outcome) => outcome,
        }
    }
}

/// Create or update, read the title, comment. As for Jira, once the case
/// exists nothing is retried; failed comments are reported.
async fn push_to_service<F, Fut>(
    requests: &CaseRequests<'_>,
    push: &Push,
    send: F,
) -> Result<BTreeMap<String, String>, Outcome>
where
    F: Fn(crate::delivery::HttpRequest) -> Fut,
    Fut: std::future::Future<Output = Result<crate::delivery::HttpResponse, Outcome>>,
{
    let id = match &push.external_id {
        None => {
            let answer = send(requests.create()?).await?;
            super::response::created_id(&answer, &requests.templates.response_key)?
        }
        Some(id) => {
            let answer = send(requests.update(id)?).await?;
            super::response::ok(&answer)?;
            id.clone()
        }
    };
    let title = match requests.get(&id) {
        Ok(request) => match send(request).await {
            Ok(answer) => super::response::title(&answer, &requests.templates.title_key),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let mut handles = BTreeMap::from([("external_id".to_owned(), id.clone())]);
    if let Ok(url) = requests.view_url(&id, title.as_deref()) {
        handles.insert("external_url".into(), url);
    }
    if let Some(title) = title {
        handles.insert("external_title".into(), title);
    }
    let mut failed = Vec::new();
    for (index, comment) in push.comments.iter().enumerate() {
        let Some(request) = requests.comment(&id, comment)? else {
            break;
        };
        let result = match send(request).await {
            Ok(answer) => super::response::ok(&answer),
            Err(outcome) => Err(outcome),
        };
        if let Err(outcome) = result {
            failed.push(format!(
                "comments[{index}]: {}",
                crate::rest::reason_of(&outcome)
            ));
        }
    }
    if !failed.is_empty() {
        tracing::warn!(case = %id, failed = ?failed, "case comments not added");
        handles.insert("comments_failed".into(), failed.join("; "));
    }
    Ok(handles)
}

/// `pushToService`'s params.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// `title`, `description`, `id`, `severity`, `status`, `tags`, as given
    /// (null as left out).
    pub case: Map<String, Value>,
    pub external_id: Option<String>,
    pub comments: Vec<String>,
}

impl Push {
    pub fn parse(params: &Map<String, Value>) -> Result<Push, Outcome> {
        let Params::PushToService(push) = typed::params(params)?;
        let incident = push.incident;
        let mut case = Map::from_iter([("title".to_owned(), Value::String(incident.title))]);
        for (field, value) in [
            ("description", incident.description),
            ("id", incident.id),
            ("severity", incident.severity),
            ("status", incident.status),
        ] {
            if let Some(value) = value {
                case.insert(field.to_owned(), Value::String(value));
            }
        }
        if let Some(tags) = incident.tags {
            case.insert("tags".to_owned(), Value::from(tags));
        }
        let comments = push
            .comments
            .into_iter()
            .flatten()
            .map(|comment| comment.comment)
            .filter(|comment| !comment.is_empty())
            .collect();
        let external_id = incident.external_id.filter(|id| !id.is_empty());
        if external_id
            .as_deref()
            .is_some_and(crate::rest::is_dot_segment)
        {
            let incident = Fields::params(params)
                .nested("subActionParams")?
                .nested("incident")?;
            return Err(incident.refuse(
                "externalId",
                "must not be . or .. (it is a segment of the case's URL path)",
            ));
        }
        Ok(Push {
            case,
            external_id,
            comments,
        })
    }
}
