//! Fuzz targets for `heraldctl import signals` and `import kibana`: random
//! documents built from both formats' keys, mutated valid documents, and
//! cut or spliced text. Each document gives an account that keeps Herald's
//! id and name rules, or a reason it was not imported; never a panic.
//!
//! `PROPTEST_CASES=100000 cargo nextest run -p herald-cli fuzz` runs it longer.

use herald_catalog::account::{AccountId, name_problem};
use herald_connectors::catalog;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::*;

/// What a document's accounts must hold, whatever the document.
fn check(account: &Result<AccountDoc, String>) -> Result<(), TestCaseError> {
    match account {
        Ok(doc) => {
            prop_assert!(
                AccountId::parse(doc.id.as_str()).is_ok(),
                "imported id {:?}",
                doc.id
            );
            prop_assert!(catalog().get(&doc.connector_type).is_some());
            if let Some(name) = &doc.name {
                prop_assert_eq!(name_problem(name), None, "imported name {:?}", name);
            }
        }
        Err(reason) => prop_assert!(!reason.is_empty(), "refused without a reason"),
    }
    Ok(())
}

/// `--config jira.projectKey=OPS`, which Signals' Jira accounts need.
fn project() -> Vec<Set> {
    vec![parse_set("jira.projectKey=OPS").unwrap()]
}

