//! The type's schemas and rules: what the registry and ingest check.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::schema_parts::{
    ChatMessage, no_account_rules, no_params_rules, no_policy_rules, sub_actions,
};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Escape, Extras, ParamEscape, Readers, Secret, WorkerBinary};

/// Which API `apiUrl` is: the authentication header follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ApiProvider {
    OpenAI,
    #[serde(rename = "Azure OpenAI")]
    AzureOpenAI,
    Other,
}

/// `config`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub api_provider: ApiProvider,
    /// The chat completions URL (for Azure, the deployment's, with `api-version`)
    #[schemars(extend("format" = "uri"))]
    pub api_url: String,
    /// The model of a body that names none (not used by Azure, whose
    /// deployment fixes the model)
    pub default_model: Option<String>,
    /// Extra headers sent with every call
    pub headers: Option<BTreeMap<String, String>>,
    pub organization_id: Option<String>,
    pub project_id: Option<String>,
}

/// `secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    #[schemars(length(min = 1))]
    pub api_key: Secret,
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

/// `run` and `test`: a chat completion request body, a JSON document sent
/// as is (its `model` defaulted from `defaultModel`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Run {
    pub body: String,
}

/// `invokeAI`: the messages of a chat.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvokeAi {
    pub messages: Vec<ChatMessage>,
    pub model: Option<String>,
    pub temperature: Option<serde_json::Number>,
    pub stop: Option<Vec<String>>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "gen-ai",
        name: "OpenAI",
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
