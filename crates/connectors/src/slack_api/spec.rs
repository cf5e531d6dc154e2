//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{no_account_rules, no_policy_rules, sub_action, sub_actions};
use herald_catalog::schema::join;
use herald_catalog::typed::{NonEmpty, schema_of};
use herald_catalog::{
    ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, Violations, WorkerBinary,
};

pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[schemars(extend("format" = "uri", "default" = DEFAULT_API_URL))]
    pub api_url: Option<String>,
    /// When set, messages may only go to these channels
    #[schemars(length(max = 500))]
    pub allowed_channels: Option<Vec<AllowedChannel>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedChannel {
    pub id: Option<NonEmpty>,
    pub name: NonEmpty,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// Bot user OAuth token, xoxb-...
    #[schemars(length(min = 1))]
    pub token: Secret,
}

/// `params`: Kibana's `subAction` envelope.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum Params {
    ValidChannelId(ValidChannelId),
    PostMessage(Message),
    PostBlockkit(Message),
    UpdateMessage(Update),
    UpdateBlockkit(Update),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidChannelId {
    pub channel_id: NonEmpty,
}

/// `postMessage` and `postBlockkit`: only the first channel is used;
/// `channels` is Kibana's deprecated name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Message {
    #[schemars(length(max = 1))]
    pub channels: Option<Vec<String>>,
    #[schemars(length(max = 1))]
    pub channel_ids: Option<Vec<String>>,
    #[schemars(length(max = 1))]
    pub channel_names: Option<Vec<ChannelName>>,
    /// Slack mrkdwn; for postBlockkit, JSON with a top-level "blocks" array
    pub text: NonEmpty,
    /// Herald extension: post as a reply in the thread of this message (its ts)
    pub thread_ts: Option<NonEmpty>,
}

/// `updateMessage` and `updateBlockkit`, Herald extensions: `chat.update`
/// of a message the account posted (by its `ts` in its channel), then,
/// with `threadReply`, a reply in its thread. Not checked against
/// `allowedChannels`: Slack lets a bot edit only its own messages, which
/// were checked when posted, and answers `channel` as an id the list may
/// not name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Update {
    /// The channel id of the message, as chat.postMessage answered it
    pub channel_id: NonEmpty,
    /// The message's ts
    pub ts: NonEmpty,
    /// The new text: Slack mrkdwn; for updateBlockkit, JSON with a top-level "blocks" array
    pub text: NonEmpty,
    /// Slack mrkdwn posted as a reply in the message's thread after the update
    pub thread_reply: Option<NonEmpty>,
}

/// A channel by name: `#`-prefixed.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ChannelName(pub String);

impl JsonSchema for ChannelName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ChannelName".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^#", "examples": ["#ops"]})
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "slack_api",
        name: "Slack API",
        worker: WorkerBinary::Chat,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("validChannelId", schema_of::<ValidChannelId>()),
            ("postMessage", schema_of::<Message>()),
            ("postBlockkit", schema_of::<Message>()),
            ("updateMessage", schema_of::<Update>()),
            ("updateBlockkit", schema_of::<Update>()),
        ]),
        account_rules: no_account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::ByParams(param_escape),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            follow_up: Some(super::alert::follow_up),
            ..Extras::default()
        },
    }
}

/// `text` is Slack mrkdwn for `postMessage` but a JSON document of blocks for
/// `postBlockkit`.
fn param_escape(params: &Map<String, Value>, path: &str) -> Escape {
    if path == "subActionParams.threadReply" {
        return Escape::Slack;
    }
    if path != "subActionParams.text" {
        return Escape::None;
    }
    match params.get("subAction").and_then(Value::as_str) {
        Some("postMessage" | "updateMessage") => Escape::Slack,
        Some("postBlockkit" | "updateBlockkit") => Escape::Json,
        _ => Escape::None,
    }
}

fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some((name, sub_params)) = sub_action(params) else {
        return;
    };
    if name == "updateBlockkit" {
        check_blocks(sub_params, prefix, out);
    }
    if !matches!(name, "postMessage" | "postBlockkit") {
        return;
    }
    let has_channel = ["channels", "channelIds", "channelNames"]
        .iter()
        .any(|field| {
            sub_params
                .get(*field)
                .and_then(Value::as_array)
                .is_some_and(|channels| !channels.is_empty())
        });
    if !has_channel {
        out.push(
            join(prefix, "subActionParams.channelIds"),
            "required: give channelIds or channelNames",
        );
    }
    if name == "postBlockkit" {
        check_blocks(sub_params, prefix, out);
    }
}

fn check_blocks(sub_params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    if let Some(text) = sub_params.get("text").and_then(Value::as_str) {
        let blocks = serde_json::from_str::<Value>(text)
            .ok()
            .is_some_and(|body| body.get("blocks").is_some());
        if !blocks {
            out.push(
                join(prefix, "subActionParams.text"),
                "must be a JSON object with a \"blocks\" field",
            );
        }
    }
}
