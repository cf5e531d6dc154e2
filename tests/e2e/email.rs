//! An alert becomes an e-mail: through ingest, JetStream and the email
//! connector to a real SMTP server (aiosmtpd) on loopback.

use std::time::Duration;

use herald_test_support::{SmtpOptions, SmtpServer};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_alert_arrives_as_a_multipart_mail_with_its_values_escaped() {
    let env = Env::start(|_| {}).await;
    let smtp = SmtpServer::start(SmtpOptions::default());
    env.stack
        .put_account(
            "ops-mail",
            "email",
            json!({"service": "other", "host": "127.0.0.1", "port": smtp.port(), "hasAuth": false,
                   "from": "Herald <alerts@example.com>", "defaultTo": ["oncall@example.com"]}),
            json!({}),
        )
        .await
        .unwrap();
    let event = json!({
        "context": {"host": "db_1 <script>", "used": 97},
        "actions": [{"account_id": "ops-mail", "params": {
            "subject": "Disk full on {{context.host}}",
            "message": "Disk **full** on {{context.host}}: {{context.used}}%",
            "bcc": ["audit@example.com"],
        }}]
    });
    let (status, body) = env.submit(event).await;
    assert_eq!(status, 202, "{body}");
    let id = &action_ids(&body)[0];
    env.wait_for_state(id, "delivered").await;
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, ["oncall@example.com", "audit@example.com"]);
    assert_eq!(mail.header("To").unwrap(), "oncall@example.com");
    assert_eq!(
        mail.header("Subject").unwrap(),
        "Disk full on db_1 <script>"
    );
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{id}@example.com>")
    );
    assert!(!mail.headers().contains("audit@"), "{}", mail.headers());
    assert!(
        mail.data.contains("Disk **full** on db_1 <script>: 97%"),
        "{}",
        mail.data
    );
    assert!(
        mail.data
            .contains("Disk <strong>full</strong> on db_1 &lt;script&gt;: 97%"),
        "{}",
        mail.data
    );
}

#[tokio::test]
async fn a_refused_password_fails_for_good_without_showing_it() {
    let env = Env::start(|_| {}).await;
    let password = "Never-Show-Me-314";
    let smtp = SmtpServer::start(SmtpOptions {
        users: Some(vec![("alice".into(), "another".into())]),
        auth_require_tls: false,
        ..Default::default()
    });
    env.stack
        .put_account(
            "ops-mail",
            "email",
            json!({"service": "other", "host": "127.0.0.1", "port": smtp.port(), "ignoreTls": true,
                   "from": "alerts@example.com", "debug": true}),
            json!({"user": "alice", "password": password}),
        )
        .await
        .unwrap();
    let event = json!({"actions": [{"account_id": "ops-mail",
        "params": {"to": ["a@example.com"], "subject": "s", "message": "m"}}]});
    let (_, body) = env.submit(event).await;
    let failed = env.wait_for_state(&action_ids(&body)[0], "failed").await;
    assert_eq!(failed["attempts"], 1);
    let error = failed["last_error"].as_str().unwrap();
    assert!(error.contains("AUTH: the server answered 535"), "{error}");

    let nats = async_nats::connect(env.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let dead = js.get_stream("HERALD_DEAD").await.unwrap();
    let dead_letter = dead
        .get_last_raw_message_by_subject("herald.dead.email")
        .await
        .unwrap();
    let results = js.get_stream("HERALD_RESULTS").await.unwrap();
    let result = results
        .get_last_raw_message_by_subject("herald.result.email")
        .await
        .unwrap();
    for payload in [
        &dead_letter.payload,
        &result.payload,
        &serde_json::to_vec(&failed).unwrap().into(),
    ] {
        let text = String::from_utf8_lossy(payload);
        assert!(!text.contains(password), "{text}");
        assert!(text.contains("535"), "{text}");
    }
    assert!(smtp.messages().is_empty());
}
