use std::time::Duration;

use crate::delivery::testing::{
    account, assert_secrets_hidden, delivered, delivery, object, outbound, permanent, retry,
};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::response::parse_reset;
use super::{GenAi, build};

const KEY: &str = "sk-SECRET-KEY-123";

fn gen_ai_account(config: Value) -> Account {
    account("gen-ai", config, json!({"apiKey": KEY}))
}

async fn deliver(account: Account, params: Value) -> Outcome {
    GenAi.deliver(&delivery(account, params), &outbound()).await
}

fn completion() -> Value {
    json!({
        "id": "chatcmpl-1",
        "model": "gpt-4.1-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Disk is full on db-1."}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
    })
}

fn handles() -> Vec<(String, String)> {
    [
        ("completion_tokens", "7"),
        ("message", "Disk is full on db-1."),
        ("model", "gpt-4.1-2025-04-14"),
        ("prompt_tokens", "12"),
        ("total_tokens", "19"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

fn run(body: &str) -> Value {
    json!({"subAction": "run", "subActionParams": {"body": body}})
}

#[tokio::test]
async fn openai_posts_with_bearer_org_project_and_default_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("openai-organization", "org-1"))
        .and(header("openai-project", "proj-1"))
        .and(header("x-team", "sre"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "model": "gpt-4.1",
            "messages": [{"role": "user", "content": "why?"}]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion()))
        .expect(2)
        .mount(&server)
        .await;
    let account = gen_ai_account(json!({
        "apiProvider": "OpenAI",
        "apiUrl": format!("{}/v1/chat/completions", server.uri()),
        "defaultModel": "gpt-4.1",
        "organizationId": "org-1",
        "projectId": "proj-1",
        "headers": {"X-Team": "sre"}
    }));
    let body = r#"{"messages":[{"role":"user","content":"why?"}]}"#;
    for sub_action in ["run", "test"] {
        let params = json!({"subAction": sub_action, "subActionParams": {"body": body}});
        assert_eq!(delivered(deliver(account.clone(), params).await), handles());
    }
}

#[tokio::test]
async fn azure_sends_api_key_to_the_deployment_without_a_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/deployments/gpt4/chat/completions"))
        .and(query_param("api-version", "2024-02-01"))
        .and(header("api-key", KEY))
        .and(body_json(
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion()))
        .expect(1)
        .mount(&server)
        .await;
    let account = gen_ai_account(json!({
        "apiProvider": "Azure OpenAI",
        "apiUrl": format!("{}/openai/deployments/gpt4/chat/completions?api-version=2024-02-01", server.uri()),
        "defaultModel": "ignored"
    }));
    let outcome = deliver(
        account.clone(),
        run(r#"{"messages":[{"role":"user","content":"hi"}]}"#),
    )
    .await;
    assert_eq!(delivered(outcome), handles());
    let request = build(&object(run(r#"{"messages":[]}"#)), &account).unwrap();
    assert!(
        !request
            .headers
            .iter()
            .any(|(name, _)| name == "authorization"),
        "Azure takes no bearer token"
    );
}

#[tokio::test]
async fn other_provider_invoke_ai_keeps_the_body_model_and_sends_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_json(json!({
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "summarize"}
            ],
            "model": "llama3",
            "temperature": 0.2,
            "stop": ["\n\n"]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion()))
        .expect(1)
        .mount(&server)
        .await;
    let account = gen_ai_account(json!({
        "apiProvider": "Other",
        "apiUrl": format!("{}/api/chat", server.uri()),
        "defaultModel": "mistral",
        "organizationId": "org-not-sent"
    }));
    let params = json!({"subAction": "invokeAI", "subActionParams": {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "summarize"}
        ],
        "model": "llama3",
        "temperature": 0.2,
        "stop": ["\n\n"]
    }});
    assert_eq!(delivered(deliver(account.clone(), params).await), handles());
    let request = build(&object(run(r#"{"model":"own"}"#)), &account).unwrap();
    assert_eq!(
        crate::delivery::testing::body_json(&request),
        json!({"model": "own"}),
        "a body's own model is kept"
    );
    assert!(
        !request
            .headers
            .iter()
            .any(|(n, _)| n == "openai-organization")
    );
}

async fn answer(server: &MockServer, template: ResponseTemplate) -> Outcome {
    server.reset().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(server)
        .await;
    let account = gen_ai_account(json!({
        "apiProvider": "OpenAI",
        "apiUrl": format!("{}/v1/chat/completions", server.uri()),
        "defaultModel": "gpt-4.1"
    }));
    deliver(account, run("{}")).await
}

#[tokio::test]
async fn errors_classify() {
    let server = MockServer::start().await;
    let throttled = |headers: &[(&str, &str)]| {
        let mut template = ResponseTemplate::new(429).set_body_json(
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        );
        for (name, value) in headers {
            template = template.insert_header(*name, *value);
        }
        template
    };
    let (kind, after, _) = retry(answer(&server, throttled(&[("retry-after", "2")])).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    let (_, after, _) = retry(
        answer(
            &server,
            throttled(&[
                ("x-ratelimit-reset-requests", "20ms"),
                ("x-ratelimit-reset-tokens", "6m0s"),
            ]),
        )
        .await,
    );
    assert_eq!(after, Some(Duration::from_secs(360)));
    let (_, after, _) =
        retry(answer(&server, throttled(&[("x-ratelimit-reset-requests", "1s")])).await);
    assert_eq!(after, Some(Duration::from_secs(1)));

    let (kind, reason) = permanent(
        answer(
            &server,
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::Auth);
    assert!(reason.starts_with("OpenAI answered 401"), "{reason}");

    let (kind, reason) = permanent(
        answer(
            &server,
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "This model's maximum context length is 8192 tokens.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded"
            }})),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(
        reason.contains("longer than the model's context"),
        "{reason}"
    );

    for status in [400, 404, 422] {
        let (kind, reason) = permanent(
            answer(
                &server,
                ResponseTemplate::new(status)
                    .set_body_json(json!({"error": {"message": "bad request", "code": null}})),
            )
            .await,
        );
        assert_eq!(kind, ErrorKind::VendorRejected, "{status}");
        assert!(
            reason.starts_with(&format!("OpenAI answered {status}")),
            "{reason}"
        );
    }
    for status in [500, 502, 503] {
        let (kind, _, _) = retry(answer(&server, ResponseTemplate::new(status)).await);
        assert_eq!(kind, ErrorKind::VendorTemporary, "{status}");
    }
}

#[tokio::test]
async fn the_api_key_never_shows() {
    let server = MockServer::start().await;
    let account = gen_ai_account(json!({
        "apiProvider": "OpenAI",
        "apiUrl": format!("{}/v1/chat/completions", server.uri()),
    }));
    assert_secrets_hidden(&server, &[KEY], || deliver(account.clone(), run("{}"))).await;
}

#[test]
fn reset_durations_parse() {
    assert_eq!(parse_reset("1s"), Some(Duration::from_secs(1)));
    assert_eq!(parse_reset("6m0s"), Some(Duration::from_secs(360)));
    assert_eq!(parse_reset("20ms"), Some(Duration::from_millis(20)));
    assert_eq!(
        parse_reset("1h2m3.5s"),
        Some(Duration::from_millis(3_723_500))
    );
    assert_eq!(parse_reset("soon"), None);
    assert_eq!(parse_reset(""), None);
}

#[test]
fn bad_params_name_the_field() {
    let account = gen_ai_account(
        json!({"apiProvider": "OpenAI", "apiUrl": "https://api.openai.com/v1/chat/completions"}),
    );
    for (params, reason) in [
        (run("[1]"), "subActionParams.body: must be a JSON object"),
        (run("{x"), "subActionParams.body: must be a JSON document"),
    ] {
        assert_eq!(
            permanent(build(&object(params), &account).unwrap_err()),
            (ErrorKind::InvalidParams, reason.to_owned())
        );
    }
}
