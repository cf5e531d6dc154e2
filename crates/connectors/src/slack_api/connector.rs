//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::http::Outbound;
use crate::delivery::{Account, Connector, Delivery, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Map, Value};

pub use super::spec::AllowedChannel;
use super::spec::{Config, DEFAULT_API_URL, Params, Secrets};
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::typed;
use herald_catalog::typed::NonEmpty;

pub use super::request::{build, calls};
pub use super::response::classify;

pub struct SlackApi;

/// One call, except an update with a `threadReply`: `chat.update`, then
/// `chat.postMessage` in the message's thread. The reply is best effort
/// once the update is done (as Jira's comments): a failed one is reported
/// in the `thread_reply_failed` handle and logged, not retried, since the
/// message itself already says what happened.
#[async_trait::async_trait]
impl Connector for SlackApi {
    fn connector_type(&self) -> &'static str {
        "slack_api"
    }

    async fn deliver(&self, delivery: &Delivery, http: &Outbound) -> Outcome {
        let (first, reply) = match calls(&delivery.params, &delivery.account) {
            Ok(calls) => calls,
            Err(outcome) => return outcome,
        };
        let account = &delivery.account;
        let outcome = crate::delivery::attempt::attempt(http, account, Ok(first), classify).await;
        let Some(reply) = reply else {
            return outcome;
        };
        let Outcome::Delivered {
            mut handles,
            response,
        } = outcome
        else {
            return outcome;
        };
        match crate::delivery::attempt::attempt(http, account, Ok(reply), classify).await {
            Outcome::Delivered { handles: reply, .. } => {
                if let Some(ts) = reply.get("ts") {
                    handles.insert("reply_ts".into(), ts.clone());
                }
            }
            failed => {
                let reason = crate::rest::reason_of(&failed).to_owned();
                tracing::warn!(action.id = %delivery.action_id, %reason, "Slack thread reply not posted");
                handles.insert("thread_reply_failed".into(), reason);
            }
        }
        Outcome::Delivered { handles, response }
    }
}

/// `config`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackApiConfig {
    /// Without a trailing `/`.
    pub api_url: String,
    /// Empty: any channel.
    pub allowed_channels: Vec<AllowedChannel>,
}

impl SlackApiConfig {
    pub fn parse(account: &Account) -> Result<SlackApiConfig, Outcome> {
        let config: Config = typed::config(&account.config)?;
        let api_url = config
            .api_url
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Fields::config(&account.config).url("apiUrl", &api_url)?;
        Ok(SlackApiConfig {
            api_url: api_url.trim_end_matches('/').to_owned(),
            allowed_channels: config.allowed_channels.unwrap_or_default(),
        })
    }
}

/// `secrets`.
#[derive(Debug)]
pub struct SlackApiSecrets {
    /// Bot user OAuth token, `xoxb-...`.
    pub token: Secret,
}

impl SlackApiSecrets {
    pub fn parse(account: &Account) -> Result<SlackApiSecrets, Outcome> {
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        if secrets.token.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse("token", "must not be empty"));
        }
        Ok(SlackApiSecrets {
            token: secrets.token,
        })
    }
}

/// `params`: one sub-action.
#[derive(Debug, Clone, PartialEq)]
pub enum SlackApiParams {
    ValidChannelId {
        channel_id: String,
    },
    /// `thread_ts`: a reply in that message's thread.
    PostMessage {
        channel: Channel,
        text: String,
        thread_ts: Option<String>,
    },
    /// `blocks` is the top-level `blocks` of the JSON in `text`.
    PostBlockkit {
        channel: Channel,
        blocks: Value,
        thread_ts: Option<String>,
    },
    /// `chat.update` of the message `ts` in `channel_id`, then the reply.
    Update {
        channel_id: String,
        ts: String,
        content: Content,
        thread_reply: Option<String>,
    },
}

/// What a message says: mrkdwn text, or Block Kit blocks.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    Blocks(Value),
}

/// The one channel a message goes to, and which field named it: the
/// allowlist compares names by name and ids by id.
#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// `channelNames[0]`, `#`-prefixed.
    Name(String),
    /// `channelIds[0]`.
    Id(String),
    /// `channels[0]`, Kibana's deprecated field: a name or an id.
    Legacy(String),
}

