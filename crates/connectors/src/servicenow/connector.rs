//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::sync::Arc;

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome, typed};
use url::Url;

use super::auth::VENDOR;
use super::spec::{Config, ItomConfig, Secrets};
use crate::rest::{comment_error, delivered};
use crate::token_cache::TokenCache;

pub use super::request::{Incident, Operation, Target};

/// Which ServiceNow product a connector type writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `servicenow`: ITSM incidents.
    Itsm,
    /// `servicenow-sir`: security incidents, with observables.
    Sir,
    /// `servicenow-itom`: Event Management events.
    Itom,
}

impl Flavour {
    pub(crate) fn connector_type(self) -> &'static str {
        match self {
            Flavour::Itsm => "servicenow",
            Flavour::Sir => crate::servicenow_sir::spec::ID,
            Flavour::Itom => crate::servicenow_itom::spec::ID,
        }
    }

    /// The table the records live in.
    pub fn table(self) -> &'static str {
        match self {
            Flavour::Itsm => "incident",
            Flavour::Sir => "sn_si_incident",
            Flavour::Itom => "em_event",
        }
    }

    /// The Elastic ServiceNow app's import set table and scope.
    pub fn import_set(self) -> (&'static str, &'static str) {
        match self {
            Flavour::Itsm => ("x_elas2_inc_int_elastic_incident", "x_elas2_inc_int"),
            Flavour::Sir => ("x_elas2_sir_int_elastic_si_incident", "x_elas2_sir_int"),
            Flavour::Itom => ("", ""),
        }
    }
}

/// One connector per flavour; all share the token cache.
pub struct ServiceNow {
    flavour: Flavour,
    tokens: Arc<TokenCache>,
}

impl ServiceNow {
    pub fn new(flavour: Flavour, tokens: Arc<TokenCache>) -> ServiceNow {
        ServiceNow { flavour, tokens }
    }
}

#[async_trait::async_trait]
impl Connector for ServiceNow {
    fn connector_type(&self) -> &'static str {
        self.flavour.connector_type()
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        match self.run(delivery, http).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }
}

/// How the account authenticates.
#[derive(Debug)]
pub enum Credentials {
    Basic {
        username: String,
        password: Secret,
    },
    /// JWT bearer grant: the JWT names `user` and is signed with
    /// `private_key`; `client_id`/`client_secret` authenticate the client.
    OAuth {
        client_id: String,
        client_secret: Secret,
        key_id: String,
        user: String,
        private_key: Secret,
        /// For an encrypted PKCS#8 key.
        private_key_password: Option<Secret>,
    },
}

/// The account: `config` and `secrets`.
#[derive(Debug)]
pub struct ServiceNowAccount {
    pub api_url: Url,
    pub uses_table_api: bool,
    pub credentials: Credentials,
}

impl ServiceNowAccount {
    pub fn parse(account: &Account, flavour: Flavour) -> Result<ServiceNowAccount, Outcome> {
        if flavour == Flavour::Itom {
            // ITOM's config is the others' without `usesTableApi`, which
            // this read refuses; the shared `Config` then reads its fields.
            typed::config::<ItomConfig>(&account.config)?;
        }
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let config_fields = Fields::config(&account.config);
        let secrets_fields = Fields::secrets(&account.secrets);
        let api_url = required(&config_fields, "apiUrl", Some(config.api_url))?;
        let api_url = config_fields.url("apiUrl", &api_url)?;
        let credentials = if config.is_oauth {
            Credentials::OAuth {
                client_id: required(&config_fields, "clientId", config.client_id)?,
                key_id: required(&config_fields, "jwtKeyId", config.jwt_key_id)?,
                user: required(
                    &config_fields,
                    "userIdentifierValue",
                    config.user_identifier_value,
                )?,
                client_secret: required_secret(
                    &secrets_fields,
                    "clientSecret",
                    secrets.client_secret,
                )?,
                private_key: required_secret(&secrets_fields, "privateKey", secrets.private_key)?,
                private_key_password: secrets.private_key_password,
            }
        } else {
            Credentials::Basic {
                username: required(&secrets_fields, "username", secrets.username)?,
                password: required_secret(&secrets_fields, "password", secrets.password)?,
            }
        };
        Ok(ServiceNowAccount {
            api_url,
            uses_table_api: flavour == Flavour::Itom || config.uses_table_api,
            credentials,
        })
    }

    /// The user records are opened by: the basic-auth user.
    fn username(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Basic { username, .. } => Some(username),
            Credentials::OAuth { .. } => None,
        }
    }
}

/// A field the account's way of authenticating needs: given, and not
/// empty.
fn required(fields: &Fields<'_>, name: &str, value: Option<String>) -> Result<String, Outcome> {
    match value {
        None => Err(fields.refuse(name, "required")),
        Some(text) if text.is_empty() => Err(fields.refuse(name, "must not be empty")),
        Some(text) => Ok(text),
    }
}

