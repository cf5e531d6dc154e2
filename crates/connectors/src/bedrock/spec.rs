//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{
    ChatMessage, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, WorkerBinary};

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// The Bedrock runtime URL (`https://bedrock-runtime.<region>.amazonaws.com`);
    /// requests go to `<apiUrl>/model/<model>/invoke`. The signing region
    /// is the host's `<region>`; a host that names none (a proxy) is
    /// signed for `us-east-1`, as Kibana's signer does.
    #[schemars(extend("format" = "uri"))]
    pub api_url: String,
    /// The model of a request that names none
    /// (`anthropic.claude-3-5-sonnet-20240620-v1:0`)
    pub default_model: Option<String>,
}

/// `secrets`: the AWS access key pair.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub access_key: Secret,
    #[schemars(length(min = 1))]
    pub secret: Secret,
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
    Run(Run),
    #[serde(rename = "invokeAI")]
    InvokeAi(InvokeAi),
    Test(Run),
}

/// `run` and `test`: the model's request body, a JSON document sent as is.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Run {
    pub body: String,
    /// The model to invoke (else `defaultModel`)
    pub model: Option<String>,
}

/// `invokeAI`: the messages of a chat, sent as an Anthropic Messages body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvokeAi {
    pub messages: Vec<ChatMessage>,
    /// The model to invoke (else `defaultModel`)
    pub model: Option<String>,
    pub temperature: Option<serde_json::Number>,
    pub stop_sequences: Option<Vec<String>>,
    /// The system prompt
    pub system: Option<String>,
    /// The most tokens to generate (1024 when not given)
    pub max_tokens: Option<MaxTokens>,
}

/// `maxTokens`: 1 or more (Bedrock refuses what a model cannot give).
pub type MaxTokens = crate::schema_parts::Bounded<1, { u32::MAX as u64 }>;

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "bedrock",
        name: "Amazon Bedrock",
        worker: WorkerBinary::Ai,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("run", schema_of::<Run>()),
            ("invokeAI", schema_of::<InvokeAi>()),
            ("test", schema_of::<Run>()),
        ]),
        account_rules: no_account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: ParamEscape::Fields(&[("subActionParams.body", Escape::Json)]),
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras::default(),
    }
}
