//! `POST` the trigger URL with the alert's fields; `severity` defaults to
//! `High`, as in Kibana.

use crate::delivery::{Account, HttpRequest, Outcome, typed};
use serde_json::{Map, Value};

use super::{Params, XMattersAccount};
use crate::auth;

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = XMattersAccount::parse(account)?;
    let mut params: Params = typed::params(params)?;
    if params.severity.as_deref().is_none_or(str::is_empty) {
        params.severity = Some("High".into());
    }
    let body = serde_json::to_value(params).expect("params serialize");
    Ok(match account {
        XMattersAccount::Basic {
            url,
            user,
            password,
        } => HttpRequest::post_json(url, &body).header(
            "authorization",
            auth::basic(&user, password.expose()).expose(),
        ),
        XMattersAccount::UrlKey { url } => HttpRequest::post_json(url.expose(), &body),
    })
}