/// The Signals path of `heraldctl import signals FILE`, after reading it.
fn signals(path: &str, doc: Value) -> Result<(), TestCaseError> {
    let docs = match doc {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    for doc in docs {
        let mut item = Item::new(path.to_owned());
        for set in [vec![], project()] {
            check(&signals_account(path, doc.clone(), &set, &mut item))?;
        }
    }
    Ok(())
}

/// The Kibana path of `heraldctl import kibana FILE`, after reading it.
fn kibana(doc: &Value) -> Result<(), TestCaseError> {
    if let Some(section) = preconfigured_section(doc) {
        for (id, entry) in section {
            let mut item = Item::new(id.clone());
            check(&kibana_account(id, entry, &mut item))?;
        }
    }
    Ok(())
}

fn valid_signals() -> Value {
    json!([
        {"_id": "email/ops-mail", "found": true, "_source": {
            "type": "email", "host": "smtp.example.com", "port": 587, "user": "u", "password": "p",
            "enable_start_tls": true, "default_from": "herald@example.com",
            "default_to": ["ops@example.com"], "trusted_hosts": "smtp.example.com"}},
        {"type": "slack", "url": "https://hooks.slack.com/services/T/B/X"},
        {"_id": "pagerduty/pd", "_source": {"type": "pagerduty", "integration_key": "k"}},
        {"_id": "jira/jira", "_source": {"type": "jira", "url": "https://example.atlassian.net",
            "user_name": "ops@example.com", "auth_token": "t"}},
    ])
}

fn valid_kibana() -> Value {
    json!({"server.port": 5601, "xpack.actions.preconfigured": {
        "my-slack1": {"actionTypeId": ".slack", "name": "Slack #xyz",
            "secrets": {"webhookUrl": "https://hooks.slack.com/services/a/b/c"}},
        "webhook-service": {"actionTypeId": ".webhook", "name": "Email service",
            "config": {"url": "https://example.com", "method": "post", "headers": {"h": "v"}},
            "secrets": {"user": "elastic", "password": "changeme"}, "exposeConfig": true},
    }})
}

const KEYS: &[&str] = &[
    "_id",
    "_source",
    "found",
    "type",
    "host",
    "port",
    "user",
    "password",
    "enable_tls",
    "enable_start_tls",
    "trusted_hosts",
    "default_from",
    "default_to",
    "url",
    "uri",
    "integration_key",
    "user_name",
    "auth_token",
    "session_timeout",
    "xpack.actions.preconfigured",
    "xpack",
    "actions",
    "preconfigured",
    "actions.preconfigured",
    "xpack.actions",
    "my-slack1",
    "Ops\r\nSlack",
    "actionTypeId",
    "connector_type",
    "name",
    "config",
    "secrets",
    "exposeConfig",
    "webhookUrl",
];

/// Values either format holds, and some it should not.
const STRINGS: &[&str] = &[
    "email",
    "slack",
    "pagerduty",
    "jira",
    ".slack",
    ".webhook",
    ".gen-ai",
    "server-log",
    "email/ops-mail",
    "a/b/c",
    "/",
    "",
    "Ops\r\nforged",
    "\0",
    "\u{202e}",
    "https://hooks.slack.com/services/T/B/X",
    "${HERALD_FUZZ_UNSET}",
    "file:/nonexistent/secret",
    "🚨",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Every node of `v` as a JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Replaces the nodes that `at` picks, or adds a key to them.
fn mutate(mut doc: Value, changes: &[(usize, Option<String>, Value)]) -> Value {
    for (at, key, value) in changes {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let Some(node) = doc.pointer_mut(&all[at % all.len()]) else {
            continue;
        };
        match (key, node) {
            (Some(key), Value::Object(map)) => {
                map.insert(key.clone(), value.clone());
            }
            (_, node) => *node = value.clone(),
        }
    }
    doc
}

fn changes() -> impl Strategy<Value = Vec<(usize, Option<String>, Value)>> {
    prop::collection::vec((any::<usize>(), prop::option::of(key()), document()), 1..4)
}

/// Text of `doc` with a range cut out and bytes put in, read back the way
/// `heraldctl` reads a file.
fn spliced(doc: &Value, yaml: bool, cut: (usize, usize), insert: &str) -> Option<Value> {
    let text = if yaml {
        serde_yaml_ng::to_string(doc).expect("serializes")
    } else {
        doc.to_string()
    };
    let mut bytes = text.into_bytes();
    let at = cut.0 % (bytes.len() + 1);
    let end = (at + cut.1).min(bytes.len());
    bytes.splice(at..end, insert.bytes());
    client::parse_document(&String::from_utf8_lossy(&bytes)).ok()
}

proptest! {
    #[test]
    fn fuzz_random_documents(doc in document()) {
        signals("fuzz.json", doc.clone())?;
        kibana(&doc)?;
        kibana(&json!({"xpack.actions.preconfigured": doc}))?;
        kibana(&json!({"xpack.actions.preconfigured": {"fuzz-id": doc}}))?;
    }

    #[test]
    fn fuzz_mutated_valid_documents(changes in changes()) {
        signals("fuzz.json", mutate(valid_signals(), &changes))?;
        kibana(&mutate(valid_kibana(), &changes))?;
    }

    #[test]
    fn fuzz_spliced_text(
        yaml in any::<bool>(),
        cut in (any::<usize>(), 0..24usize),
        insert in prop_oneof![
            prop::sample::select(vec!["", ":", "\n", "- ", "{", "[", "\"", "'", "&a", "*a", "~"])
                .prop_map(str::to_owned),
            any::<String>(),
        ],
    ) {
        if let Some(doc) = spliced(&valid_signals(), yaml, cut, &insert) {
            signals("fuzz.yaml", doc)?;
        }
        if let Some(doc) = spliced(&valid_kibana(), yaml, cut, &insert) {
            kibana(&doc)?;
        }
    }
}

#[test]
fn valid_documents_import() {
    let docs = valid_signals();
    for doc in docs.as_array().unwrap() {
        let mut item = Item::new("x.json".into());
        let account = signals_account("slack-hook.json", doc.clone(), &project(), &mut item);
        if let Err(reason) = account {
            panic!("{doc}: {reason}");
        }
    }
    let kibana = valid_kibana();
    for (id, entry) in preconfigured_section(&kibana).unwrap() {
        let mut item = Item::new(id.clone());
        if let Err(reason) = kibana_account(id, entry, &mut item) {
            panic!("{id}: {reason}");
        }
    }
}

#[test]
fn kibana_names_with_control_characters_are_not_imported() {
    let entry = json!({"actionTypeId": ".server-log", "name": "Ops\r\nforged"});
    let mut item = Item::new("ops".into());
    let error = kibana_account("ops", &entry, &mut item)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        error,
        "ops.name: must not contain control characters (U+000D at character 4)"
    );
}
