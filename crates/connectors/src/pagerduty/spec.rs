//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema_parts::{is_set, no_account_rules, no_policy_rules};
use herald_catalog::schema::join;
use herald_catalog::signals::{SignalsAccount, SignalsField};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

pub const DEFAULT_API_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri", "default" = DEFAULT_API_URL))]
    pub api_url: Option<String>,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Events API v2 integration key
    #[schemars(length(min = 1))]
    pub routing_key: Secret,
}

/// `params`: Kibana's, plus the Events v2 fields Kibana leaves out.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Params {
    #[serde(default)]
    #[schemars(extend("default" = "trigger"))]
    pub event_action: EventAction,
    #[schemars(length(max = 255))]
    pub dedup_key: Option<String>,
    #[schemars(length(max = 1024))]
    pub summary: Option<String>,
    pub source: Option<String>,
    pub severity: Option<Severity>,
    #[schemars(extend("format" = "date-time"))]
    pub timestamp: Option<String>,
    pub component: Option<String>,
    pub group: Option<String>,
    pub class: Option<String>,
    pub links: Option<Vec<Link>>,
    /// Object, or a string holding a JSON object
    #[schemars(extend("type" = ["object", "string", "null"]))]
    pub custom_details: Option<Value>,
    pub images: Option<Vec<Image>>,
    pub client: Option<String>,
    #[schemars(extend("format" = "uri", "x-policy" = "manual"))]
    pub client_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventAction {
    #[default]
    Trigger,
    Acknowledge,
    Resolve,
}

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Trigger => "trigger",
            EventAction::Acknowledge => "acknowledge",
            EventAction::Resolve => "resolve",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub href: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    // Shown by PagerDuty, never fetched by us.
    #[schemars(extend("format" = "uri", "x-policy" = "manual"))]
    pub src: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri", "x-policy" = "manual"))]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "pagerduty",
        name: "PagerDuty",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: schema_of::<Params>(),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: Some(
            |text| serde_json::json!({"eventAction": "trigger", "summary": text, "severity": "info"}),
        ),
        extras: Extras {
            signals: Some(&SIGNALS),
            alert_params: Some(super::alert::params),
            // The dedup key is the alert key: no handle is needed.
            follow_up: None,
            ..Extras::default()
        },
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(action @ ("acknowledge" | "resolve")) =
        params.get("eventAction").and_then(Value::as_str)
        && !is_set(params, "dedupKey")
    {
        out.push(
            join(prefix, "dedupKey"),
            format!("required when eventAction is {action}"),
        );
    }
    if let Some(Value::String(details)) = params.get("customDetails")
        && !matches!(serde_json::from_str(details), Ok(Value::Object(_)))
    {
        out.push(
            join(prefix, "customDetails"),
            "must be an object or a string holding a JSON object",
        );
    }
}

const BASE_URL: SignalsField = SignalsField::Refuse(
    "a Signals base URL, while Herald's config.apiUrl is the full Events API URL; set it by hand",
);

/// A Signals PagerDuty account: its integration key.
static SIGNALS: SignalsAccount = SignalsAccount {
    fields: &[
        ("integration_key", SignalsField::Secret("routingKey")),
        ("url", BASE_URL),
        ("uri", BASE_URL),
    ],
    required: &[("routingKey", "integration_key is not set")],
    finish: None,
};
