//! `<method> <config.url>` with `params.body`, which is not sent with GET
//! or DELETE (as in Kibana). A body goes as JSON unless the account's
//! headers name another `content-type`.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use serde_json::{Map, Value};

use super::spec::{Config, Method, Params};
use crate::webhook_auth::WebhookAuth;

pub fn build(
    params: &Map<String, Value>,
    account: &Account,
) -> Result<(WebhookAuth, HttpRequest), Outcome> {
    let config: Config = typed::config(&account.config)?;
    let fields = Fields::config(&account.config);
    if config.url.is_empty() {
        return Err(fields.refuse("url", "must not be empty"));
    }
    fields.url("url", &config.url)?;
    let method = match config.method.unwrap_or(Method::Post) {
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Get => http::Method::GET,
        Method::Delete => http::Method::DELETE,
    };
    let auth = WebhookAuth::parse(account, &config.auth())?;
    let params: Params = typed::params(params)?;
    let mut request = HttpRequest {
        method: method.clone(),
        url: config.url,
        headers: Vec::new(),
        body: None,
    };
    if let Some(body) = params.body
        && !matches!(method, http::Method::GET | http::Method::DELETE)
    {
        request
            .headers
            .push(("content-type".into(), "application/json".into()));
        request.body = Some(body.into_bytes());
    }
    Ok((auth, request))
}
