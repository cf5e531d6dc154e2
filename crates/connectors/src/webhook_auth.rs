//! Kibana's webhook auth block, shared by the two webhook types (plain and cases):
//! configured and secret headers, then basic, bearer or OAuth 2.0 client
//! credentials (`authType`). Client certificates, `ca` and
//! `verificationMode` are applied by the outbound client itself
//! (`crate::delivery::http`), so they are only accepted here.
//!
//! Both connectors' `secrets` are this block's [`Secrets`]. Their `config`
//! is the connector's own fields plus the block's, in one object that
//! refuses unknown fields. serde's `deny_unknown_fields` does not combine
//! with `#[serde(flatten)]` (and a flattened field loses serde's path to a
//! problem, and the schema its derived shape), so the block is not a field
//! of the connector's `Config`: [`with_auth_config!`] declares the
//! connector's `Config` with its own fields followed by the block's, one
//! derived struct whose schema is the published one, and gives it
//! `auth()`, the block's fields as an [`AuthConfig`], the struct that same
//! macro declares from the same field list.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::is_set;
use herald_catalog::schema::join;
use herald_catalog::{Secret, Violations};

pub const AUTH_BASIC: &str = "webhook-authentication-basic";
/// Herald's addition: `Authorization: Bearer <secrets.token>`.
pub const AUTH_BEARER: &str = "webhook-authentication-bearer";
pub const AUTH_SSL: &str = "webhook-authentication-ssl";
pub const AUTH_OAUTH2: &str = "webhook-oauth2-client-credentials";
pub const AUTH_QUERY_PARAM: &str = "http-authentication-query-param";
/// Kibana's cap on configured headers.
pub const MAX_HEADERS: u64 = 20;

