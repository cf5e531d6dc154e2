use super::*;
use serde_json::json;
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

/// The `xpack.actions` settings Kibana documents for what Herald has, as a
/// kibana.yml writes them.
#[test]
fn kibana_settings_paste_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let text = format!(
        r#"
xpack.actions.allowedHosts: ["smtp.example.com", "hooks.slack.com", "*.internal.example.com"]
xpack.actions.enabledActionTypes: [".email", ".slack", ".index"]
xpack.actions.email.domain_allowlist: ["example.com"]
xpack.actions.proxyUrl: http://proxy.example.com:8080
xpack.actions.proxyBypassHosts: ["hooks.slack.com"]
xpack.actions.proxyHeaders: {{ "Proxy-Authorization": "Basic eDp5" }}
xpack.actions.ssl.proxyVerificationMode: none
xpack.actions.ssl.verificationMode: certificate
xpack.actions.maxResponseContentLength: 2mb
xpack.actions.responseTimeout: 30s
xpack.actions.preconfiguredAlertHistoryEsIndex: true
xpack.actions.customHostSettings:
  - url: smtp://smtp.example.com:465
    smtp:
      ignoreTLS: false
      requireTLS: true
    ssl:
      verificationMode: full
      certificateAuthoritiesFiles: {ca}
  - url: https://Hooks.Internal.example.com
    ssl:
      verificationMode: none
server.publicBaseUrl: https://kibana.example.com
"#,
        ca = ca.display()
    );
    let c = parse(&text, &no_env).unwrap();
    assert_eq!(
        c.policy.allowed_hosts,
        [
            "smtp.example.com",
            "hooks.slack.com",
            "*.internal.example.com"
        ]
    );
    assert_eq!(
        c.policy.enabled_connector_types,
        [".email", ".slack", ".index"]
    );
    assert!(c.policy.type_enabled("email") && !c.policy.type_enabled("jira"));
    assert_eq!(c.policy.email.domain_allowlist, ["example.com"]);
    let proxy = c.outbound.proxy.as_ref().unwrap();
    assert_eq!(proxy.url, "http://proxy.example.com:8080");
    assert_eq!(proxy.bypass_hosts, ["hooks.slack.com"]);
    assert_eq!(proxy.headers["Proxy-Authorization"], "Basic eDp5");
    assert_eq!(proxy.verification_mode, Some(VerificationMode::None));
    assert_eq!(
        c.outbound.verification_mode,
        Some(VerificationMode::Certificate)
    );
    assert_eq!(c.outbound.max_response_bytes, Some(2 * 1024 * 1024));
    assert_eq!(c.outbound.response_timeout, Some(Duration::from_secs(30)));
    let smtp = c
        .outbound
        .custom_host("smtp", "smtp.example.com", 465)
        .unwrap();
    assert_eq!(smtp.smtp_require_tls, Some(true));
    assert!(smtp.certificate_authorities[0].starts_with("-----BEGIN CERTIFICATE-----"));
    let https = c
        .outbound
        .custom_host("https", "hooks.internal.example.com", 443)
        .unwrap();
    assert_eq!(https.verification_mode, Some(VerificationMode::None));
    assert!(
        c.outbound
            .custom_host("https", "hooks.internal.example.com", 8443)
            .is_none()
    );
    assert_eq!(
        c.public_base_url.as_deref(),
        Some("https://kibana.example.com")
    );
    let history = &c.preconfigured[0];
    assert_eq!(history.id.as_str(), "preconfigured-alert-history-es-index");
    assert_eq!(history.connector_type, "index");
    assert_eq!(
        Value::Object(history.config.clone()),
        json!({"index": "kibana-alert-history-default"})
    );

    // The same settings nested, as kibana.yml also allows.
    let nested = parse(
        "xpack:\n  actions:\n    responseTimeout: 30s\n    ssl:\n      verificationMode: none\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(
        nested.outbound.response_timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        nested.outbound.verification_mode,
        Some(VerificationMode::None)
    );
}

#[test]
fn kibana_settings_errors_name_the_setting() {
    for (text, field) in [
        (
            "xpack.actions.customHostSettings:\n  - url: ftp://x.example.com\n",
            "outbound.custom_hosts[0].url",
        ),
        (
            "xpack.actions.customHostSettings:\n  - url: smtp://x.example.com\n    ssl: {certificateAuthoritiesFiles: /nonexistent/ca.pem}\n",
            "outbound.custom_hosts[0].ssl.certificate_authorities_files[0]",
        ),
        (
            "xpack.actions.customHostSettings:\n  - url: smtp://x.example.com\n    smtp: {ignoreTLS: true, requireTLS: true}\n",
            "outbound.custom_hosts[0].smtp",
        ),
        (
            "xpack.actions.proxyUrl: http://p:1\nxpack.actions.proxyBypassHosts: [a]\nxpack.actions.proxyOnlyHosts: [b]\n",
            "outbound.proxy",
        ),
        ("xpack.actions.proxyUrl: ftp://p:1\n", "outbound.proxy.url"),
        (
            "policy: {allowed_hosts: ['*']}\nxpack.actions.allowedHosts: ['*']\n",
            "xpack.actions.allowedHosts",
        ),
        (
            "preconfigured_alert_history: {index: my-history}\n",
            "preconfigured_alert_history.index",
        ),
        (
            "server.publicBaseUrl: kibana.example.com\n",
            "public_base_url",
        ),
    ] {
        let (at, message) = parse(text, &no_env).unwrap_err();
        assert_eq!(at, field, "{text} -> {message}");
    }
    let (_, message) =
        parse("xpack.actions.maxResponseContentLength: lots\n", &no_env).unwrap_err();
    assert!(message.contains("`lots` is not a size"), "{message}");
    let (_, message) = parse("xpack.actions.queue.max: 3\n", &no_env).unwrap_err();
    assert!(
        message.contains("unknown field `xpack.actions.queue.max`"),
        "{message}"
    );
}

#[test]
fn the_alert_history_account_takes_a_url_an_index_and_secrets() {
    let c = parse(
        "preconfigured_alert_history:\n  url: https://es.example.com:9200\n  index: kibana-alert-history-ops\n  secrets: {apiKey: '${ES_KEY}'}\n",
        &|name| (name == "ES_KEY").then(|| "ZW5jb2RlZA==".to_owned()),
    )
    .unwrap();
    let history = &c.preconfigured[0];
    assert_eq!(
        Value::Object(history.config.clone()),
        json!({"index": "kibana-alert-history-ops", "url": "https://es.example.com:9200"})
    );
    assert_eq!(history.secrets.0["apiKey"], "ZW5jb2RlZA==");
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
