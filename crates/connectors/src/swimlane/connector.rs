//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use url::Url;

use super::spec::{Config, Secrets};
use crate::delivery::typed;
use crate::rest::{VendorClient, comment_error, delivered};

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
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        let mappings = config_fields.nested("mappings")?;
        let m = config.mappings;
        let mut parsed = Vec::new();
        for (param, mapping) in super::request::MAPPED.into_iter().zip([
            m.rule_name_config,
            m.alert_id_config,
            m.case_id_config,
            m.case_name_config,
            m.comments_config,
            m.severity_config,
            m.description_config,
        ]) {
            let Some(mapping) = mapping else {
                continue;
            };
            if mapping.id.is_empty() {
                return Err(mappings.refuse(&format!("{param}Config.id"), "required"));
            }
            parsed.push(Mapping {
                param,
                field_id: mapping.id,
            });
        }
        if config.api_url.is_empty() {
            return Err(config_fields.refuse("apiUrl", "must not be empty"));
        }
        let api_url = config_fields.url("apiUrl", &config.api_url)?;
        if config.app_id.is_empty() {
            return Err(config_fields.refuse("appId", "must not be empty"));
        }
        if secrets.api_token.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("apiToken", "must not be empty"));
        }
        Ok(SwimlaneAccount {
            api_url,
            app_id: config.app_id,
            mappings: parsed,
            api_token: secrets.api_token,
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
