//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use serde_json::Value;
use url::Url;

use crate::rest::{VendorClient, base_url, comment_error, delivered};

pub use super::request::{Mapping, Push};

pub(crate) const VENDOR: &str = "Swimlane";

pub struct Swimlane;

#[async_trait::async_trait]
impl Connector for Swimlane {
    fn connector_type(&self) -> &'static str {
        "swimlane"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        match run(delivery, http).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

#[derive(Debug)]
pub struct SwimlaneAccount {
    pub api_url: Url,
    pub app_id: String,
    /// By param name (`ruleName`, `comments`, ...).
    pub mappings: Vec<Mapping>,
    pub api_token: Secret,
}

impl SwimlaneAccount {
    pub fn parse(account: &Account) -> Result<SwimlaneAccount, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["apiUrl", "appId", "connectorType", "mappings"])?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["apiToken"])?;
        let mappings = config.nested("mappings")?;
        let mut parsed = Vec::new();
        for param in super::request::MAPPED {
            let name = format!("{param}Config");
            let Some(mapping) = mappings.object(&name)? else {
                continue;
            };
            match mapping.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => parsed.push(Mapping {
                    param,
                    field_id: id.to_owned(),
                }),
                _ => return Err(mappings.refuse(&format!("{name}.id"), "required")),
            }
        }
        Ok(SwimlaneAccount {
            api_url: base_url(&config, "apiUrl")?,
            app_id: config.required_str("appId")?.to_owned(),
            mappings: parsed,
            api_token: Secret::new(secrets.required_str("apiToken")?),
        })
    }

    pub(crate) fn field_of(&self, param: &str) -> Option<&str> {
        self.mappings
            .iter()
            .find(|m| m.param == param)
            .map(|m| m.field_id.as_str())
    }
}

async fn run(delivery: &Delivery, http: &Outbound) -> Result<Outcome, Outcome> {
    let account = SwimlaneAccount::parse(&delivery.account)?;
    let push = Push::parse(&delivery.params)?;
    let client = VendorClient {
        vendor: VENDOR,
        http,
        account: &delivery.account,
        headers: vec![("private-token", account.api_token.clone())],
    };
    let reply = client.call(super::request::write(&account, &push)).await?;
    let record = super::response::record(&reply)?;
    let mut handles = vec![
        ("record_id", Some(record.id.clone())),
        ("name", record.name),
        (
            "url",
            Some(super::request::record_url(&account, &record.id)),
        ),
    ];
    match account.field_of("comments") {
        Some(field) => {
            for (i, comment) in push.comments.iter().enumerate() {
                let request = super::request::comment(&account, &record.id, field, comment);
                if let Err(outcome) = client.call(request).await {
                    handles.push(comment_error(VENDOR, i, push.comments.len(), outcome));
                    break;
                }
            }
        }
        None if !push.comments.is_empty() => {
            tracing::info!("Swimlane comments left out: config.mappings.commentsConfig is not set");
        }
        None => {}
    }
    Ok(delivered(handles, &reply.response))
}
