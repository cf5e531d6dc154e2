use herald_proto::json::struct_to_json;
use herald_proto::v1;
use tonic::Code;

use crate::helpers::*;

const YAML: &str = r#"
preconfigured:
  ops-slack:
    name: Ops Slack
    connector_type: slack
    secrets: { webhookUrl: "${OPS_SLACK_URL}" }
xpack.actions.preconfigured:
  webhook-service:
    actionTypeId: .webhook
    name: 'Email service'
    config:
      url: 'https://email-alert-service.elastic.co'
      method: post
      headers:
        header1: value1
    secrets:
      user: elastic
      password: changeme
    exposeConfig: true
"#;

fn env(name: &str) -> Option<String> {
    (name == "OPS_SLACK_URL").then(|| "https://hooks.slack.com/services/T/B/from-env".to_owned())
}

#[tokio::test]
async fn listed_read_only_and_resolvable() {
    // Both shapes at once is not allowed by YAML keys: use two parses.
    let (first, second) = YAML.split_once("xpack.actions.preconfigured:").unwrap();
    let mut config = herald_config::parse(first, &env).unwrap();
    config.preconfigured.extend(
        herald_config::parse(&format!("xpack.actions.preconfigured:{second}"), &env)
            .unwrap()
            .preconfigured,
    );
    let mut r = TestRegistry::start_with(|s| s.config = config).await;
    r.client
        .put_account(put(slack("a-stored", "https://hooks.slack.com/x")))
        .await
        .unwrap();

    let list = r
        .client
        .list_accounts(authed(PRODUCER, v1::ListAccountsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<(&str, bool)> = list
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.preconfigured))
        .collect();
    assert_eq!(
        ids,
        [
            ("a-stored", false),
            ("ops-slack", true),
            ("webhook-service", true)
        ]
    );

    let slack_view = &list.accounts[1];
    assert_eq!(slack_view.secret_fields, ["webhookUrl"]);
    assert!(slack_view.secrets.is_none());
    let webhook = &list.accounts[2];
    assert_eq!(webhook.connector_type, "webhook");
    assert_eq!(
        struct_to_json(webhook.config.as_ref().unwrap())["method"],
        "post",
        "exposeConfig shows config"
    );

    let resolved = r
        .client
        .resolve_account(authed(
            SERVICE,
            v1::ResolveAccountRequest {
                id: "ops-slack".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        struct_to_json(resolved.secrets.as_ref().unwrap())["webhookUrl"],
        "https://hooks.slack.com/services/T/B/from-env"
    );

    let status = r
        .client
        .put_account(put(slack("ops-slack", "https://hooks.slack.com/y")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = r
        .client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "webhook-service".into(),
                version: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    let filtered = r
        .client
        .list_accounts(authed(
            PRODUCER,
            v1::ListAccountsRequest {
                connector_type: "webhook".into(),
                page_size: 1,
                page_token: String::new(),
                query: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.accounts.len(), 1);
    assert!(filtered.next_page_token.is_empty());
}

#[tokio::test]
async fn a_bad_preconfigured_account_stops_the_registry_naming_it() {
    let yaml = "preconfigured:\n  broken-pd:\n    name: PD\n    connector_type: pagerduty\n    config: { apiUrl: 'nope' }\n    secrets: { routingKey: 'SEKRIT-rk' }\n";
    let config = herald_config::parse(yaml, &|_| None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.config = config;
    let error = herald_registry::open_registry(&settings)
        .await
        .err()
        .expect("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("broken-pd") && message.contains("config.apiUrl"),
        "{message}"
    );
    assert!(!message.contains("SEKRIT"), "{message}");
}
