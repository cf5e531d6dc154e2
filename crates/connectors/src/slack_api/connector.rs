//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Map, Value};

use crate::delivery::fields::{Fields, Secret};

pub use super::request::build;
pub use super::response::classify;

pub const DEFAULT_API_URL: &str = "https://slack.com/api";

pub struct SlackApi;

impl HttpConnector for SlackApi {
    fn connector_type(&self) -> &'static str {
        "slack_api"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
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

#[derive(Debug, Clone, PartialEq)]
pub struct AllowedChannel {
    pub id: Option<String>,
    pub name: String,
}

impl SlackApiConfig {
    pub fn parse(account: &Account) -> Result<SlackApiConfig, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["apiUrl", "allowedChannels"])?;
        let api_url = config
            .str("apiUrl")?
            .filter(|url| !url.is_empty())
            .unwrap_or(DEFAULT_API_URL);
        config.url("apiUrl", api_url)?;
        let mut allowed_channels = Vec::new();
        for (index, channel) in config
            .array("allowedChannels")?
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = format!("allowedChannels[{index}]");
            let Some(channel) = channel.as_object() else {
                return Err(config.refuse(&field, "must be an object"));
            };
            let text = |name: &str| match channel.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if !text.is_empty() => Ok(Some(text.clone())),
                Some(_) => {
                    Err(config.refuse(&format!("{field}.{name}"), "must be a non-empty string"))
                }
            };
            let name =
                text("name")?.ok_or_else(|| config.refuse(&format!("{field}.name"), "required"))?;
            allowed_channels.push(AllowedChannel {
                id: text("id")?,
                name,
            });
        }
        Ok(SlackApiConfig {
            api_url: api_url.trim_end_matches('/').to_owned(),
            allowed_channels,
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
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["token"])?;
        Ok(SlackApiSecrets {
            token: Secret::new(secrets.required_str("token")?),
        })
    }
}

/// `params`: one sub-action.
#[derive(Debug, Clone, PartialEq)]
pub enum SlackApiParams {
    ValidChannelId {
        channel_id: String,
    },
    PostMessage {
        channel: Channel,
        text: String,
    },
    /// `blocks` is the top-level `blocks` of the JSON in `text`.
    PostBlockkit {
        channel: Channel,
        blocks: Value,
    },
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
        let by_name = |name: &str| allowed.iter().any(|c| bare(&c.name) == bare(name));
        let by_id = |id: &str| allowed.iter().any(|c| c.id.as_deref() == Some(id));
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
        let fields = Fields::params(params);
        fields.only(&["subAction", "subActionParams"])?;
        let sub_action = fields.required_str("subAction")?;
        let sub = fields.nested("subActionParams")?;
        match sub_action {
            "validChannelId" => {
                sub.only(&["channelId"])?;
                let channel_id = sub.required_str("channelId")?.to_owned();
                Ok(SlackApiParams::ValidChannelId { channel_id })
            }
            "postMessage" | "postBlockkit" => {
                sub.only(&["channels", "channelIds", "channelNames", "text"])?;
                let channel = if let Some(name) = sub.first_str("channelNames")? {
                    Channel::Name(name.to_owned())
                } else if let Some(id) = sub.first_str("channelIds")? {
                    Channel::Id(id.to_owned())
                } else if let Some(text) = sub.first_str("channels")? {
                    Channel::Legacy(text.to_owned())
                } else {
                    return Err(
                        sub.refuse("channelIds", "required: give channelIds or channelNames")
                    );
                };
                let text = sub.required_str("text")?;
                if sub_action == "postMessage" {
                    return Ok(SlackApiParams::PostMessage {
                        channel,
                        text: text.to_owned(),
                    });
                }
                let blocks = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|mut json| json.get_mut("blocks").map(Value::take))
                    .ok_or_else(|| {
                        sub.refuse("text", "must be a JSON object with a \"blocks\" field")
                    })?;
                Ok(SlackApiParams::PostBlockkit { channel, blocks })
            }
            _ => Err(fields.refuse(
                "subAction",
                "must be one of: validChannelId, postMessage, postBlockkit",
            )),
        }
    }
}
