//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use super::spec::{Config, DEFAULT_API_URL, EventAction, Image, Link, Params, Secrets, Severity};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

/// PagerDuty's limits (Events API v2 reference).
pub const MAX_SUMMARY: usize = 1024;
pub const MAX_DEDUP_KEY: usize = 255;

pub struct PagerDuty;

impl HttpConnector for PagerDuty {
    fn connector_type(&self) -> &'static str {
        "pagerduty"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

pub struct PagerDutyAccount {
    pub api_url: String,
    pub routing_key: Secret,
}

impl PagerDutyAccount {
    pub fn parse(account: &Account) -> Result<PagerDutyAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let api_url = config
            .api_url
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Fields::config(&account.config).url("apiUrl", &api_url)?;
        Ok(PagerDutyAccount {
            api_url,
            routing_key: secrets.routing_key,
        })
    }
}

/// `params` as PagerDuty takes them: what each field of the event becomes
/// is in `request.rs`.
#[derive(Debug, Clone)]
pub struct PagerDutyParams {
    pub event_action: EventAction,
    pub dedup_key: Option<String>,
    /// The payload fields, already under PagerDuty's names, for a trigger.
    pub payload: Map<String, Value>,
    pub links: Option<Vec<Link>>,
    pub images: Option<Vec<Image>>,
    pub client: Option<String>,
    pub client_url: Option<String>,
}

impl PagerDutyParams {
    pub fn parse(params: &Map<String, Value>) -> Result<PagerDutyParams, Outcome> {
        let fields = Fields::params(params);
        let params: Params = typed::params(params)?;
        // Kibana leaves optional fields as "".
        let given = |value: Option<String>| value.filter(|text| !text.is_empty());
        let event_action = params.event_action;
        let dedup_key = given(params.dedup_key);
        if dedup_key
            .as_ref()
            .is_some_and(|key| key.chars().count() > MAX_DEDUP_KEY)
        {
            return Err(fields.refuse(
                "dedupKey",
                &format!("must be at most {MAX_DEDUP_KEY} characters"),
            ));
        }
        if dedup_key.is_none() && event_action != EventAction::Trigger {
            return Err(fields.refuse(
                "dedupKey",
                &format!("required when eventAction is {}", event_action.as_str()),
            ));
        }
        let mut payload = Map::new();
        let summary = given(params.summary);
        let summary = summary.as_deref().unwrap_or("No summary provided.");
        payload.insert(
            "summary".into(),
            crate::rest::truncate(summary, MAX_SUMMARY).into(),
        );
        if let Some(source) = given(params.source) {
            payload.insert("source".into(), source.into());
        }
        let severity = params.severity.unwrap_or(Severity::Info);
        payload.insert("severity".into(), severity.as_str().into());
        for (name, value) in [
            ("timestamp", params.timestamp),
            ("component", params.component),
            ("group", params.group),
            ("class", params.class),
        ] {
            if let Some(value) = given(value) {
                payload.insert(name.into(), value.trim().into());
            }
        }
        if let Some(details) = custom_details(&fields, params.custom_details)? {
            payload.insert("custom_details".into(), details);
        }
        Ok(PagerDutyParams {
            event_action,
            dedup_key,
            payload,
            links: params.links.filter(|links| !links.is_empty()),
            images: params.images.filter(|images| !images.is_empty()),
            client: given(params.client),
            client_url: given(params.client_url),
        })
    }
}

/// An object, or a string holding one (Kibana coerces it).
fn custom_details(fields: &Fields<'_>, details: Option<Value>) -> Result<Option<Value>, Outcome> {
    let refuse = || {
        fields.refuse(
            "customDetails",
            "must be an object or a string holding a JSON object",
        )
    };
    match details {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(details)) => Ok(Some(Value::Object(details))),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => match serde_json::from_str(&text) {
            Ok(Value::Object(details)) => Ok(Some(Value::Object(details))),
            _ => Err(refuse()),
        },
        Some(_) => Err(refuse()),
    }
}
