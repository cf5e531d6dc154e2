//! Credentials the incident connectors send: basic and bearer header
//! values, and OAuth 2.0 access tokens got with a form POST to a token
//! endpoint (client credentials for the two webhook types; the
//! ServiceNow connectors post a signed JWT the same way), cached in
//! [`TokenCache`] until they expire or the vendor answers 401.

use std::time::Duration;

use crate::delivery::attempt::{send, vendor_error};
use crate::delivery::fields::Secret;
use crate::delivery::http::Outbound;
use crate::delivery::{Account, HttpRequest, HttpResponse, Outcome};
use base64::Engine as _;
use herald_proto::v1::ErrorKind;
use serde_json::Value;

use crate::token_cache::{AccessToken, TokenCache};

/// `Authorization` value of HTTP basic authentication.
pub fn basic(user: &str, password: &str) -> Secret {
    let pair = format!("{user}:{password}");
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

#[test]
fn basic_is_base64_of_user_colon_password() {
    assert_eq!(basic("admin", "pw").expose(), "Basic YWRtaW46cHc=");
}

/// `Authorization` value of a bearer token.
pub fn bearer(token: &str) -> Secret {
    Secret::new(format!("Bearer {token}"))
}

/// Tokens are kept at most this long when the endpoint names no lifetime.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// How to get one access token: `POST token_url` with `form` as
/// `application/x-www-form-urlencoded`. No Debug: the form holds secrets.
pub struct TokenRequest {
    pub token_url: String,
    /// The field of the account the URL comes from, for reasons.
    pub token_url_field: &'static str,
    pub form: Vec<(String, Secret)>,
}

impl TokenRequest {
    fn http_request(&self) -> HttpRequest {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.form {
            body.append_pair(name, value.expose());
        }
        HttpRequest {
            method: http::Method::POST,
            url: self.token_url.clone(),
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: Some(body.finish().into_bytes()),
        }
    }
}

/// Sends `request` with an access token got by `token`, cached per
/// account. A 401 drops the token; when it came from the cache (it may have
/// been revoked or expired early) the request goes once more with a fresh
/// one: a 401 means the vendor did nothing, so this cannot send twice.
pub async fn send_with_token(
    tokens: &TokenCache,
    http: &Outbound,
    account: &Account,
    token: &TokenRequest,
    request: HttpRequest,
) -> Result<HttpResponse, Outcome> {
    let first = tokens
        .get(account, || fetch_token(http, account, token))
        .await?;
    let response = send(
        http,
        account,
        authorized(request.clone(), &first.authorization),
    )
    .await?;
    if response.status != 401 {
        return Ok(response);
    }
    tokens.forget(account, &first).await;
    if first.fresh {
        return Ok(response);
    }
    let fresh = tokens
        .get(account, || fetch_token(http, account, token))
        .await?;
    let response = send(http, account, authorized(request, &fresh.authorization)).await?;
    if response.status == 401 {
        tokens.forget(account, &fresh).await;
    }
    Ok(response)
}

async fn fetch_token(
    http: &Outbound,
    account: &Account,
    token: &TokenRequest,
) -> Result<AccessToken, Outcome> {
    let response = send(http, account, token.http_request()).await?;
    let (authorization, lifetime) = read_token(&response, token.token_url_field)?;
    Ok(AccessToken {
        authorization,
        lifetime,
    })
}

pub fn authorized(request: HttpRequest, authorization: &Secret) -> HttpRequest {
    request.header("authorization", authorization.expose())
}

/// `{access_token, token_type, expires_in}` (RFC 6749 §5.1) into the
/// header value and the token's lifetime.
fn read_token(response: &HttpResponse, field: &str) -> Result<(Secret, Duration), Outcome> {
    let endpoint = format!("the OAuth token endpoint ({field})");
    if !(200..300).contains(&response.status) {
        let outcome = vendor_error(response, &endpoint);
        // The endpoint refusing the client is a credentials problem
        // whatever 4xx it uses (`invalid_client` is often a 400).
        return Err(match outcome {
            Outcome::Permanent {
                reason, response, ..
            } => Outcome::Permanent {
                kind: ErrorKind::Auth,
                reason,
                response,
            },
            other => other,
        });
    }
    let json = response.json().unwrap_or(Value::Null);
    let Some(access_token) = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return Err(Outcome::permanent(
            ErrorKind::Auth,
            format!(
                "{endpoint} answered {} without an access_token",
                response.status
            ),
        ));
    };
    let token_type = json
        .get("token_type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("Bearer");
    let lifetime = match json.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .map_or(DEFAULT_LIFETIME, Duration::from_secs);
    Ok((
        Secret::new(format!("{token_type} {access_token}")),
        lifetime,
    ))
}
