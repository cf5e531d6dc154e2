//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::http::Outbound;
use crate::delivery::{Connector, Delivery, Outcome};

use super::config::{EmailAccount, Transport};
use super::graph::GraphTokens;
use super::smtp::SmtpPools;

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
        let mut account = match EmailAccount::parse(&delivery.account) {
            Ok(account) => account,
            Err(outcome) => return outcome,
        };
        // The operator's `public_base_url` (Kibana's server.publicBaseUrl)
        // when the account gives none of its own.
        if account.public_base_url.is_none() {
            account.public_base_url = http.settings().public_base_url.clone();
        }
        // The domain allowlist again, as the policy stands now (ingest
        // checked the params, the registry the account, both earlier).
        let mail = match super::message::build(
            &delivery.params,
            &account,
            &delivery.action_id,
            http.policy(),
        ) {
            Ok(mail) => mail,
            Err(outcome) => return outcome,
        };
        let message_id = mail.message_id.clone();
        let outcome = match account.transport {
            Transport::Smtp(mut settings) => {
                settings.apply_outbound(http.settings());
                if !http.policy().allows_host(&settings.host) {
                    return Outcome::permanent(
                        herald_proto::v1::ErrorKind::Policy,
                        format!(
                            "host {} is not in the allowed hosts of the policy",
                            settings.host
                        ),
                    );
                }
                let (envelope, bytes) = match super::message::mime(&mail) {
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
        };
        // The Message-ID is the handle a follow-up threads under
        // (`In-Reply-To`, `References`).
        match outcome {
            Outcome::Delivered {
                mut handles,
                response,
            } => {
                handles.insert("message_id".into(), message_id);
                Outcome::Delivered { handles, response }
            }
            other => other,
        }
    }
}