// `authType`, by the names above (`auth_type_names_are_the_constants`
// checks that they agree). No doc comments on these enums: they would
// become the fields' `description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum AuthType {
    #[serde(rename = "webhook-authentication-basic")]
    Basic,
    #[serde(rename = "webhook-authentication-ssl")]
    Ssl,
    #[serde(rename = "webhook-oauth2-client-credentials")]
    OAuth2,
    #[serde(rename = "http-authentication-query-param")]
    QueryParam,
    #[serde(rename = "webhook-authentication-bearer")]
    Bearer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum CertType {
    #[serde(rename = "ssl-crt-key")]
    CrtKey,
    #[serde(rename = "ssl-pfx")]
    Pfx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMode {
    None,
    Certificate,
    Full,
}

/// Declares a connector's `config` struct: the fields written in the
/// invocation, then the block's (Kibana's `AuthConfiguration` and
/// `headers`), with `deny_unknown_fields` and Kibana's camelCase names, and
/// `auth()`, those block fields as an [`AuthConfig`]:
///
/// ```ignore
/// with_auth_config! {
///     pub struct Config {
///         #[schemars(extend("format" = "uri"))]
///         pub url: String,
///     }
/// }
/// ```
macro_rules! with_auth_config {
    (@struct $(#[$attr:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($own)*
            #[schemars(extend("maxProperties" = $crate::webhook_auth::MAX_HEADERS))]
            pub headers: ::std::option::Option<
                ::std::collections::BTreeMap<::std::string::String, ::std::string::String>,
            >,
            #[schemars(extend("default" = true))]
            pub has_auth: ::std::option::Option<bool>,
            #[schemars(extend("default" = $crate::webhook_auth::AUTH_BASIC))]
            pub auth_type: ::std::option::Option<$crate::webhook_auth::AuthType>,
            pub cert_type: ::std::option::Option<$crate::webhook_auth::CertType>,
            /// CA certificate (PEM, base64) to trust
            pub ca: ::std::option::Option<::std::string::String>,
            pub verification_mode: ::std::option::Option<$crate::webhook_auth::VerificationMode>,
            /// OAuth2 token endpoint
            #[schemars(extend("format" = "uri"))]
            pub access_token_url: ::std::option::Option<::std::string::String>,
            pub client_id: ::std::option::Option<::std::string::String>,
            pub scope: ::std::option::Option<::std::string::String>,
            /// JSON object of extra token request fields
            pub additional_fields: ::std::option::Option<::std::string::String>,
        }
    };
    ($(#[$attr:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $crate::webhook_auth::with_auth_config!(@struct $(#[$attr])* $name { $($own)* });

        impl $name {
            /// The auth block's fields.
            pub fn auth(&self) -> $crate::webhook_auth::AuthConfig {
                $crate::webhook_auth::AuthConfig {
                    headers: self.headers.clone(),
                    has_auth: self.has_auth,
                    auth_type: self.auth_type,
                    cert_type: self.cert_type,
                    ca: self.ca.clone(),
                    verification_mode: self.verification_mode,
                    access_token_url: self.access_token_url.clone(),
                    client_id: self.client_id.clone(),
                    scope: self.scope.clone(),
                    additional_fields: self.additional_fields.clone(),
                }
            }
        }
    };
}
pub(crate) use with_auth_config;

with_auth_config!(@struct
    /// The block's config fields on their own, as `WebhookAuth` reads them.
    AuthConfig {}
);

/// Kibana's `SecretConfiguration`, plus encrypted headers: the `secrets`
/// of both connectors.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    pub user: Option<String>,
    /// Basic auth, or the key's passphrase
    pub password: Option<Secret>,
    /// Client certificate (PEM, base64)
    pub crt: Option<Secret>,
    /// Client key (PEM, base64)
    pub key: Option<Secret>,
    /// Client certificate and key (PFX, base64)
    pub pfx: Option<Secret>,
    /// OAuth2 client secret
    pub client_secret: Option<Secret>,
    /// Bearer token
    pub token: Option<Secret>,
    /// Headers stored encrypted, merged with config.headers
    #[schemars(extend("maxProperties" = MAX_HEADERS))]
    pub secret_headers: Option<BTreeMap<String, Secret>>,
}

/// The credentials each auth type needs, and Kibana's rule that an account
/// holds one kind of credential only.
pub(crate) fn auth_rules(
    config: &Map<String, Value>,
    secrets: &Map<String, Value>,
    out: &mut Violations,
) {
    let kinds = [
        is_set(secrets, "user"),
        is_set(secrets, "crt") || is_set(secrets, "key"),
        is_set(secrets, "pfx"),
        is_set(secrets, "clientSecret"),
        is_set(secrets, "token"),
    ];
    if kinds.iter().filter(|given| **given).count() > 1 {
        out.push(
            "secrets",
            "use one kind of credential: user and password; crt and key; pfx; clientSecret; or token",
        );
    }
    if let Some(Value::String(fields)) = config.get("additionalFields")
        && !matches!(serde_json::from_str(fields), Ok(Value::Object(_)))
    {
        out.push(
            "config.additionalFields",
            "must be a string holding a JSON object",
        );
    }
    if let (Some(Value::Object(headers)), Some(Value::Object(secret_headers))) =
        (config.get("headers"), secrets.get("secretHeaders"))
    {
        for name in secret_headers.keys() {
            if headers.keys().any(|h| h.eq_ignore_ascii_case(name)) {
                out.push(
                    join("secrets.secretHeaders", name),
                    "also set in config.headers",
                );
            }
        }
    }
    check_credentials(config, secrets, out);
}

fn check_credentials(
    config: &Map<String, Value>,
    secrets: &Map<String, Value>,
    out: &mut Violations,
) {
    if config.get("hasAuth").and_then(Value::as_bool) == Some(false) {
        return;
    }
    let require =
        |map: &Map<String, Value>, scope: &str, field: &str, why: &str, out: &mut Violations| {
            if !is_set(map, field) {
                out.push(join(scope, field), format!("required for {why}"));
            }
        };
    match config
        .get("authType")
        .and_then(Value::as_str)
        .unwrap_or(AUTH_BASIC)
    {
        AUTH_SSL => match config.get("certType").and_then(Value::as_str) {
            Some("ssl-crt-key") => {
                require(secrets, "secrets", "crt", "certType ssl-crt-key", out);
                require(secrets, "secrets", "key", "certType ssl-crt-key", out);
            }
            Some("ssl-pfx") => require(secrets, "secrets", "pfx", "certType ssl-pfx", out),
            _ => out.push(
                "config.certType",
                format!("required when authType is {AUTH_SSL}"),
            ),
        },
        AUTH_OAUTH2 => {
            let why = "OAuth2 client credentials";
            require(config, "config", "accessTokenUrl", why, out);
            require(config, "config", "clientId", why, out);
            require(secrets, "secrets", "clientSecret", why, out);
        }
        AUTH_BEARER => require(secrets, "secrets", "token", "bearer authentication", out),
        // The parameter's name and value live in the URL or headers.
        AUTH_QUERY_PARAM => {}
        _ => {
            require(secrets, "secrets", "user", "basic authentication", out);
            require(secrets, "secrets", "password", "basic authentication", out);
        }
    }
}

#[cfg(feature = "delivery")]
pub use worker::WebhookAuth;

/// How a worker authenticates an account's requests.
#[cfg(feature = "delivery")]
mod worker {
    use serde_json::Value;

    use super::{AuthConfig, AuthType, Secrets};
    use crate::auth::{self, TokenRequest};
    use crate::delivery::attempt::send;
    use crate::delivery::fields::{Fields, Secret};
    use crate::delivery::http::Outbound;
    use crate::delivery::{Account, HttpRequest, HttpResponse, Outcome, typed};
    use crate::token_cache::TokenCache;

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

    /// A field the auth type needs: given and not empty.
    fn required<'a>(
        fields: &Fields<'_>,
        name: &str,
        value: Option<&'a str>,
    ) -> Result<&'a str, Outcome> {
        match value {
            None => Err(fields.refuse(name, "required")),
            Some("") => Err(fields.refuse(name, "must not be empty")),
            Some(text) => Ok(text),
        }
    }

    impl WebhookAuth {
        /// The account's credentials: `config` is its config's auth block,
        /// and its secrets are read here.
        pub fn parse(account: &Account, config: &AuthConfig) -> Result<WebhookAuth, Outcome> {
            let secrets: Secrets = typed::secrets(&account.secrets)?;
            let secret_fields = Fields::secrets(&account.secrets);
            let mut headers: Vec<(String, Secret)> = config
                .headers
                .iter()
                .flatten()
                .map(|(name, value)| (name.clone(), Secret::new(value.as_str())))
                .collect();
            headers.extend(secrets.secret_headers.clone().into_iter().flatten());
            let credentials = if config.has_auth == Some(false) {
                Credentials::None
            } else {
                match config.auth_type.unwrap_or(AuthType::Basic) {
                    AuthType::Basic => Credentials::Header(auth::basic(
                        required(&secret_fields, "user", secrets.user.as_deref())?,
                        required(
                            &secret_fields,
                            "password",
                            secrets.password.as_ref().map(Secret::expose),
                        )?,
                    )),
                    AuthType::Bearer => Credentials::Header(auth::bearer(required(
                        &secret_fields,
                        "token",
                        secrets.token.as_ref().map(Secret::expose),
                    )?)),
                    AuthType::OAuth2 => {
                        Credentials::OAuth2(client_credentials(account, config, &secrets)?)
                    }
                    AuthType::Ssl | AuthType::QueryParam => Credentials::None,
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
    fn client_credentials(
        account: &Account,
        config: &AuthConfig,
        secrets: &Secrets,
    ) -> Result<TokenRequest, Outcome> {
        let config_fields = Fields::config(&account.config);
        let secret_fields = Fields::secrets(&account.secrets);
        let token_url = required(
            &config_fields,
            "accessTokenUrl",
            config.access_token_url.as_deref(),
        )?;
        config_fields.url("accessTokenUrl", token_url)?;
        let mut form = vec![
            ("grant_type".to_owned(), Secret::new("client_credentials")),
            (
                "client_id".to_owned(),
                Secret::new(required(
                    &config_fields,
                    "clientId",
                    config.client_id.as_deref(),
                )?),
            ),
            (
                "client_secret".to_owned(),
                Secret::new(required(
                    &secret_fields,
                    "clientSecret",
                    secrets.client_secret.as_ref().map(Secret::expose),
                )?),
            ),
        ];
        if let Some(scope) = config.scope.as_deref().filter(|s| !s.is_empty()) {
            form.push(("scope".to_owned(), Secret::new(scope)));
        }
        if let Some(extra) = config
            .additional_fields
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(extra) else {
                return Err(config_fields
                    .refuse("additionalFields", "must be a string holding a JSON object"));
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn auth_type_names_are_the_constants() {
        for (name, auth_type) in [
            (AUTH_BASIC, AuthType::Basic),
            (AUTH_SSL, AuthType::Ssl),
            (AUTH_OAUTH2, AuthType::OAuth2),
            (AUTH_QUERY_PARAM, AuthType::QueryParam),
            (AUTH_BEARER, AuthType::Bearer),
        ] {
            assert_eq!(
                serde_json::from_value::<AuthType>(json!(name)).unwrap(),
                auth_type
            );
        }
    }
}
