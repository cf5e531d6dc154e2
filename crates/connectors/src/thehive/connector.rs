//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use url::Url;

use super::spec::{Config, Secrets};
use crate::delivery::typed;
use crate::rest::{VendorClient, comment_error, delivered};

pub use super::request::Operation;

pub(crate) const VENDOR: &str = "TheHive";

pub struct TheHive;

#[async_trait::async_trait]
impl Connector for TheHive {
    fn connector_type(&self) -> &'static str {
        "thehive"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        match run(delivery, http).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

#[derive(Debug)]
pub struct TheHiveAccount {
    pub url: Url,
    pub organisation: Option<String>,
    pub api_key: Secret,
}

impl TheHiveAccount {
    pub fn parse(account: &Account) -> Result<TheHiveAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        if config.url.is_empty() {
            return Err(config_fields.refuse("url", "must not be empty"));
        }
        let url = config_fields.url("url", &config.url)?;
        if secrets.api_key.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("apiKey", "must not be empty"));
        }
        Ok(TheHiveAccount {
            url,
            organisation: config.organisation.filter(|o| !o.is_empty()),
            api_key: secrets.api_key,
        })
    }
}

async fn run(delivery: &Delivery, http: &Outbound) -> Result<Outcome, Outcome> {
    let account = TheHiveAccount::parse(&delivery.account)?;
    let operation = Operation::parse(&delivery.params)?;
    let mut headers = vec![(
        "authorization",
        Secret::new(format!("Bearer {}", account.api_key.expose())),
    )];
    if let Some(organisation) = &account.organisation {
        headers.push(("x-organisation", Secret::new(organisation.as_str())));
    }
    let client = VendorClient {
        vendor: VENDOR,
        http,
        account: &delivery.account,
        headers,
    };
    let base = &account.url;
    match operation {
        Operation::CreateAlert { alert } => {
            let reply = client
                .call(super::request::create_alert(base, &alert))
                .await?;
            let id = super::response::record_id(&reply)?;
            Ok(delivered([("alert_id", Some(id))], &reply.response))
        }
        Operation::Push {
            external_id,
            case,
            comments,
        } => {
            let (reply, id, number) = match external_id {
                None => {
                    let reply = client
                        .call(super::request::create_case(base, &case))
                        .await?;
                    let id = super::response::record_id(&reply)?;
                    let number = super::response::case_number(&reply);
                    (reply, id, number)
                }
                Some(id) => {
                    let reply = client
                        .call(super::request::update_case(base, &id, &case))
                        .await?;
                    (reply, id, None)
                }
            };
            let mut handles = vec![
                ("case_id", Some(id.clone())),
                ("case_number", number),
                ("url", Some(super::request::case_url(base, &id))),
            ];
            for (i, comment) in comments.iter().enumerate() {
                if let Err(outcome) = client
                    .call(super::request::comment(base, &id, comment))
                    .await
                {
                    handles.push(comment_error(VENDOR, i, comments.len(), outcome));
                    break;
                }
            }
            Ok(delivered(handles, &reply.response))
        }
    }
}
