//! The Signals importer on the seeds' documents: what each becomes, and what
//! a dry run reports the registry would refuse.

use serde_json::{Value, json};

use super::super::*;

fn import(path: &str, doc: Value) -> (Result<AccountDoc, String>, Item) {
    let mut item = Item::new(path.into());
    let account = signals_account(path, doc, &[], &mut item);
    (account, item)
}

#[test]
fn an_email_account_without_credentials_sends_without_auth() {
    let (account, item) = import(
        "relay.json",
        json!({"type": "email", "host": "smtp.example.com", "port": 25,
               "default_from": "signals@example.com"}),
    );
    let account = account.unwrap();
    assert_eq!(account.config["hasAuth"], json!(false));
    assert!(account.secrets.is_empty());
    assert!(
        item.translated
            .contains(&"no user or password -> config.hasAuth = false".to_owned())
    );
    assert_eq!(check_account(&account), Ok(()));

    let (account, _) = import(
        "mail.json",
        json!({"type": "email", "host": "smtp.example.com", "port": 465,
               "user": "signals", "password": "secret", "default_from": "s@example.com"}),
    );
    assert!(!account.unwrap().config.contains_key("hasAuth"));
}

#[test]
fn a_get_shaped_document_is_typed_by_its_id() {
    let (account, item) = import(
        "x.json",
        json!({"_id": "slack/team-chat", "found": true, "_version": 1,
               "_source": {"url": "https://hooks.slack.com/services/T/B/X"}}),
    );
    let account = account.unwrap();
    assert_eq!(
        (account.id.as_str(), account.connector_type.as_str()),
        ("team-chat", "slack")
    );
    assert!(item.translated.contains(&"_id -> type slack".to_owned()));

    let (account, _) = import(
        "x.json",
        json!({"_id": "slack/team-chat", "_source": {"type": "email", "host": "h"}}),
    );
    assert_eq!(
        account.err().unwrap(),
        "type: email is not the type slack its _id names"
    );
}

#[test]
fn a_dry_run_reports_what_the_registry_would_refuse_without_values() {
    let doc = AccountDoc {
        id: "mail".into(),
        connector_type: "email".into(),
        name: None,
        config: json!({"host": "smtp.example.com", "port": "not-a-port",
                       "from": "a@example.com", "junk": "hunter2"})
        .as_object()
        .unwrap()
        .clone(),
        secrets: json!({"user": "u", "password": "hunter2"})
            .as_object()
            .unwrap()
            .clone(),
        config_hidden: false,
    };
    let refused = check_account(&doc).unwrap_err();
    assert!(
        refused.starts_with("the registry would refuse it: "),
        "{refused}"
    );
    assert!(refused.contains("config.port"), "{refused}");
    assert!(refused.contains("config.junk"), "{refused}");
    assert!(
        !refused.contains("hunter2") && !refused.contains("not-a-port"),
        "{refused}"
    );
}
