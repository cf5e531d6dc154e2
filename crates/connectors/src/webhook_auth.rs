//! Kibana's webhook auth block, shared by `webhook` and `cases-webhook`:
//! configured and secret headers, then basic, bearer or OAuth 2.0 client
//! credentials (`authType`). Client certificates, `ca` and
//! `verificationMode` are applied by the outbound client itself
//! (`crate::delivery::http`), so they are only accepted here.

use crate::delivery::attempt::send;
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::http::Outbound;
use crate::delivery::{Account, HttpRequest, HttpResponse, Outcome};
use serde_json::Value;

use crate::auth::{self, TokenRequest};
use crate::token_cache::TokenCache;

pub const AUTH_BASIC: &str = "webhook-authentication-basic";
pub const AUTH_BEARER: &str = "webhook-authentication-bearer";
pub const AUTH_SSL: &str = "webhook-authentication-ssl";
pub const AUTH_OAUTH2: &str = "webhook-oauth2-client-credentials";
pub const AUTH_QUERY_PARAM: &str = "http-authentication-query-param";

/// The config fields of the block, for each connector's `only` list.
pub const CONFIG_FIELDS: &[&str] = &[
    "headers",
    "hasAuth",
    "authType",
    "certType",
    "ca",
    "verificationMode",
    "accessTokenUrl",
    "clientId",
    "scope",
    "additionalFields",
];
const SECRET_FIELDS: &[&str] = &[
    "user",
    "password",
    "crt",
    "key",
    "pfx",
    "clientSecret",
    "token",
    "secretHeaders",
];

enum Credentials {
    None,
    /// Basic or bearer: a fixed `Authorization` value.
    Header(Secret),
    OAuth2(TokenRequest),
}

/// How an account's requests are authenticated. No Debug: it holds secrets.
pub struct WebhookAuth {
    credentials: Credentials,
    /// `config.headers`, then `secrets.secretHeaders`.
    headers: Vec<(String, Secret)>,
}

impl WebhookAuth {
    pub fn parse(account: &Account) -> Result<WebhookAuth, Outcome> {
        let config = Fields::config(&account.config);
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(SECRET_FIELDS)?;
        let mut headers: Vec<(String, Secret)> = config
            .string_map("headers")?
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        for (name, value) in secrets.string_map("secretHeaders")? {
            headers.push((name.to_owned(), Secret::new(value)));
        }
        let credentials = if config.bool("hasAuth")? == Some(false) {
            Credentials::None
        } else {
            match config.non_empty_str("authType")?.unwrap_or(AUTH_BASIC) {
                AUTH_BASIC => Credentials::Header(auth::basic(
                    secrets.required_str("user")?,
                    secrets.required_str("password")?,
                )),
                AUTH_BEARER => Credentials::Header(auth::bearer(secrets.required_str("token")?)),
                AUTH_OAUTH2 => Credentials::OAuth2(client_credentials(&config, &secrets)?),
                AUTH_SSL | AUTH_QUERY_PARAM => Credentials::None,
                _ => return Err(config.refuse("authType", "unknown authentication type")),
            }
        };
        Ok(WebhookAuth {
            credentials,
            headers,
        })
    }

    /// `request` with the account's headers added (before the connector's
    /// own, so a configured `content-type` wins: see `has_header`).
    pub fn with_headers(&self, mut request: HttpRequest) -> HttpRequest {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect();
        for (name, value) in request.headers {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                headers.push((name, value));
            }
        }
        request.headers = headers;
        request
    }

    /// Sends `request` with the account's headers and credentials.
    pub async fn send(
        &self,
        tokens: &TokenCache,
        http: &Outbound,
        account: &Account,
        request: HttpRequest,
    ) -> Result<HttpResponse, Outcome> {
        let request = self.with_headers(request);
        match &self.credentials {
            Credentials::None => send(http, account, request).await,
            Credentials::Header(value) => {
                send(http, account, auth::authorized(request, value)).await
            }
            Credentials::OAuth2(token) => {
                auth::send_with_token(tokens, http, account, token, request).await
            }
        }
    }
}

/// Kibana's client-credentials request: `grant_type`, `client_id`,
/// `client_secret`, `scope` and the fields of `additionalFields`.
fn client_credentials(config: &Fields<'_>, secrets: &Fields<'_>) -> Result<TokenRequest, Outcome> {
    let token_url = config.required_str("accessTokenUrl")?;
    config.url("accessTokenUrl", token_url)?;
    let mut form = vec![
        ("grant_type".to_owned(), Secret::new("client_credentials")),
        (
            "client_id".to_owned(),
            Secret::new(config.required_str("clientId")?),
        ),
        (
            "client_secret".to_owned(),
            Secret::new(secrets.required_str("clientSecret")?),
        ),
    ];
    if let Some(scope) = config.non_empty_str("scope")? {
        form.push(("scope".to_owned(), Secret::new(scope)));
    }
    if let Some(extra) = config.non_empty_str("additionalFields")? {
        let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(extra) else {
            return Err(config.refuse("additionalFields", "must be a string holding a JSON object"));
        };
        for (name, value) in extra {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            form.push((name, Secret::new(value)));
        }
    }
    Ok(TokenRequest {
        token_url: token_url.to_owned(),
        token_url_field: "config.accessTokenUrl",
        form,
    })
}
