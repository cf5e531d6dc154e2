//! Model calls in `heraldctl up`'s stack: the AI worker, not the main one,
//! delivers them, with its own (longer) response timeout, and the
//! completion is readable from the action's status.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn a_slow_model_call_is_delivered_by_the_ai_worker_and_its_completion_is_in_the_status() {
    let served: Vec<&str> = herald_stack::connectors()
        .iter()
        .map(|c| c.connector_type())
        .collect();
    assert!(
        !served.contains(&"gen-ai") && !served.contains(&"bedrock"),
        "{served:?}"
    );
    assert!(served.contains(&"slack"), "{served:?}");

    // The main worker gives up after 300 ms; the answer takes a second.
    let env = Env::start(|options| {
        options.worker = Box::new(|w| w.outbound.response_timeout = Duration::from_millis(300));
    })
    .await;
    let openai = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-e2e-model-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(1))
                .set_body_json(json!({
                    "id": "chatcmpl-1",
                    "model": "gpt-4.1-2025-04-14",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Disk is full on db-1."}}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
                })),
        )
        .expect(1)
        .mount(&openai)
        .await;
    env.stack
        .put_account(
            "ops-gpt",
            "gen-ai",
            json!({
                "apiProvider": "OpenAI",
                "apiUrl": format!("{}/v1/chat/completions", openai.uri()),
                "defaultModel": "gpt-4.1"
            }),
            json!({"apiKey": "sk-e2e-model-key"}),
        )
        .await
        .unwrap();

    let (status, body) = env
        .submit(json!({
            "context": {"host": "db-1"},
            "actions": [{"account_id": "ops-gpt", "params": {
                "subAction": "invokeAI",
                "subActionParams": {"messages": [{"role": "user", "content": "Why is {{context.host}} down?"}]}
            }}]
        }))
        .await;
    assert_eq!(status, 202, "{body}");
    let ids = action_ids(&body);
    let delivered = env.wait_for_state(&ids[0], "delivered").await;
    assert_eq!(delivered["attempts"], 1, "{delivered}");
    assert_eq!(
        delivered["handles"]["message"], "Disk is full on db-1.",
        "{delivered}"
    );
    assert_eq!(delivered["handles"]["model"], "gpt-4.1-2025-04-14");
    assert_eq!(delivered["handles"]["total_tokens"], "19");
    assert!(!delivered.to_string().contains("sk-e2e-model-key"));
    openai.verify().await;
}
