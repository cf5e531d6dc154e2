//! Microsoft Exchange Online through Microsoft Graph (`service:
//! exchange_server`): an OAuth 2.0 client-credentials token, cached per
//! account until shortly before it expires and dropped on a 401, then
//! `POST /users/{from}/sendMail`, which answers 202.

mod request;
mod response;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::delivery::http::Outbound;
use crate::delivery::{Account, Outcome};

use super::config::GraphSettings;
use super::message::Mail;
pub use request::{send_mail, token_request};
pub use response::{Token, classify_send, read_token};

/// A token is renewed this long before it expires, so it does not expire
/// between the check and the call.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// Access tokens by account id, for the account version they were made
/// with.
#[derive(Default)]
pub struct GraphTokens {
    tokens: Mutex<HashMap<String, (i64, Token)>>,
}

impl GraphTokens {
    fn cached(&self, account: &Account) -> Option<Token> {
        let tokens = self.tokens.lock().expect("token cache lock");
        let (version, token) = tokens.get(&account.id)?;
        (*version == account.version && token.expires_at > Instant::now() + EXPIRY_MARGIN)
            .then(|| token.clone())
    }

    fn forget(&self, account: &Account) {
        self.tokens
            .lock()
            .expect("token cache lock")
            .remove(&account.id);
    }

    async fn token(
        &self,
        http: &Outbound,
        account: &Account,
        settings: &GraphSettings,
    ) -> Result<Token, Outcome> {
        if let Some(token) = self.cached(account) {
            return Ok(token);
        }
        let started = Instant::now();
        let response = http
            .send(account, token_request(settings))
            .await
            .map_err(|e| {
                crate::delivery::attempt::with_reason(
                    e.outcome(),
                    format!("Microsoft token endpoint: {e}"),
                )
            })?;
        let token = read_token(&response, started)?;
        self.tokens
            .lock()
            .expect("token cache lock")
            .insert(account.id.clone(), (account.version, token.clone()));
        Ok(token)
    }

    /// Sends `mail`; a 401 drops the cached token and tries once more with
    /// a new one.
    pub async fn send(
        &self,
        http: &Outbound,
        account: &Account,
        settings: &GraphSettings,
        mail: &Mail,
    ) -> Outcome {
        for fresh_token_tried in [false, true] {
            let token = match self.token(http, account, settings).await {
                Ok(token) => token,
                Err(outcome) => return outcome,
            };
            let response = match http.send(account, send_mail(settings, &token, mail)).await {
                Ok(response) => response,
                Err(e) => {
                    return crate::delivery::attempt::with_reason(
                        e.outcome(),
                        format!("Microsoft Graph sendMail: {e}"),
                    );
                }
            };
            if response.status == 401 {
                self.forget(account);
                if !fresh_token_tried {
                    continue;
                }
            }
            return classify_send(&response);
        }
        unreachable!("the loop returns")
    }
}
