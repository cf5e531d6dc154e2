//! The Jira calls, all under `<apiUrl>/rest/api/2` with basic auth:
//! `GET /issue/createmeta/{project}/issuetypes` (when no issue type is
//! given), `POST /issue`, `PUT /issue/{id}`, `GET /issue/{id}` and
//! `POST /issue/{id}/comment`.

use crate::delivery::HttpRequest;
use serde_json::{Map, Value, json};

use super::{JiraAccount, MAX_SUMMARY, PushToService};

pub struct JiraRequests {
    account: JiraAccount,
}

impl JiraRequests {
    pub fn new(account: JiraAccount) -> JiraRequests {
        JiraRequests { account }
    }

    /// Where issues are browsed: `<apiUrl>/browse/<key>`.
    pub fn browse_base(&self) -> String {
        format!("{}/browse/", self.account.api_url)
    }

    fn request(&self, method: http::Method, path: &str, body: Option<&Value>) -> HttpRequest {
        let url = format!("{}/rest/api/2/{path}", self.account.api_url);
        let request = match body {
            Some(body) => {
                let mut request = HttpRequest::post_json(url, body);
                request.method = method;
                request
            }
            None => HttpRequest {
                method,
                url,
                headers: Vec::new(),
                body: None,
            },
        };
        request
            .header("accept", "application/json")
            .header("authorization", self.account.authorization.expose())
    }

    pub fn issue_types(&self) -> HttpRequest {
        let project = segment(&self.account.project_key);
        self.request(
            http::Method::GET,
            &format!("issue/createmeta/{project}/issuetypes"),
            None,
        )
    }

    pub fn create(&self, push: &PushToService, issue_type: &str) -> HttpRequest {
        let mut fields = fields(push);
        fields.insert("project".into(), json!({"key": self.account.project_key}));
        fields.insert("issuetype".into(), json!({"id": issue_type}));
        self.request(
            http::Method::POST,
            "issue",
            Some(&json!({"fields": fields})),
        )
    }

    pub fn update(&self, id: &str, push: &PushToService) -> HttpRequest {
        let mut fields = fields(push);
        if let Some(issue_type) = &push.issue_type {
            fields.insert("issuetype".into(), json!({"id": issue_type}));
        }
        let path = format!("issue/{}", segment(id));
        self.request(http::Method::PUT, &path, Some(&json!({"fields": fields})))
    }

    pub fn get(&self, id: &str) -> HttpRequest {
        let path = format!("issue/{}?fields=summary", segment(id));
        self.request(http::Method::GET, &path, None)
    }

    pub fn comment(&self, id: &str, comment: &str) -> HttpRequest {
        let path = format!("issue/{}/comment", segment(id));
        self.request(http::Method::POST, &path, Some(&json!({"body": comment})))
    }

    /// `POST issue/{id}/transitions`: moves the issue along its workflow.
    pub fn transition(&self, id: &str, transition_id: &str) -> HttpRequest {
        let path = format!("issue/{}/transitions", segment(id));
        let body = json!({"transition": {"id": transition_id}});
        self.request(http::Method::POST, &path, Some(&body))
    }
}

/// The issue fields both create and update send; absent ones are left out
/// so an update does not clear them.
fn fields(push: &PushToService) -> Map<String, Value> {
    let mut fields = push.other_fields.clone();
    // Jira refuses line breaks in a summary; Kibana joins the lines.
    let lines: Vec<&str> = push
        .summary
        .split(['\r', '\n'])
        .filter(|line| !line.is_empty())
        .collect();
    fields.insert(
        "summary".into(),
        crate::rest::truncate(&lines.join(", "), MAX_SUMMARY).into(),
    );
    if let Some(description) = &push.description {
        fields.insert("description".into(), description.clone().into());
    }
    if !push.labels.is_empty() {
        fields.insert("labels".into(), json!(push.labels));
    }
    if let Some(priority) = &push.priority {
        fields.insert("priority".into(), json!({"name": priority}));
    }
    if let Some(parent) = &push.parent {
        fields.insert("parent".into(), json!({"key": parent}));
    }
    fields
}

/// A path segment, percent-encoded: ids and keys come from params.
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
