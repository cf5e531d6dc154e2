//! `POST <apiUrl>/model/<model>/invoke` with the model's body (`run`'s
//! byte for byte, `invokeAI`'s an Anthropic Messages body), signed with
//! AWS Signature V4 (service `bedrock`) by `aws-sigv4`. The model id is
//! one path segment, percent-encoded as AWS does (`:` is `%3A`); the
//! signer double-encodes it in the canonical URI, as Bedrock expects.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use herald_proto::v1::ErrorKind;
use serde_json::{Map, Value, json};
use url::Url;

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use crate::rest::is_dot_segment;

use super::{Config, InvokeAi, Params, Secrets};

/// Bedrock's signing name.
const SERVICE: &str = "bedrock";
/// The region of a host that names none (a proxy, a mock).
const DEFAULT_REGION: &str = "us-east-1";
/// What Bedrock's Anthropic models take as `anthropic_version`.
const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";
const DEFAULT_MAX_TOKENS: u64 = 1024;

/// The request for `params`, signed as of `now`.
pub fn build(
    params: &Map<String, Value>,
    account: &Account,
    now: SystemTime,
) -> Result<HttpRequest, Outcome> {
    let config: Config = typed::config(&account.config)?;
    let secrets: Secrets = typed::secrets(&account.secrets)?;
    let base = Fields::config(&account.config).url("apiUrl", &config.api_url)?;
    for (name, secret) in [
        ("accessKey", &secrets.access_key),
        ("secret", &secrets.secret),
    ] {
        if secret.expose().is_empty() {
            return Err(Fields::secrets(&account.secrets).refuse(name, "must not be empty"));
        }
    }
    let (model, body) = match typed::params::<Params>(params)? {
        Params::Run(run) | Params::Test(run) => {
            match serde_json::from_str::<Value>(&run.body) {
                Ok(Value::Object(_)) => {}
                Ok(_) => {
                    return Err(sub_action_params(params)?.refuse("body", "must be a JSON object"));
                }
                Err(_) => {
                    return Err(
                        sub_action_params(params)?.refuse("body", "must be a JSON document")
                    );
                }
            }
            (run.model, run.body.into_bytes())
        }
        Params::InvokeAi(invoke) => {
            let model = invoke.model.clone();
            let body = Value::Object(messages_body(invoke));
            (
                model,
                serde_json::to_vec(&body).expect("JSON values serialize"),
            )
        }
    };
    let model = model
        .filter(|m| !m.is_empty())
        .or(config.default_model.filter(|m| !m.is_empty()));
    let Some(model) = model else {
        return Err(sub_action_params(params)?
            .refuse("model", "is required when config.defaultModel is not set"));
    };
    if is_dot_segment(&model) {
        return Err(sub_action_params(params)?.refuse("model", "must not be . or .."));
    }
    let url = invoke_url(&base, &model);
    let mut request = HttpRequest {
        method: http::Method::POST,
        url: url.as_str().to_owned(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: None,
    };
    let signed = signature_headers(&request, &body, &region_of(&base), &secrets, now)?;
    request.headers.extend(signed);
    request.body = Some(body);
    Ok(request)
}

fn sub_action_params(params: &Map<String, Value>) -> Result<Fields<'_>, Outcome> {
    Fields::params(params).nested("subActionParams")
}

/// `invokeAI` as an Anthropic Messages body.
fn messages_body(invoke: InvokeAi) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
    body.insert(
        "max_tokens".into(),
        json!(invoke.max_tokens.map_or(DEFAULT_MAX_TOKENS, |m| m.get())),
    );
    body.insert("messages".into(), json!(invoke.messages));
    if let Some(temperature) = invoke.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(stop) = invoke.stop_sequences {
        body.insert("stop_sequences".into(), json!(stop));
    }
    if let Some(system) = invoke.system.filter(|s| !s.is_empty()) {
        body.insert("system".into(), json!(system));
    }
    body
}

/// `<apiUrl>/model/<model>/invoke`, the model one encoded segment.
fn invoke_url(base: &Url, model: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = format!(
        "{}/model/{}/invoke",
        base.path().trim_end_matches('/'),
        uri_encode(model)
    );
    url.set_path(&path);
    url
}

/// AWS's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The region of an AWS host (`bedrock-runtime.<region>.amazonaws.com`,
/// `-fips`, VPC endpoints, `.amazonaws.com.cn`): the label after the
/// `bedrock…` one. Any other host is signed for `us-east-1`.
pub(super) fn region_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
    let labels: Vec<&str> = host.split('.').collect();
    labels
        .iter()
        .position(|label| label.starts_with("bedrock"))
        .and_then(|at| labels.get(at + 1))
        .filter(|region| aws && !matches!(**region, "amazonaws" | "vpce"))
        .map_or_else(|| DEFAULT_REGION.to_owned(), |region| (*region).to_owned())
}

/// The `x-amz-date` and `authorization` headers for `request` and `body`.
fn signature_headers(
    request: &HttpRequest,
    body: &[u8],
    region: &str,
    secrets: &Secrets,
    now: SystemTime,
) -> Result<Vec<(String, String)>, Outcome> {
    let identity = Credentials::new(
        secrets.access_key.expose(),
        secrets.secret.expose(),
        None,
        None,
        "herald-account",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| unsignable())?
        .into();
    let signable = SignableRequest::new(
        request.method.as_str(),
        request.url.as_str(),
        request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|_| unsignable())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|_| unsignable())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

fn unsignable() -> Outcome {
    Outcome::permanent(
        ErrorKind::InvalidConfig,
        "config.apiUrl: the request to it cannot be signed",
    )
}
