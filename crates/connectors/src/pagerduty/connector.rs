//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use super::spec::DEFAULT_API_URL;

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
        let config = Fields::config(&account.config);
        config.only(&["apiUrl"])?;
        let api_url = config.non_empty_str("apiUrl")?.unwrap_or(DEFAULT_API_URL);
        config.url("apiUrl", api_url)?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["routingKey"])?;
        Ok(PagerDutyAccount {
            api_url: api_url.to_owned(),
            routing_key: Secret::new(secrets.required_str("routingKey")?),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAction {
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

/// `params`: what each field of the event becomes is in `request.rs`.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDutyParams {
    pub event_action: EventAction,
    pub dedup_key: Option<String>,
    /// The payload fields, already under PagerDuty's names, for a trigger.
    pub payload: Map<String, Value>,
    pub links: Option<Vec<Value>>,
    pub images: Option<Vec<Value>>,
    pub client: Option<String>,
    pub client_url: Option<String>,
}

impl PagerDutyParams {
    pub fn parse(params: &Map<String, Value>) -> Result<PagerDutyParams, Outcome> {
        let fields = Fields::params(params);
        fields.only(&[
            "eventAction",
            "dedupKey",
            "summary",
            "source",
            "severity",
            "timestamp",
            "component",
            "group",
            "class",
            "links",
            "customDetails",
            "images",
            "client",
            "clientUrl",
        ])?;
        let event_action = match fields.non_empty_str("eventAction")?.unwrap_or("trigger") {
            "trigger" => EventAction::Trigger,
            "acknowledge" => EventAction::Acknowledge,
            "resolve" => EventAction::Resolve,
            _ => {
                return Err(fields.refuse("eventAction", "must be trigger, acknowledge or resolve"));
            }
        };
        let dedup_key = fields.non_empty_str("dedupKey")?;
        if dedup_key.is_some_and(|key| key.chars().count() > MAX_DEDUP_KEY) {
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
        let severity = fields.non_empty_str("severity")?.unwrap_or("info");
        if !matches!(severity, "critical" | "error" | "warning" | "info") {
            return Err(fields.refuse("severity", "must be critical, error, warning or info"));
        }
        let mut payload = Map::new();
        let summary = fields
            .non_empty_str("summary")?
            .unwrap_or("No summary provided.");
        payload.insert(
            "summary".into(),
            crate::rest::truncate(summary, MAX_SUMMARY).into(),
        );
        if let Some(source) = fields.non_empty_str("source")? {
            payload.insert("source".into(), source.into());
        }
        payload.insert("severity".into(), severity.into());
        for (param, name) in [
            ("timestamp", "timestamp"),
            ("component", "component"),
            ("group", "group"),
            ("class", "class"),
        ] {
            if let Some(value) = fields.non_empty_str(param)? {
                payload.insert(name.into(), value.trim().into());
            }
        }
        if let Some(details) = custom_details(&fields)? {
            payload.insert("custom_details".into(), details);
        }
        let owned = |value: Option<&str>| value.map(str::to_owned);
        Ok(PagerDutyParams {
            event_action,
            dedup_key: owned(dedup_key),
            payload,
            links: fields.array("links")?.filter(|l| !l.is_empty()).cloned(),
            images: fields.array("images")?.filter(|i| !i.is_empty()).cloned(),
            client: owned(fields.non_empty_str("client")?),
            client_url: owned(fields.non_empty_str("clientUrl")?),
        })
    }
}

/// An object, or a string holding one (Kibana coerces it).
fn custom_details(fields: &Fields<'_>) -> Result<Option<Value>, Outcome> {
    match fields.map().get("customDetails") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(details)) => Ok(Some(Value::Object(details.clone()))),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(details)) => Ok(Some(Value::Object(details))),
            _ => Err(fields.refuse(
                "customDetails",
                "must be an object or a string holding a JSON object",
            )),
        },
        Some(_) => Err(fields.refuse(
            "customDetails",
            "must be an object or a string holding a JSON object",
        )),
    }
}
