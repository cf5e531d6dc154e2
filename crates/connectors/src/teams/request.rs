//! The webhook call: `POST <webhookUrl>` with `{"text": message}`, plain text
//! rather than a MessageCard, as Kibana sends it; with an `adaptiveCard`,
//! the message envelope Microsoft documents for cards sent to incoming
//! webhooks and Workflows (`type: message`, one
//! `application/vnd.microsoft.card.adaptive` attachment), the text as the
//! card's `fallbackText` when it has none.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{TeamsParams, TeamsSecrets};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let secrets = TeamsSecrets::parse(account)?;
    let params = TeamsParams::parse(params)?;
    let body = match params.adaptive_card {
        None => json!({"text": params.message}),
        Some(mut card) => {
            card.entry("fallbackText")
                .or_insert_with(|| params.message.into());
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": card,
                }],
            })
        }
    };
    Ok(HttpRequest::post_json(secrets.webhook_url.expose(), &body))
}
