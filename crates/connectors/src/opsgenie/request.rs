//! `POST <apiUrl>/v2/alerts` to create; `POST
//! <apiUrl>/v2/alerts/<alias>/close?identifierType=alias` to close.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value};

use super::{OpsgenieAccount, OpsgenieParams};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let target = OpsgenieAccount::parse(account)?;
    let (url, body) = match OpsgenieParams::parse(params)? {
        OpsgenieParams::Create(body) => (format!("{}/v2/alerts", target.api_url), body),
        OpsgenieParams::Close { alias, body } => {
            let alias: String = url::form_urlencoded::byte_serialize(alias.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            let url = format!(
                "{}/v2/alerts/{alias}/close?identifierType=alias",
                target.api_url
            );
            (url, body)
        }
    };
    let authorization = format!("GenieKey {}", target.api_key.expose());
    Ok(HttpRequest::post_json(url, &Value::Object(body)).header("authorization", authorization))
}
