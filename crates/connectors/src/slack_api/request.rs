//! The Web API calls: `POST {apiUrl}/chat.postMessage` for messages
//! (`thread_ts` for a reply in a thread), `POST {apiUrl}/chat.update` for
//! the update sub-actions, `GET {apiUrl}/conversations.info?channel=<id>`
//! for `validChannelId`, with the bot token as a Bearer credential.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{Content, SlackApiConfig, SlackApiParams, SlackApiSecrets};

/// The first (usually only) call.
pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    calls(params, account).map(|(first, _)| first)
}

/// The call, and for an update with a `threadReply` the reply after it.
pub fn calls(
    params: &Map<String, Value>,
    account: &Account,
) -> Result<(HttpRequest, Option<HttpRequest>), Outcome> {
    let config = SlackApiConfig::parse(account)?;
    let secrets = SlackApiSecrets::parse(account)?;
    let authorization = format!("Bearer {}", secrets.token.expose());
    let (channel, body) = match SlackApiParams::parse(params)? {
        SlackApiParams::ValidChannelId { channel_id } => {
            let mut url = url::Url::parse(&format!("{}/conversations.info", config.api_url))
                .expect("apiUrl was checked");
            url.query_pairs_mut().append_pair("channel", &channel_id);
            let request = HttpRequest {
                method: http::Method::GET,
                url: url.into(),
                headers: vec![("authorization".into(), authorization)],
                body: None,
            };
            return Ok((request, None));
        }
        SlackApiParams::PostMessage {
            channel,
            text,
            thread_ts,
        } => {
            let mut body = json!({"channel": channel.as_str(), "text": text});
            if let Some(ts) = thread_ts {
                body["thread_ts"] = ts.into();
            }
            (channel, body)
        }
        SlackApiParams::PostBlockkit {
            channel,
            blocks,
            thread_ts,
        } => {
            let mut body = json!({"channel": channel.as_str(), "blocks": blocks});
            if let Some(ts) = thread_ts {
                body["thread_ts"] = ts.into();
            }
            (channel, body)
        }
        SlackApiParams::Update {
            channel_id,
            ts,
            content,
            thread_reply,
        } => {
            let mut body = json!({"channel": channel_id, "ts": ts});
            match content {
                Content::Text(text) => body["text"] = text.into(),
                Content::Blocks(blocks) => body["blocks"] = blocks,
            }
            let update = post(&config, &authorization, "chat.update", &body);
            let reply = thread_reply.map(|text| {
                let reply = json!({"channel": channel_id, "thread_ts": ts, "text": text});
                post(&config, &authorization, "chat.postMessage", &reply)
            });
            return Ok((update, reply));
        }
    };
    channel.check(&config.allowed_channels)?;
    Ok((
        post(&config, &authorization, "chat.postMessage", &body),
        None,
    ))
}

fn post(config: &SlackApiConfig, authorization: &str, method: &str, body: &Value) -> HttpRequest {
    HttpRequest {
        method: http::Method::POST,
        url: format!("{}/{method}", config.api_url),
        headers: vec![
            ("authorization".into(), authorization.to_owned()),
            (
                "content-type".into(),
                "application/json; charset=UTF-8".into(),
            ),
        ],
        body: Some(serde_json::to_vec(body).expect("JSON values serialize")),
    }
}
