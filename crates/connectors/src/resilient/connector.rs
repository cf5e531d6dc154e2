//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use url::Url;

use super::spec::{Config, Secrets};
use crate::auth;
use crate::delivery::typed;
use crate::rest::{VendorClient, comment_error, delivered};

pub use super::request::Operation;

pub(crate) const VENDOR: &str = "Resilient";

pub struct Resilient;

#[async_trait::async_trait]
impl Connector for Resilient {
    fn connector_type(&self) -> &'static str {
        "resilient"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        match run(delivery, http).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

#[derive(Debug)]
pub struct ResilientAccount {
    pub api_url: Url,
    pub org_id: String,
    pub key_id: String,
    pub key_secret: Secret,
}

impl ResilientAccount {
    pub fn parse(account: &Account) -> Result<ResilientAccount, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        if config.api_url.is_empty() {
            return Err(config_fields.refuse("apiUrl", "must not be empty"));
        }
        let api_url = config_fields.url("apiUrl", &config.api_url)?;
        if config.org_id.is_empty() {
            return Err(config_fields.refuse("orgId", "must not be empty"));
        }
        let secret_fields = Fields::secrets(&account.secrets);
        if secrets.api_key_id.is_empty() {
            return Err(secret_fields.refuse("apiKeyId", "must not be empty"));
        }
        if secrets.api_key_secret.expose().is_empty() {
            return Err(secret_fields.refuse("apiKeySecret", "must not be empty"));
        }
        Ok(ResilientAccount {
            api_url,
            org_id: config.org_id,
            key_id: secrets.api_key_id,
            key_secret: secrets.api_key_secret,
        })
    }
}

async fn run(delivery: &Delivery, http: &Outbound) -> Result<Outcome, Outcome> {
    let account = ResilientAccount::parse(&delivery.account)?;
    let operation = Operation::parse(&delivery.params)?;
    let client = VendorClient {
        vendor: VENDOR,
        http,
        account: &delivery.account,
        headers: vec![(
            "authorization",
            auth::basic(&account.key_id, account.key_secret.expose()),
        )],
    };
    let reply = match operation {
        Operation::Push {
            external_id,
            incident,
            comments,
        } => {
            let (reply, id) = match external_id {
                None => {
                    let now = time::OffsetDateTime::now_utc();
                    let millis = (now.unix_timestamp_nanos() / 1_000_000) as i64;
                    let reply = client
                        .call(super::request::create(&account, &incident, millis))
                        .await?;
                    let id = super::response::incident_id(&reply)?;
                    (reply, id)
                }
                Some(id) => {
                    let current = client.call(super::request::get(&account, &id)).await?;
                    let changes = super::request::update(&account, &id, &incident, &current.json);
                    let reply = client.call(changes).await?;
                    super::response::check_success(&reply)?;
                    (reply, id)
                }
            };
            let mut handles = vec![
                ("incident_id", Some(id.clone())),
                ("url", Some(super::request::incident_url(&account, &id))),
            ];
            for (i, comment) in comments.iter().enumerate() {
                if let Err(outcome) = client
                    .call(super::request::comment(&account, &id, comment))
                    .await
                {
                    handles.push(comment_error(VENDOR, i, comments.len(), outcome));
                    break;
                }
            }
            return Ok(delivered(handles, &reply.response));
        }
        Operation::Handshake => return Ok(Outcome::delivered()),
        Operation::Get { external_id } => {
            let reply = client
                .call(super::request::get(&account, &external_id))
                .await?;
            let id = super::response::incident_id(&reply)?;
            let url = super::request::incident_url(&account, &id);
            return Ok(delivered(
                [("incident_id", Some(id)), ("url", Some(url))],
                &reply.response,
            ));
        }
        Operation::Fields(field) => client.call(super::request::fields(&account, field)).await?,
    };
    Ok(delivered([], &reply.response))
}
