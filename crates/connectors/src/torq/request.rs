//! `POST <webhookIntegrationUrl>` with the body as it was written.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value};

use super::{TorqAccount, parse_body};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = TorqAccount::parse(account)?;
    let body = parse_body(params)?;
    Ok(HttpRequest::post_json(account.url.as_str(), &body)
        .header("x-torq-token", account.token.expose()))
}
