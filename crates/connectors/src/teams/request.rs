//! The webhook call: `POST <webhookUrl>` with `{"text": message}`, plain text
//! rather than a MessageCard, as Kibana sends it.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{TeamsParams, TeamsSecrets};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let secrets = TeamsSecrets::parse(account)?;
    let params = TeamsParams::parse(params)?;
    Ok(HttpRequest::post_json(
        secrets.webhook_url.expose(),
        &json!({"text": params.message}),
    ))
}
