//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use serde_json::{Map, Value};

pub use super::request::build;
pub use super::response::classify;

pub const DEFAULT_API_URL: &str = "https://api.opsgenie.com";
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
        let config = Fields::config(&account.config);
        config.only(&["apiUrl"])?;
        let api_url = config.non_empty_str("apiUrl")?.unwrap_or(DEFAULT_API_URL);
        config.url("apiUrl", api_url)?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["apiKey"])?;
        Ok(OpsgenieAccount {
            api_url: api_url.trim_end_matches('/').to_owned(),
            api_key: Secret::new(secrets.required_str("apiKey")?),
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

const CREATE_FIELDS: &[&str] = &[
    "message",
    "alias",
    "description",
    "responders",
    "visibleTo",
    "actions",
    "tags",
    "details",
    "entity",
    "source",
    "priority",
    "user",
    "note",
];

impl OpsgenieParams {
    pub fn alias(&self) -> Option<String> {
        match self {
            OpsgenieParams::Create(body) => body.get("alias")?.as_str().map(str::to_owned),
            OpsgenieParams::Close { alias, .. } => Some(alias.clone()),
        }
    }

    pub fn parse(params: &Map<String, Value>) -> Result<OpsgenieParams, Outcome> {
        let root = Fields::params(params);
        root.only(&["subAction", "subActionParams"])?;
        let sub = root.nested("subActionParams")?;
        match root.required_str("subAction")? {
            "createAlert" => {
                sub.only(CREATE_FIELDS)?;
                let message = sub.required_str("message")?;
                if message.trim().is_empty() {
                    return Err(sub.refuse("message", "must not be blank"));
                }
                let mut body: Map<String, Value> = sub
                    .map()
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect();
                body.insert(
                    "message".into(),
                    crate::rest::truncate(message, MAX_MESSAGE).into(),
                );
                if let Some(alias) = sub.non_empty_str("alias")? {
                    body.insert("alias".into(), alias_of(alias).into());
                }
                Ok(OpsgenieParams::Create(body))
            }
            "closeAlert" => {
                sub.only(&["alias", "user", "source", "note"])?;
                let alias = alias_of(sub.required_str("alias")?);
                // The alias is a segment of the URL path; these two would
                // walk it to another endpoint of the API.
                if alias == "." || alias == ".." {
                    return Err(sub.refuse("alias", "must not be . or .."));
                }
                let mut body = Map::new();
                for field in ["user", "source", "note"] {
                    if let Some(value) = sub.non_empty_str(field)? {
                        body.insert(field.into(), value.into());
                    }
                }
                Ok(OpsgenieParams::Close { alias, body })
            }
            _ => Err(root.refuse("subAction", "must be createAlert or closeAlert")),
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
