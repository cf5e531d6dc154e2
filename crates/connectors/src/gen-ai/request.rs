//! `POST <apiUrl>` with the chat completion body. OpenAI and other
//! providers authenticate with `Authorization: Bearer`, Azure with
//! `api-key`; Azure's deployment URL fixes the model, so only the others
//! get `defaultModel` in a body that names none.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use serde_json::{Map, Value, json};

use super::{ApiProvider, Config, InvokeAi, Params, Secrets};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let config: Config = typed::config(&account.config)?;
    let secrets: Secrets = typed::secrets(&account.secrets)?;
    let url = Fields::config(&account.config).url("apiUrl", &config.api_url)?;
    if secrets.api_key.expose().is_empty() {
        return Err(Fields::secrets(&account.secrets).refuse("apiKey", "must not be empty"));
    }
    let mut body = match typed::params::<Params>(params)? {
        Params::Run(run) | Params::Test(run) => match serde_json::from_str(&run.body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(sub_action_params(params)?.refuse("body", "must be a JSON object")),
            Err(_) => {
                return Err(sub_action_params(params)?.refuse("body", "must be a JSON document"));
            }
        },
        Params::InvokeAi(invoke) => invoke_body(invoke),
    };
    if config.api_provider != ApiProvider::AzureOpenAI
        && !body.contains_key("model")
        && let Some(model) = config.default_model.as_ref().filter(|m| !m.is_empty())
    {
        body.insert("model".into(), json!(model));
    }
    let mut request = HttpRequest::post_json(url.as_str(), &Value::Object(body));
    for (name, value) in config.headers.iter().flatten() {
        request = request.header(name.to_ascii_lowercase(), value);
    }
    let key = secrets.api_key.expose();
    request = match config.api_provider {
        ApiProvider::AzureOpenAI => request.header("api-key", key),
        ApiProvider::OpenAI | ApiProvider::Other => {
            request.header("authorization", format!("Bearer {key}"))
        }
    };
    if config.api_provider == ApiProvider::OpenAI {
        for (name, value) in [
            ("openai-organization", &config.organization_id),
            ("openai-project", &config.project_id),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                request = request.header(name, value);
            }
        }
    }
    Ok(request)
}

fn sub_action_params(params: &Map<String, Value>) -> Result<Fields<'_>, Outcome> {
    Fields::params(params).nested("subActionParams")
}

/// `invokeAI`'s messages as a chat completion body.
fn invoke_body(invoke: InvokeAi) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("messages".into(), json!(invoke.messages));
    if let Some(model) = invoke.model {
        body.insert("model".into(), json!(model));
    }
    if let Some(temperature) = invoke.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(stop) = invoke.stop {
        body.insert("stop".into(), json!(stop));
    }
    body
}