fn required_secret(
    fields: &Fields<'_>,
    name: &str,
    value: Option<Secret>,
) -> Result<Secret, Outcome> {
    match value {
        None => Err(fields.refuse(name, "required")),
        Some(secret) if secret.expose().is_empty() => Err(fields.refuse(name, "must not be empty")),
        Some(secret) => Ok(secret),
    }
}

impl ServiceNow {
    async fn run(&self, delivery: &Delivery, http: &Outbound) -> Result<Outcome, Outcome> {
        let account = ServiceNowAccount::parse(&delivery.account, self.flavour)?;
        let operation = super::request::Operation::parse(&delivery.params, self.flavour)?;
        let target = Target::new(&account, self.flavour);
        let mut session =
            super::auth::Session::open(http, &delivery.account, &account, &self.tokens).await?;
        execute(operation, &mut session, &target, account.username()).await
    }
}

/// One operation's calls.
async fn execute(
    operation: Operation,
    session: &mut super::auth::Session<'_>,
    target: &Target,
    username: Option<&str>,
) -> Result<Outcome, Outcome> {
    let reply = match operation {
        Operation::Push {
            external_id,
            incident,
            comments,
        } => {
            let written = match (&external_id, username) {
                (Some(_), _) | (None, None) => incident.clone(),
                (None, Some(user)) => incident.with(&[("caller_id", user), ("opened_by", user)]),
            };
            let reply = session
                .call(target.write(external_id.as_deref(), &written))
                .await?;
            let record = super::response::written(target, &reply)?;
            let mut handles = super::response::handles(target, &record).to_vec();
            for (i, comment) in comments.iter().enumerate() {
                let note = incident.with(&[("work_notes", comment)]);
                let result = session
                    .call(target.write(Some(&record.sys_id), &note))
                    .await;
                if let Err(outcome) =
                    result.and_then(|reply| super::response::written(target, &reply))
                {
                    handles.push(comment_error(VENDOR, i, comments.len(), outcome));
                    break;
                }
            }
            return Ok(delivered(handles, &reply.response));
        }
        Operation::Get { external_id } => {
            let reply = session.call(target.read(&external_id)).await?;
            let record = super::response::read(&reply)?;
            return Ok(delivered(
                super::response::handles(target, &record),
                &reply.response,
            ));
        }
        Operation::Close {
            external_id,
            correlation_id,
        } => {
            let (reply, record) = match (external_id, correlation_id) {
                (Some(id), _) => match session.call(target.read(&id)).await {
                    Err(outcome) if status_of(&outcome) == Some(404) => (None, None),
                    result => {
                        let reply = result?;
                        let record = super::response::read(&reply)?;
                        (Some(reply), Some(record))
                    }
                },
                (None, Some(correlation_id)) => {
                    let reply = session
                        .call(target.find_by_correlation(&correlation_id))
                        .await?;
                    let record = super::response::found(&reply)?;
                    (Some(reply), record)
                }
                (None, None) => unreachable!("parse requires one of them"),
            };
            let Some(record) = record else {
                // Nothing to close: as Kibana, not an error.
                tracing::info!("ServiceNow has no incident to close");
                return Ok(Outcome::delivered());
            };
            if record.state.as_deref() == Some("7") {
                let reply = reply.expect("a record comes with its reply");
                return Ok(delivered(
                    super::response::handles(target, &record),
                    &reply.response,
                ));
            }
            let reply = session
                .call(target.write(Some(&record.sys_id), &super::request::close_fields()))
                .await?;
            let closed = super::response::written(target, &reply)?;
            let closed = super::response::Record {
                number: closed.number.or(record.number),
                ..closed
            };
            return Ok(delivered(
                super::response::handles(target, &closed),
                &reply.response,
            ));
        }
        Operation::Handshake if target.uses_table_api => return Ok(Outcome::delivered()),
        Operation::Handshake => session.call(target.health()).await?,
        Operation::Fields => session.call(target.fields()).await?,
        Operation::Choices { fields } => session.call(target.choices(&fields)).await?,
        Operation::AddEvent { event } => {
            let reply = session.call(target.add_event(&event)).await?;
            let key = event
                .get("message_key")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            return Ok(delivered([("message_key", key)], &reply.response));
        }
    };
    Ok(delivered([], &reply.response))
}

fn status_of(outcome: &Outcome) -> Option<u32> {
    match outcome {
        Outcome::Retry { response, .. } | Outcome::Permanent { response, .. } => {
            response.as_ref().map(|r| r.status)
        }
        Outcome::Delivered { .. } => None,
    }
}
