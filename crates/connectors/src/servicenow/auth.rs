//! Authenticating to ServiceNow: basic auth, or an OAuth access token got
//! with a JWT bearer grant (`POST /oauth_token.do`) and cached per account
//! (`TokenCache`). A 401 drops the token; when it was a cached one (revoked
//! or expired early) the call is made once more with a new token, so a
//! stale token costs no attempt.

use crate::delivery::fields::Secret;
use crate::delivery::http::Outbound;
use crate::delivery::{Account, HttpRequest, Outcome};
use herald_proto::v1::ErrorKind;

use super::{Credentials, ServiceNowAccount, request, response};
use crate::auth;
use crate::jwt::{JwtError, JwtGrant, assertion, now};
use crate::rest::{Reply, VendorClient};
use crate::token_cache::{AccessToken, Token, TokenCache};

pub const VENDOR: &str = "ServiceNow";

/// The calls of one delivery, authenticated.
pub struct Session<'a> {
    http: &'a Outbound,
    account: &'a Account,
    servicenow: &'a ServiceNowAccount,
    tokens: &'a TokenCache,
    token: Option<Token>,
}

impl<'a> Session<'a> {
    pub async fn open(
        http: &'a Outbound,
        account: &'a Account,
        servicenow: &'a ServiceNowAccount,
        tokens: &'a TokenCache,
    ) -> Result<Session<'a>, Outcome> {
        let mut session = Session {
            http,
            account,
            servicenow,
            tokens,
            token: None,
        };
        if matches!(servicenow.credentials, Credentials::OAuth { .. }) {
            session.token = Some(session.token().await?);
        }
        Ok(session)
    }

    /// Sends `request` authenticated; see the module doc for 401s.
    pub async fn call(&mut self, request: HttpRequest) -> Result<Reply, Outcome> {
        let result = self.client().call(request.clone()).await;
        if !is_unauthorized(&result) {
            return result;
        }
        let Some(token) = self.token.take() else {
            return result;
        };
        self.tokens.forget(self.account, &token).await;
        if token.fresh {
            return result;
        }
        tracing::debug!(account = %self.account.id, "ServiceNow refused a cached token; getting a new one");
        self.token = Some(self.token().await?);
        let retried = self.client().call(request).await;
        if is_unauthorized(&retried)
            && let Some(token) = self.token.take()
        {
            self.tokens.forget(self.account, &token).await;
        }
        retried
    }

    fn client(&self) -> VendorClient<'a> {
        let authorization = match (&self.servicenow.credentials, &self.token) {
            (Credentials::Basic { username, password }, _) => {
                auth::basic(username, password.expose())
            }
            (Credentials::OAuth { .. }, Some(token)) => token.authorization.clone(),
            (Credentials::OAuth { .. }, None) => Secret::new(""),
        };
        VendorClient {
            vendor: VENDOR,
            http: self.http,
            account: self.account,
            headers: vec![("authorization", authorization)],
        }
    }

    async fn token(&self) -> Result<Token, Outcome> {
        self.tokens
            .get(self.account, || {
                fetch_token(self.http, self.account, self.servicenow)
            })
            .await
    }
}

fn is_unauthorized(result: &Result<Reply, Outcome>) -> bool {
    matches!(
        result,
        Err(Outcome::Permanent { kind: ErrorKind::Auth, response: Some(response), .. })
            if response.status == 401
    )
}

/// The JWT bearer grant: a JWT naming the user, signed with the account's
/// key, exchanged with the client id and secret for an access token.
async fn fetch_token(
    http: &Outbound,
    account: &Account,
    servicenow: &ServiceNowAccount,
) -> Result<AccessToken, Outcome> {
    let Credentials::OAuth {
        client_id,
        client_secret,
        key_id,
        user,
        private_key,
        private_key_password,
    } = &servicenow.credentials
    else {
        unreachable!("tokens are fetched for OAuth accounts only")
    };
    let grant = JwtGrant {
        issuer: client_id,
        subject: user,
        audience: client_id,
        key_id: Some(key_id),
        private_key_pem: private_key.expose(),
        key_password: private_key_password.as_ref().map(Secret::expose),
    };
    let jwt = assertion(&grant, now()).map_err(|error| {
        let field = match error {
            JwtError::Password => "privateKeyPassword",
            _ => "privateKey",
        };
        Outcome::permanent(
            ErrorKind::InvalidConfig,
            format!("secrets.{field}: {error}"),
        )
    })?;
    let request = request::token_request(&servicenow.api_url, client_id, client_secret, &jwt);
    let client = VendorClient {
        vendor: "ServiceNow's OAuth token endpoint",
        http,
        account,
        headers: Vec::new(),
    };
    let reply = client.call(request).await?;
    response::access_token(&reply)
}
