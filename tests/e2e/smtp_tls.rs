//! SMTP credentials go only over TLS: the e-mail worker (the real binary)
//! against a real SMTP server (aiosmtpd) that offers no STARTTLS but would
//! take AUTH PLAIN in clear.

use std::process::{Child, Command, Stdio};

use herald_test_support::{SmtpOptions, SmtpServer};
use serde_json::json;

use crate::helpers::*;

/// The e-mail worker process, killed on drop.
struct EmailWorker(Child);

impl Drop for EmailWorker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_email_worker(env: &Env, config: &std::path::Path) -> EmailWorker {
    EmailWorker(
        Command::new(binary("herald-email-worker"))
            .env("HERALD_NATS_URL", env.nats.url())
            .env("HERALD_REGISTRY_URL", env.stack.registry_url())
            .env("HERALD_SERVICE_TOKEN", &env.stack.service_token)
            .env("HERALD_CONFIG", config)
            .env("HERALD_LOG", "warn")
            .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    )
}

#[tokio::test]
async fn a_password_is_never_sent_to_a_server_without_starttls() {
    let env = Env::start(|o| {
        o.run_worker = false;
        o.config.policy.allowed_hosts = vec!["*".into(), "127.0.0.1".into()];
    })
    .await;
    let password = "Plain-Text-Never-271";
    let smtp = SmtpServer::start(SmtpOptions {
        users: Some(vec![("alice".into(), password.into())]),
        auth_require_tls: false,
        ..Default::default()
    });
    // No secure, no requireTls, no ignoreTls: opportunistic STARTTLS.
    env.stack
        .put_account(
            "ops-mail",
            "email",
            json!({"service": "other", "host": "127.0.0.1", "port": smtp.port(),
                   "from": "alerts@example.com"}),
            json!({"user": "alice", "password": password}),
        )
        .await
        .unwrap();
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "policy:\n  allowed_hosts: [\"*\", \"127.0.0.1\"]\n",
    )
    .unwrap();
    let _worker = spawn_email_worker(&env, config.path());

    let event = json!({"actions": [{"account_id": "ops-mail",
        "params": {"to": ["oncall@example.com"], "subject": "Disk full", "message": "97%"}}]});
    let (status, body) = env.submit(event).await;
    assert_eq!(status, 202, "{body}");
    let failed = env.wait_for_state(&action_ids(&body)[0], "failed").await;
    assert_eq!(failed["attempts"], 1, "failed for good at once: {failed}");
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("does not offer STARTTLS") && error.contains("never sent without TLS"),
        "{error}"
    );
    assert!(!error.contains(password), "{error}");
    assert!(
        smtp.auth_attempts().is_empty(),
        "{:?}",
        smtp.auth_attempts()
    );
    assert!(smtp.messages().is_empty());
}
