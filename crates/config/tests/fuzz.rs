//! Fuzz target for `HERALD_CONFIG`: random YAML documents built from the
//! file's own keys, mutated valid files, and arbitrary text. Whatever the
//! input, `parse` returns a configuration that keeps every rule, or an error
//! naming where the problem is; it never panics.
//!
//! `PROPTEST_CASES=100000 cargo nextest run -p herald-config fuzz` runs it longer.

use herald_catalog::account::{AccountId, name_problem};
use herald_config::{HeraldConfig, parse};
use proptest::prelude::*;
use serde_yaml_ng::{Mapping, Value};

/// `${KNOWN}` resolves; every other variable is unset. No input names a
/// `file:` secret that exists (a generator could pick `/dev/zero`).
fn env(name: &str) -> Option<String> {
    (name == "KNOWN").then(|| "https://hooks.slack.com/services/T/B/X".to_owned())
}

const VALID: &str = r#"
preconfigured:
  ops-slack:
    name: Ops Slack
    connector_type: slack
    secrets:
      webhookUrl: "${KNOWN}"
  ops-jira:
    name: Ops Jira
    connector_type: .jira
    config: { apiUrl: "https://example.atlassian.net", projectKey: OPS }
    secrets: { email: ops@example.com, apiToken: "file:/nonexistent/jira-token" }
    exposeConfig: true
policy:
  allowed_hosts: ["*", "*.example.com"]
  enabled_connector_types: ["*"]
  email: { domain_allowlist: [example.com] }
delivery:
  max_attempts: 5
  backoff: { initial: 1s, max: 5m }
  rate_limits:
    slack: { per_second: 1, burst: 5 }
"#;

/// Keys the file knows, at any level, mixed with a few it does not.
const KEYS: &[&str] = &[
    "preconfigured",
    "xpack.actions.preconfigured",
    "policy",
    "delivery",
    "ops-slack",
    "Ops Slack",
    "x",
    "name",
    "connector_type",
    "actionTypeId",
    "config",
    "secrets",
    "expose_config",
    "exposeConfig",
    "webhookUrl",
    "allowed_hosts",
    "enabled_connector_types",
    "email",
    "domain_allowlist",
    "max_attempts",
    "backoff",
    "initial",
    "max",
    "rate_limits",
    "slack",
    "per_second",
    "burst",
    "unknown",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_map(|n| Value::Number(n.into())),
        prop::sample::select(vec![
            "1s",
            "0s",
            "5m",
            "7d",
            "-1s",
            "1.5s",
            "99999999999d",
            "",
            "*",
            ".slack",
            "slack",
            "jira",
            "server-log",
            "${KNOWN}",
            "${MISSING}",
            "${",
            "file:/nonexistent/x",
            "https://example.com",
            "Ops\r\nX",
            "\0",
            "é🚨",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_owned())),
        1 => scalar(),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Mapping(entries.into_iter().collect::<Mapping>())),
        ]
    })
}

/// A byte-level edit of a text: cut a range, insert, or repeat a range.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    Repeat(usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 0..40usize).prop_map(|(at, n)| Edit::Cut(at, n)),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(vec![
                    ":",
                    " ",
                    "\n",
                    "\n  ",
                    "- ",
                    "{",
                    "}",
                    "[",
                    "]",
                    "'",
                    "\"",
                    "&a ",
                    "*a",
                    "!!binary ",
                    "? ",
                    "#",
                    "~",
                    "null",
                    "0x",
                    "1e400",
                    "\t",
                ])
                .prop_map(str::to_owned),
                any::<String>(),
            ]
        )
            .prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1..60usize).prop_map(|(at, n)| Edit::Repeat(at, n)),
    ];
    prop::collection::vec(edit, 1..6)
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::Cut(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Edit::Insert(at, s) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
            }
            Edit::Repeat(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                let copy = bytes[at.min(end)..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What every accepted configuration holds, and every refusal says.
fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text, &env) {
        Ok(config) => holds_its_rules(&config),
        Err((field, message)) => {
            prop_assert!(!field.is_empty(), "an error without a field: {message}");
            prop_assert!(!message.is_empty(), "an error without a message at {field}");
            Ok(())
        }
    }
}

fn holds_its_rules(config: &HeraldConfig) -> Result<(), TestCaseError> {
    for account in &config.preconfigured {
        prop_assert!(
            AccountId::parse(account.id.as_str()).is_ok(),
            "accepted id {:?}",
            account.id
        );
        prop_assert_eq!(
            name_problem(&account.name),
            None,
            "accepted {:?}",
            account.name
        );
        prop_assert!(
            herald_connectors::catalog()
                .get(&account.connector_type)
                .is_some()
        );
    }
    let d = &config.delivery;
    prop_assert!(d.max_attempts >= 1);
    prop_assert!(!d.backoff.initial.is_zero() && d.backoff.initial <= d.backoff.max);
    for limit in d.rate_limits.values() {
        prop_assert!(limit.per_second.is_finite() && limit.per_second >= 0.0);
        prop_assert!(limit.burst >= 1);
    }
    Ok(())
}

#[test]
fn the_valid_file_parses() {
    let config = parse(VALID, &env).map(|_| ()).unwrap_err();
    // The jira token names a file that does not exist: the error says which.
    assert_eq!(config.0, "preconfigured.ops-jira.secrets.apiToken");
    let without_file = VALID.replace("file:/nonexistent/jira-token", "t0ken");
    let config = parse(&without_file, &env).unwrap();
    assert_eq!(config.preconfigured.len(), 2);
}

proptest! {
    #[test]
    fn fuzz_random_documents(doc in document()) {
        let text = serde_yaml_ng::to_string(&doc).expect("a YAML value serializes");
        check(&text)?;
        // The same shape under the top-level keys, where it gets further.
        for top in ["preconfigured", "policy", "delivery"] {
            let mut wrapped = Mapping::new();
            wrapped.insert(Value::String(top.into()), doc.clone());
            check(&serde_yaml_ng::to_string(&wrapped).expect("serializes"))?;
        }
    }

    #[test]
    fn fuzz_mutated_valid_files(edits in edits()) {
        let valid = VALID.replace("file:/nonexistent/jira-token", "t0ken");
        check(&apply(&valid, &edits))?;
    }

    #[test]
    fn fuzz_arbitrary_text(text in any::<String>()) {
        check(&text)?;
    }
}
