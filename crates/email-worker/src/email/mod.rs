//! `email`: Kibana's e-mail connector and Search Guard Signals' e-mail
//! account. `config` reads the account into SMTP or Graph settings,
//! `message` builds the mail (a pure function), `smtp` and `graph` send it
//! and classify what happened.

pub mod config;
pub mod graph;
pub mod markdown;
pub mod message;
pub mod smtp;
#[cfg(test)]
mod tests;

use herald_worker::http::Outbound;
use herald_worker::{Connector, Delivery, Outcome};

use config::{EmailAccount, Transport};
use graph::GraphTokens;
use smtp::SmtpPools;

/// The connector, with what it keeps between deliveries: open SMTP
/// connections and Graph tokens, per account.
#[derive(Default)]
pub struct Email {
    smtp: SmtpPools,
    graph: GraphTokens,
}

#[async_trait::async_trait]
impl Connector for Email {
    fn connector_type(&self) -> &'static str {
        "email"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let account = match EmailAccount::parse(&delivery.account) {
            Ok(account) => account,
            Err(outcome) => return outcome,
        };
        // The domain allowlist again, as the policy stands now (ingest
        // checked the params, the registry the account, both earlier).
        let mail = match message::build(
            &delivery.params,
            &account,
            &delivery.action_id,
            http.policy(),
        ) {
            Ok(mail) => mail,
            Err(outcome) => return outcome,
        };
        match account.transport {
            Transport::Smtp(settings) => {
                if !http.policy().allows_host(&settings.host) {
                    return Outcome::permanent(
                        herald_proto::v1::ErrorKind::Policy,
                        format!(
                            "host {} is not in the allowed hosts of the policy",
                            settings.host
                        ),
                    );
                }
                let (envelope, bytes) = match message::mime(&mail) {
                    Ok(built) => built,
                    Err(outcome) => return outcome,
                };
                self.smtp
                    .send(
                        &delivery.account,
                        settings,
                        &envelope,
                        &bytes,
                        http.policy(),
                    )
                    .await
            }
            Transport::Graph(settings) => {
                self.graph
                    .send(http, &delivery.account, &settings, &mail)
                    .await
            }
        }
    }
}
