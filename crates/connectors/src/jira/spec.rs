//! The type's schemas and rules: what the registry and ingest check.

use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{
    PushOnly, PushToService, check_field_map, no_account_rules, no_policy_rules, sub_action,
    sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::signals::{SignalsAccount, SignalsField};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

/// Kibana's cap on `otherFields`.
const MAX_OTHER_FIELDS: usize = 20;

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Jira base URL, https://<site>.atlassian.net
    #[schemars(extend("format" = "uri"))]
    pub api_url: String,
    #[schemars(length(min = 1))]
    pub project_key: String,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Login e-mail of the API token's user
    #[schemars(length(min = 1))]
    pub email: String,
    #[schemars(length(min = 1))]
    pub api_token: Secret,
}

/// `params`: Kibana's `subAction` envelope. Kibana's other sub-actions
/// (getIncident, issueTypes, ...) only read Jira for its UI; an alert
/// delivers nothing with them, so they are refused here rather than
/// accepted and then failed by the worker.
pub type Params = PushOnly<Incident>;

// The issue to create or update.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    pub summary: String,
    pub description: Option<String>,
    /// Issue id to update instead of creating one
    pub external_id: Option<String>,
    /// Issue type id
    pub issue_type: Option<String>,
    /// Priority name
    pub priority: Option<String>,
    pub labels: Option<Vec<String>>,
    /// Parent issue key, for sub-tasks
    pub parent: Option<String>,
    /// Further issue fields, by field id
    #[schemars(extend("type" = ["object", "string", "null"]))]
    pub other_fields: Option<Value>,
    /// Herald: a workflow transition (its id) to apply once the issue is
    /// created or updated, e.g. the one that resolves it in a route
    /// action's `resolved_params`
    pub transition_id: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "jira",
        name: "Jira",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[("pushToService", schema_of::<PushToService<Incident>>())]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(
            |text| serde_json::json!({"subAction": "pushToService", "subActionParams": {"incident": {"summary": text}}}),
        ),
        extras: Extras {
            signals: Some(&SIGNALS),
            alert_params: Some(super::alert::params),
            follow_up: Some(super::alert::follow_up),
            ..Extras::default()
        },
    }
}

/// The incident's own fields, which `otherFields` cannot set: its
/// schema's properties.
static INCIDENT_FIELDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let schema = schema_of::<Incident>();
    let properties = schema["properties"].as_object();
    properties
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .collect()
});

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some(("pushToService", push)) = sub_action(params) else {
        return;
    };
    let Some(incident) = push.get("incident").and_then(Value::as_object) else {
        return;
    };
    let labels = incident.get("labels").and_then(Value::as_array);
    for (index, label) in labels.into_iter().flatten().enumerate() {
        if label
            .as_str()
            .is_some_and(|label| label.contains(char::is_whitespace))
        {
            let path = join(prefix, &format!("subActionParams.incident.labels[{index}]"));
            out.push(path, "must not contain spaces");
        }
    }
    check_field_map(
        incident.get("otherFields"),
        &join(prefix, "subActionParams.incident.otherFields"),
        MAX_OTHER_FIELDS,
        &INCIDENT_FIELDS
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        out,
    );
}

/// A Signals Jira account. Signals keeps the project in each watch, so the
/// operator names it on import.
static SIGNALS: SignalsAccount = SignalsAccount {
    fields: &[
        ("url", SignalsField::Config("apiUrl")),
        ("user_name", SignalsField::Secret("email")),
        ("auth_token", SignalsField::Secret("apiToken")),
    ],
    required: &[
        ("apiUrl", "url is not set"),
        (
            "projectKey",
            "config.projectKey: Signals keeps the Jira project in each watch; give --config jira.projectKey=KEY (heraldctl import) or ?config.projectKey=KEY (PUT /_signals/account/jira/{id})",
        ),
    ],
    finish: None,
};
