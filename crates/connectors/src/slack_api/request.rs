//! The Web API calls: `POST {apiUrl}/chat.postMessage` for messages,
//! `GET {apiUrl}/conversations.info?channel=<id>` for `validChannelId`, with
//! the bot token as a Bearer credential.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{SlackApiConfig, SlackApiParams, SlackApiSecrets};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let config = SlackApiConfig::parse(account)?;
    let secrets = SlackApiSecrets::parse(account)?;
    let authorization = format!("Bearer {}", secrets.token.expose());
    let (channel, body) = match SlackApiParams::parse(params)? {
        SlackApiParams::ValidChannelId { channel_id } => {
            let mut url = url::Url::parse(&format!("{}/conversations.info", config.api_url))
                .expect("apiUrl was checked");
            url.query_pairs_mut().append_pair("channel", &channel_id);
            return Ok(HttpRequest {
                method: http::Method::GET,
                url: url.into(),
                headers: vec![("authorization".into(), authorization)],
                body: None,
            });
        }
        SlackApiParams::PostMessage { channel, text } => {
            let body = json!({"channel": channel.as_str(), "text": text});
            (channel, body)
        }
        SlackApiParams::PostBlockkit { channel, blocks } => {
            let body = json!({"channel": channel.as_str(), "blocks": blocks});
            (channel, body)
        }
    };
    channel.check(&config.allowed_channels)?;
    Ok(HttpRequest {
        method: http::Method::POST,
        url: format!("{}/chat.postMessage", config.api_url),
        headers: vec![
            ("authorization".into(), authorization),
            (
                "content-type".into(),
                "application/json; charset=UTF-8".into(),
            ),
        ],
        body: Some(serde_json::to_vec(&body).expect("JSON values serialize")),
    })
}