impl Channel {
    /// What `chat.postMessage` takes as `channel`.
    pub fn as_str(&self) -> &str {
        match self {
            Channel::Name(text) | Channel::Id(text) | Channel::Legacy(text) => text,
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Channel::Name(_) => "subActionParams.channelNames[0]",
            Channel::Id(_) => "subActionParams.channelIds[0]",
            Channel::Legacy(_) => "subActionParams.channels[0]",
        }
    }

    /// Kibana's rule: names compare without `#`, ids by id; a deprecated
    /// `channels` entry may be either.
    pub fn allowed_by(&self, allowed: &[AllowedChannel]) -> bool {
        let bare = |name: &str| name.trim_start_matches('#').to_owned();
        let by_name = |name: &str| allowed.iter().any(|c| bare(c.name.as_str()) == bare(name));
        let by_id = |id: &str| {
            allowed
                .iter()
                .any(|c| c.id.as_ref().map(NonEmpty::as_str) == Some(id))
        };
        allowed.is_empty()
            || match self {
                Channel::Name(name) => by_name(name),
                Channel::Id(id) => by_id(id),
                Channel::Legacy(text) => by_name(text) || by_id(text),
            }
    }

    /// `Permanent Policy` unless `allowed` lets this channel in.
    pub fn check(&self, allowed: &[AllowedChannel]) -> Result<(), Outcome> {
        if self.allowed_by(allowed) {
            return Ok(());
        }
        Err(Outcome::permanent(
            ErrorKind::Policy,
            format!(
                "{}: channel \"{}\" is not in the account's config.allowedChannels",
                self.field(),
                self.as_str()
            ),
        ))
    }
}

impl SlackApiParams {
    pub fn parse(params: &Map<String, Value>) -> Result<SlackApiParams, Outcome> {
        let sub = Fields::params(params).nested("subActionParams")?;
        let (message, blockkit) = match typed::params(params)? {
            Params::ValidChannelId(valid) => {
                return Ok(SlackApiParams::ValidChannelId {
                    channel_id: valid.channel_id.into_string(),
                });
            }
            Params::PostMessage(message) => (message, false),
            Params::PostBlockkit(message) => (message, true),
            Params::UpdateMessage(update) => {
                let text = update.text.into_string();
                return Ok(Self::update(
                    update.channel_id,
                    update.ts,
                    Content::Text(text),
                    update.thread_reply,
                ));
            }
            Params::UpdateBlockkit(update) => {
                let blocks = blocks_of(&update.text.into_string()).ok_or_else(|| {
                    sub.refuse("text", "must be a JSON object with a \"blocks\" field")
                })?;
                return Ok(Self::update(
                    update.channel_id,
                    update.ts,
                    Content::Blocks(blocks),
                    update.thread_reply,
                ));
            }
        };
        let thread_ts = message.thread_ts.map(NonEmpty::into_string);
        // The first channel of a list, which must not be "".
        let first = |field: &str, channels: Option<Vec<String>>| match channels
            .and_then(|channels| channels.into_iter().next())
        {
            Some(channel) if channel.is_empty() => {
                Err(sub.refuse(&format!("{field}[0]"), "must be a non-empty string"))
            }
            other => Ok(other),
        };
        let names = message
            .channel_names
            .map(|names| names.into_iter().map(|name| name.0).collect());
        let channel = if let Some(name) = first("channelNames", names)? {
            Channel::Name(name)
        } else if let Some(id) = first("channelIds", message.channel_ids)? {
            Channel::Id(id)
        } else if let Some(text) = first("channels", message.channels)? {
            Channel::Legacy(text)
        } else {
            return Err(sub.refuse("channelIds", "required: give channelIds or channelNames"));
        };
        let text = message.text.into_string();
        if !blockkit {
            return Ok(SlackApiParams::PostMessage {
                channel,
                text,
                thread_ts,
            });
        }
        let blocks = blocks_of(&text)
            .ok_or_else(|| sub.refuse("text", "must be a JSON object with a \"blocks\" field"))?;
        Ok(SlackApiParams::PostBlockkit {
            channel,
            blocks,
            thread_ts,
        })
    }

    fn update(
        channel_id: NonEmpty,
        ts: NonEmpty,
        content: Content,
        thread_reply: Option<NonEmpty>,
    ) -> SlackApiParams {
        SlackApiParams::Update {
            channel_id: channel_id.into_string(),
            ts: ts.into_string(),
            content,
            thread_reply: thread_reply.map(NonEmpty::into_string),
        }
    }
}

/// The top-level `blocks` of the JSON document `text`.
fn blocks_of(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|mut json| json.get_mut("blocks").map(Value::take))
}
