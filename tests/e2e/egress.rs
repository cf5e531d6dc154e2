//! The egress policy through the real incident worker binary: with
//! `allowed_hosts: ["*", "localhost"]`, a webhook to a loopback IP is
//! refused on save, a redirect from an allowed host to 127.0.0.1 is not
//! followed, and a redirect to another origin carries neither the
//! account's secret header nor the alert's body.

use herald_catalog::Policy;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

const SECRET: &str = "X-HERALD-SECRET-VALUE";
const BODY: &str = "ALERT-BODY-db-1";

/// `*` (public hosts) and `localhost` by name: 127.0.0.1 itself is not
/// listed, and every receiver here is on loopback.
async fn start() -> Env {
    Env::start(|o| {
        o.run_worker = false;
        o.config.policy = Policy {
            allowed_hosts: vec!["*".into(), "localhost".into()],
            ..Policy::default()
        };
    })
    .await
}

fn hook_config(url: String) -> Value {
    json!({"url": url, "method": "post", "hasAuth": false})
}

fn hook_secrets() -> Value {
    json!({"secretHeaders": {"x-herald-secret": SECRET}})
}

/// Submits one webhook action and waits until it is `state`.
async fn deliver(env: &Env, account: &str, state: &str) -> Value {
    let (status, body) = env
        .submit(json!({"actions": [{"account_id": account, "params": {"body": BODY}}]}))
        .await;
    assert_eq!(status, 202, "{body}");
    env.wait_for_state(&action_ids(&body)[0], state).await
}

#[tokio::test]
async fn a_webhook_to_a_loopback_receiver_is_refused_on_save() {
    let env = start().await;
    let receiver = MockServer::start().await;
    let port = receiver.address().port();
    for host in [
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "0x7f.1",
        "0.0.0.0",
        "user@127.0.0.1",
        "169.254.169.254",
    ] {
        let error = env
            .stack
            .put_account(
                "inside",
                "webhook",
                hook_config(format!("http://{host}:{port}/hook")),
                json!({}),
            )
            .await
            .unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("config.url") && message.contains("internal address"),
            "{host}: {message}"
        );
    }
    assert!(receiver.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn redirects_neither_reach_inside_nor_carry_the_accounts_secrets() {
    let env = start().await;
    let _worker = spawn_binary(&env, "herald-incident-worker", &[]);
    let (first, second) = (MockServer::start().await, MockServer::start().await);
    let second_port = second.address().port();
    Mock::given(path("/to-inside"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("http://127.0.0.1:{second_port}/steal").as_str(),
        ))
        .mount(&first)
        .await;
    Mock::given(path("/moved-307"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!("http://localhost:{second_port}/next").as_str(),
        ))
        .mount(&first)
        .await;
    Mock::given(path("/see-other"))
        .respond_with(ResponseTemplate::new(303).insert_header(
            "location",
            format!("http://localhost:{second_port}/landed").as_str(),
        ))
        .mount(&first)
        .await;
    Mock::given(path("/landed"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&second)
        .await;
    let first_url = |p: &str| format!("http://localhost:{}{p}", first.address().port());
    for (id, at) in [
        ("to-inside", "/to-inside"),
        ("moved", "/moved-307"),
        ("see-other", "/see-other"),
    ] {
        env.stack
            .put_account(id, "webhook", hook_config(first_url(at)), hook_secrets())
            .await
            .unwrap();
    }

    // An allowed name redirecting to 127.0.0.1: not followed.
    let status = deliver(&env, "to-inside", "failed").await;
    assert!(
        status["last_error"].to_string().contains("127.0.0.1"),
        "{status}"
    );
    // A 307 to another origin would re-send the body: not followed.
    let status = deliver(&env, "moved", "failed").await;
    assert!(
        status["last_error"].to_string().contains("another origin"),
        "{status}"
    );
    let seen = second.received_requests().await.unwrap();
    assert!(seen.is_empty(), "the second receiver got {seen:?}");

    // A 303 to another origin is followed as a GET, without the secret
    // header and without the body.
    deliver(&env, "see-other", "delivered").await;
    let seen = second.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    let landed = &seen[0];
    assert!(landed.headers.get("x-herald-secret").is_none());
    assert!(landed.body.is_empty());
    let text = format!("{:?}{}", landed.headers, landed.url);
    assert!(!text.contains(SECRET) && !text.contains(BODY), "{text}");
    // The first receiver did get the account's header: it was sent, and
    // only dropped on the way out.
    let sent = first.received_requests().await.unwrap();
    assert!(
        sent.iter().all(|r| r
            .headers
            .get("x-herald-secret")
            .is_some_and(|v| v == SECRET)),
        "{sent:?}"
    );
}
