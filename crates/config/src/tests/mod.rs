use super::*;
use std::io::Write;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn empty_file_means_defaults() {
    let c = parse("", &no_env).unwrap();
    assert!(c.preconfigured.is_empty());
    assert_eq!(c.policy, Policy::default());
    assert_eq!(c.delivery, DeliveryPolicy::default());
    assert_eq!(c.delivery.max_attempts, 5);
    assert_eq!(c.delivery.max_in_flight_per_account, None);
}

#[test]
fn contract_example_parses() {
    let text = r#"
preconfigured:
  ops-slack:
    name: Ops Slack
    connector_type: slack
    secrets: { webhookUrl: "https://hooks.slack.com/services/T/B/X" }
policy:
  allowed_hosts: ["*"]
  enabled_connector_types: ["*"]
  email: { domain_allowlist: [] }
delivery:
  max_attempts: 5
  backoff: { initial: 1s, max: 5m }
  max_in_flight_per_account: 4
  rate_limits:
    slack: { per_second: 1, burst: 5 }
"#;
    let c = parse(text, &no_env).unwrap();
    assert_eq!(c.delivery.max_in_flight_per_account, Some(4));
    assert_eq!(c.preconfigured.len(), 1);
    let a = &c.preconfigured[0];
    assert_eq!(
        (a.id.as_str(), a.connector_type.as_str(), a.name.as_str()),
        ("ops-slack", "slack", "Ops Slack")
    );
    assert_eq!(c.delivery.backoff.max, Duration::from_secs(300));
    assert_eq!(
        c.delivery.rate_limits["slack"],
        RateLimit {
            per_second: 1.0,
            burst: 5
        }
    );
}

#[test]
fn kibana_entries_paste_as_they_are() {
    let text = r#"
xpack.actions.preconfigured:
  webhook-service:
    actionTypeId: .webhook
    name: 'Email service'
    config:
      url: 'https://email-alert-service.elastic.co'
      method: post
    secrets:
      user: elastic
      password: changeme
    exposeConfig: true
"#;
    let c = parse(text, &no_env).unwrap();
    let a = &c.preconfigured[0];
    assert_eq!(a.connector_type, "webhook");
    assert!(a.expose_config);
    assert_eq!(a.config["method"], "post");
}

#[test]
fn secret_references_resolve_from_env_and_files() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "s3cr3t-from-file").unwrap();
    let text = format!(
        "preconfigured:\n  pd:\n    name: PD\n    connector_type: pagerduty\n    secrets:\n      routingKey: '${{PD_KEY}}'\n  j:\n    name: J\n    connector_type: jira\n    secrets:\n      email: a@b.c\n      apiToken: 'file:{}'\n",
        file.path().display()
    );
    let env = |name: &str| (name == "PD_KEY").then(|| "key-from-env".to_owned());
    let c = parse(&text, &env).unwrap();
    let by_id = |id: &str| {
        c.preconfigured
            .iter()
            .find(|a| a.id.as_str() == id)
            .unwrap()
    };
    assert_eq!(by_id("pd").secrets["routingKey"], "key-from-env");
    assert_eq!(by_id("j").secrets["apiToken"], "s3cr3t-from-file");
    assert_eq!(by_id("j").secrets["email"], "a@b.c");
    // Debug shows secret names, never values.
    let printed = format!("{:?}", c.preconfigured);
    assert!(
        printed.contains("apiToken")
            && !printed.contains("s3cr3t-from-file")
            && !printed.contains("key-from-env")
    );
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (
            "preconfigured:\n  x:\n    name: X\n    connector_type: nope\n",
            "preconfigured.x.connector_type",
        ),
        (
            "preconfigured:\n  x:\n    name: X\n    connector_type: slack\n    secrets: { webhookUrl: '${MISSING}' }\n",
            "preconfigured.x.secrets.webhookUrl",
        ),
        ("delivery:\n  max_attempts: 0\n", "delivery.max_attempts"),
        (
            "delivery:\n  max_in_flight_per_account: 0\n",
            "delivery.max_in_flight_per_account",
        ),
        (
            "delivery:\n  rate_limits:\n    nope: { per_second: 1 }\n",
            "delivery.rate_limits.nope",
        ),
        (
            "delivery:\n  rate_limits:\n    slack: { per_second: 1, burst: 0 }\n",
            "delivery.rate_limits.slack.burst",
        ),
        (
            "delivery:\n  backoff: { initial: 10m, max: 5m }\n",
            "delivery.backoff",
        ),
        (
            "policy:\n  enabled_connector_types: [emial]\n",
            "policy.enabled_connector_types",
        ),
    ];
    for (text, field) in cases {
        let (at, message) = parse(text, &no_env).unwrap_err();
        assert_eq!(at, field, "{text} -> {message}");
    }
    let (_, message) = parse("delivery:\n  backoff: { initial: soon }\n", &no_env).unwrap_err();
    assert!(
        message.contains("soon") && message.contains("duration"),
        "{message}"
    );
    let (_, message) = parse("polcy: {}\n", &no_env).unwrap_err();
    assert!(message.contains("unknown field `polcy`"), "{message}");
    let (_, message) = parse("policy:\n  allowed_host: []\n", &no_env).unwrap_err();
    assert!(message.contains("allowed_host"), "{message}");
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let err = load(Path::new("/nonexistent/herald.yaml"), &no_env).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/herald.yaml"));
}

#[test]
fn account_names_with_control_characters_are_refused() {
    for name in [
        r#""Ops\r\nforged: line""#,
        r#""Ops\u0000""#,
        r#""\e[31mred""#,
    ] {
        let text =
            format!("preconfigured:\n  x:\n    name: {name}\n    connector_type: server-log\n");
        let (at, message) = parse(&text, &no_env).unwrap_err();
        assert_eq!(at, "preconfigured.x.name", "{name}");
        assert!(
            message.starts_with("must not contain control characters"),
            "{message}"
        );
    }
    let text = "preconfigured:\n  x:\n    name: ''\n    connector_type: server-log\n";
    assert_eq!(
        parse(text, &no_env).unwrap_err(),
        ("preconfigured.x.name".to_owned(), "required".to_owned())
    );
}

#[test]
fn account_ids_follow_the_id_rule_and_are_quoted_escaped() {
    let text = "preconfigured:\n  \"Ops\\nSlack\":\n    name: X\n    connector_type: server-log\n";
    let (at, message) = parse(text, &no_env).unwrap_err();
    assert_eq!(at, "preconfigured");
    assert_eq!(
        message,
        r#"id "Ops\nSlack": must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}"#
    );
}

#[test]
fn allowed_hosts_are_normalised_and_bad_entries_named() {
    let c = parse(
        "policy:\n  allowed_hosts: ['*', '[::1]', LOCALHOST., 0x7f.1, 10.1.0.0/16]\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(
        c.policy.allowed_hosts,
        ["*", "::1", "localhost", "127.0.0.1", "10.1.0.0/16"]
    );
    let (_, message) =
        parse("policy:\n  allowed_hosts: ['*', 10.0.0.0/33]\n", &no_env).unwrap_err();
    assert!(
        message.contains("allowed_hosts[1]") && message.contains("10.0.0.0/33"),
        "{message}"
    );
}
