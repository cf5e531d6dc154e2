//! `<method> <config.url>` with `params.body`, which is not sent with GET
//! or DELETE (as in Kibana). A body goes as JSON unless the account's
//! headers name another `content-type`.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value};

use crate::webhook_auth::{CONFIG_FIELDS, WebhookAuth};

pub fn build(
    params: &Map<String, Value>,
    account: &Account,
) -> Result<(WebhookAuth, HttpRequest), Outcome> {
    let config = Fields::config(&account.config);
    let known: Vec<&str> = ["url", "method"]
        .iter()
        .chain(CONFIG_FIELDS)
        .copied()
        .collect();
    config.only(&known)?;
    let url = config.required_str("url")?;
    config.url("url", url)?;
    let method = match config.non_empty_str("method")?.unwrap_or("post") {
        "post" => http::Method::POST,
        "put" => http::Method::PUT,
        "patch" => http::Method::PATCH,
        "get" => http::Method::GET,
        "delete" => http::Method::DELETE,
        _ => return Err(config.refuse("method", "must be post, put, patch, get or delete")),
    };
    let auth = WebhookAuth::parse(account)?;
    let params = Fields::params(params);
    params.only(&["body"])?;
    let body = params.str("body")?;
    let mut request = HttpRequest {
        method: method.clone(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
    };
    if let Some(body) = body
        && !matches!(method, http::Method::GET | http::Method::DELETE)
    {
        request
            .headers
            .push(("content-type".into(), "application/json".into()));
        request.body = Some(body.as_bytes().to_vec());
    }
    Ok((auth, request))
}
