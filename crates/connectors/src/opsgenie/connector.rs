//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use serde_json::{Map, Value};

use super::spec::{Config, DEFAULT_API_URL, Params, Secrets};
use crate::delivery::typed;

pub use super::request::build;
pub use super::response::classify;

/// Opsgenie keeps this many characters of a message.
pub const MAX_MESSAGE: usize = 130;
/// Longer aliases are replaced by `sha-<sha256 hex>`, as Kibana does.
pub const MAX_ALIAS: usize = 512;

pub struct Opsgenie;

#[async_trait::async_trait]
impl Connector for Opsgenie {
    fn connector_type(&self) -> &'static str {
        "opsgenie"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let request = build(&delivery.params, &delivery.account);
        let mut outcome =
            crate::delivery::attempt::attempt(http, &delivery.account, request, classify).await;
        // The alias as sent: what a later close names.
        let alias = OpsgenieParams::parse(&delivery.params)
            .ok()
            .and_then(|params| params.alias());
        if let (Outcome::Delivered { handles, .. }, Some(alias)) = (&mut outcome, alias) {
            handles.insert("alias".into(), alias);
        }
        outcome
    }
}

pub struct OpsgenieAccount {
    /// Without a trailing slash.
    pub api_url: String,
    pub api_key: Secret,
}

impl OpsgenieAccount {
    pub fn parse(account: &Account) -> Result<OpsgenieAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let api_url = config
            .api_url
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Fields::config(&account.config).url("apiUrl", &api_url)?;
        if secrets.api_key.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("apiKey", "must not be empty"));
        }
        Ok(OpsgenieAccount {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key: secrets.api_key,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpsgenieParams {
    /// The alert body under Opsgenie's names (Kibana's are the same).
    Create(Map<String, Value>),
    Close {
        alias: String,
        body: Map<String, Value>,
    },
}

impl OpsgenieParams {
    pub fn alias(&self) -> Option<String> {
        match self {
            OpsgenieParams::Create(body) => body.get("alias")?.as_str().map(str::to_owned),
            OpsgenieParams::Close { alias, .. } => Some(alias.clone()),
        }
    }

    pub fn parse(params: &Map<String, Value>) -> Result<OpsgenieParams, Outcome> {
        let typed: Params = typed::params(params)?;
        let sub = Fields::params(params).nested("subActionParams")?;
        match typed {
            Params::CreateAlert(mut alert) => {
                if alert.message.is_empty() {
                    return Err(sub.refuse("message", "must not be empty"));
                }
                if alert.message.trim().is_empty() {
                    return Err(sub.refuse("message", "must not be blank"));
                }
                alert.message = crate::rest::truncate(&alert.message, MAX_MESSAGE);
                if let Some(alias) = alert.alias.as_mut().filter(|alias| !alias.is_empty()) {
                    *alias = alias_of(alias);
                }
                let body = match serde_json::to_value(alert) {
                    Ok(Value::Object(body)) => body,
                    _ => unreachable!("an alert serializes to an object"),
                };
                Ok(OpsgenieParams::Create(body))
            }
            Params::CloseAlert(close) => {
                if close.alias.is_empty() {
                    return Err(sub.refuse("alias", "must not be empty"));
                }
                let alias = alias_of(&close.alias);
                // The alias is a segment of the URL path; these two would
                // walk it to another endpoint of the API.
                if alias == "." || alias == ".." {
                    return Err(sub.refuse("alias", "must not be . or .."));
                }
                let mut body = Map::new();
                for (field, value) in [
                    ("user", close.user),
                    ("source", close.source),
                    ("note", close.note),
                ] {
                    if let Some(value) = value.filter(|value| !value.is_empty()) {
                        body.insert(field.into(), value.into());
                    }
                }
                Ok(OpsgenieParams::Close { alias, body })
            }
        }
    }
}

/// The alias as sent: itself, or its SHA-256 when Opsgenie would refuse its
/// length, so create and close of one long alias still match.
pub fn alias_of(alias: &str) -> String {
    if alias.chars().count() <= MAX_ALIAS {
        return alias.to_owned();
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(alias.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha-{hex}")
}
