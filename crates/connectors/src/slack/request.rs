//! The webhook call: `POST <webhookUrl>` with Slack's own body field names.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{SlackParams, SlackSecrets};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let secrets = SlackSecrets::parse(account)?;
    let params = SlackParams::parse(params)?;
    Ok(HttpRequest::post_json(
        secrets.webhook_url.expose(),
        &body(params),
    ))
}

/// `{"text": message}` as Kibana sends it, plus what a Signals action adds.
fn body(params: SlackParams) -> Value {
    let mut body = Map::new();
    body.insert("text".into(), json!(params.message));
    let optional = [
        ("blocks", params.blocks.map(Value::Array)),
        ("attachments", params.attachments.map(Value::Array)),
        ("channel", params.channel.map(Value::String)),
        ("username", params.username.map(Value::String)),
        ("icon_emoji", params.icon_emoji.map(Value::String)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            body.insert(name.into(), value);
        }
    }
    Value::Object(body)
}
