use herald_proto::json::struct_to_json;
use herald_proto::v1;
use serde_json::json;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn create_read_replace_delete() {
    let mut r = TestRegistry::start().await;
    let hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
    let created = r
        .client
        .put_account(put(slack("ops-slack", hook)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.version, 1);
    assert_eq!(created.secret_fields, ["webhookUrl"]);
    assert!(created.secrets.is_none());
    assert!(!created.preconfigured);
    assert!(created.created_at.is_some());

    let got = r
        .client
        .get_account(authed(
            PRODUCER,
            v1::GetAccountRequest {
                id: "ops-slack".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, created);

    // Replace without secrets: the stored webhook URL stays.
    let mut renamed = slack("ops-slack", "");
    renamed.secrets = None;
    renamed.name = "Ops channel".into();
    renamed.version = 1;
    let replaced = r
        .client
        .put_account(put(renamed))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (replaced.version, replaced.name.as_str()),
        (2, "Ops channel")
    );
    assert_eq!(replaced.created_at, created.created_at);
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
        hook
    );

    r.client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "ops-slack".into(),
                version: 0,
            },
        ))
        .await
        .unwrap();
    let gone = r
        .client
        .get_account(authed(
            ADMIN,
            v1::GetAccountRequest {
                id: "ops-slack".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let again = r
        .client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "ops-slack".into(),
                version: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
}

#[tokio::test]
async fn secret_set_to_null_is_removed() {
    let mut r = TestRegistry::start().await;
    let config = json!({"service": "other", "from": "alerts@example.com", "host": "smtp.example.com", "port": 587, "hasAuth": false});
    let a = account(
        "mail",
        "email",
        config.clone(),
        json!({"user": "u", "password": "p"}),
    );
    assert_eq!(
        r.client
            .put_account(put(a))
            .await
            .unwrap()
            .into_inner()
            .secret_fields
            .len(),
        2
    );
    let a = account("mail", "email", config, json!({"password": null}));
    let view = r.client.put_account(put(a)).await.unwrap().into_inner();
    assert_eq!(view.secret_fields, ["user"]);
}

#[tokio::test]
async fn roles_and_tokens() {
    let mut r = TestRegistry::start().await;
    let no_token = r
        .client
        .put_account(tonic::Request::new(v1::PutAccountRequest {
            account: Some(slack("a", "https://hooks.slack.com/x")),
        }))
        .await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let bad_token = r
        .client
        .put_account(authed(
            "not-a-known-token-0000",
            v1::PutAccountRequest {
                account: Some(slack("a", "https://hooks.slack.com/x")),
            },
        ))
        .await;
    assert_eq!(bad_token.unwrap_err().code(), Code::Unauthenticated);
    for token in [PRODUCER, SERVICE] {
        let denied = r
            .client
            .put_account(authed(
                token,
                v1::PutAccountRequest {
                    account: Some(slack("a", "https://hooks.slack.com/x")),
                },
            ))
            .await;
        assert_eq!(
            denied.unwrap_err().code(),
            Code::PermissionDenied,
            "{token}"
        );
        let denied = r
            .client
            .delete_account(authed(
                token,
                v1::DeleteAccountRequest {
                    id: "a".into(),
                    version: 0,
                },
            ))
            .await;
        assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    }
    r.client
        .put_account(put(slack("a", "https://hooks.slack.com/x")))
        .await
        .unwrap();
    for token in [ADMIN, PRODUCER] {
        let denied = r
            .client
            .resolve_account(authed(token, v1::ResolveAccountRequest { id: "a".into() }))
            .await;
        assert_eq!(
            denied.unwrap_err().code(),
            Code::PermissionDenied,
            "{token}"
        );
    }
    for token in [ADMIN, PRODUCER, SERVICE] {
        r.client
            .get_account(authed(token, v1::GetAccountRequest { id: "a".into() }))
            .await
            .unwrap();
        r.client
            .list_accounts(authed(token, v1::ListAccountsRequest::default()))
            .await
            .unwrap();
        r.client
            .list_connector_types(authed(token, v1::ListConnectorTypesRequest {}))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn invalid_documents_name_every_field() {
    let mut r = TestRegistry::start().await;
    let bad = account(
        "mail",
        "email",
        json!({"service": "other", "from": "not an address", "host": "smtp.example.com", "port": 70000, "bogus": 1}),
        json!({"user": "u"}),
    );
    let status = r.client.put_account(put(bad)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let message = status.message();
    for field in [
        "config.port",
        "config.from",
        "config.bogus",
        "secrets.password",
    ] {
        assert!(message.contains(field), "{field} missing from: {message}");
    }
    assert!(
        message.contains("config.port: must be 1..65535"),
        "{message}"
    );

    let cases = [
        (
            account(
                "Bad Id",
                "slack",
                json!({}),
                json!({"webhookUrl": "https://hooks.slack.com/x"}),
            ),
            "id: must match",
        ),
        (
            account("x", "nope", json!({}), json!({})),
            "connector_type: unknown connector type nope",
        ),
        (
            account("x", "", json!({}), json!({})),
            "connector_type: required",
        ),
        (
            account("x", "slack", json!({}), json!({})),
            "secrets.webhookUrl",
        ),
        (
            account(
                "x",
                "pagerduty",
                json!({"apiUrl": "not a url"}),
                json!({"routingKey": "k"}),
            ),
            "config.apiUrl",
        ),
    ];
    for (doc, expected) in cases {
        let status = r.client.put_account(put(doc)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains(expected),
            "{expected} missing from: {}",
            status.message()
        );
    }
    let mut nameless = slack("x", "https://hooks.slack.com/x");
    nameless.name.clear();
    let status = r.client.put_account(put(nameless)).await.unwrap_err();
    assert!(
        status.message().contains("name: required"),
        "{}",
        status.message()
    );
    let status = r
        .client
        .put_account(put(v1::Account::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn dotted_type_alias_is_accepted_and_type_cannot_change() {
    let mut r = TestRegistry::start().await;
    let mut a = slack("chat", "https://hooks.slack.com/x");
    a.connector_type = ".slack".into();
    assert_eq!(
        r.client
            .put_account(put(a))
            .await
            .unwrap()
            .into_inner()
            .connector_type,
        "slack"
    );
    let teams = account(
        "chat",
        "teams",
        json!({}),
        json!({"webhookUrl": "https://example.webhook.office.com/x"}),
    );
    let status = r.client.put_account(put(teams)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("connector_type: cannot change"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn stale_versions_are_aborted() {
    let mut r = TestRegistry::start().await;
    r.client
        .put_account(put(slack("a", "https://hooks.slack.com/1")))
        .await
        .unwrap();
    let mut v1put = slack("a", "https://hooks.slack.com/2");
    v1put.version = 1;
    assert_eq!(
        r.client
            .put_account(put(v1put.clone()))
            .await
            .unwrap()
            .into_inner()
            .version,
        2
    );
    // The same put again names version 1, which is now stale.
    let status = r.client.put_account(put(v1put)).await.unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert!(
        status.message().contains("version 2"),
        "{}",
        status.message()
    );
    let mut missing = slack("b", "https://hooks.slack.com/3");
    missing.version = 4;
    assert_eq!(
        r.client.put_account(put(missing)).await.unwrap_err().code(),
        Code::Aborted
    );
    let stale_delete = r
        .client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "a".into(),
                version: 1,
            },
        ))
        .await;
    assert_eq!(stale_delete.unwrap_err().code(), Code::Aborted);
    r.client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: "a".into(),
                version: 2,
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_puts_of_one_version_let_exactly_one_win() {
    let r = TestRegistry::start().await;
    let mut client = r.client.clone();
    client
        .put_account(put(slack("race", "https://hooks.slack.com/0")))
        .await
        .unwrap();
    let attempts = (0..8).map(|i| {
        let mut client = r.client.clone();
        async move {
            let mut a = slack("race", &format!("https://hooks.slack.com/{i}"));
            a.version = 1;
            client.put_account(put(a)).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|s| s.code() == Code::Aborted)
    );
}

#[tokio::test]
async fn pages_cover_every_account_once_and_filter_by_type() {
    let mut r = TestRegistry::start().await;
    for i in 0..23 {
        r.client
            .put_account(put(slack(&format!("s{i:02}"), "https://hooks.slack.com/x")))
            .await
            .unwrap();
    }
    for i in 0..5 {
        let a = account(
            &format!("t{i}"),
            "teams",
            json!({}),
            json!({"webhookUrl": "https://example.webhook.office.com/x"}),
        );
        r.client.put_account(put(a)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = r
            .client
            .list_accounts(authed(
                PRODUCER,
                v1::ListAccountsRequest {
                    connector_type: String::new(),
                    page_size: 10,
                    page_token: token,
                    query: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.accounts.len() <= 10);
        assert!(page.accounts.iter().all(|a| a.secrets.is_none()));
        seen.extend(page.accounts.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 28);

    let teams = r
        .client
        .list_accounts(authed(
            PRODUCER,
            v1::ListAccountsRequest {
                connector_type: ".teams".into(),
                page_size: 0,
                page_token: String::new(),
                query: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        teams
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["t0", "t1", "t2", "t3", "t4"]
    );
    assert!(teams.next_page_token.is_empty());
    let unknown = r
        .client
        .list_accounts(authed(
            PRODUCER,
            v1::ListAccountsRequest {
                connector_type: "nope".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn connector_types_carry_their_schemas() {
    let mut r = TestRegistry::start_with(|s| {
        s.config.policy.enabled_connector_types = vec!["email".into(), ".slack".into()]
    })
    .await;
    let types = r
        .client
        .list_connector_types(authed(PRODUCER, v1::ListConnectorTypesRequest {}))
        .await
        .unwrap()
        .into_inner()
        .connector_types;
    // Every type of the catalog, in its order.
    let ids: Vec<&str> = types.iter().map(|t| t.id.as_str()).collect();
    let catalog: Vec<&str> = herald_connectors::catalog()
        .all()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, catalog);
    assert!(ids.contains(&"gen-ai"), "{ids:?}");
    let email = types.iter().find(|t| t.id == "email").unwrap();
    assert_eq!(email.worker, "herald-email-worker");
    assert!(email.enabled);
    assert!(email.secret_fields.contains(&"password".to_owned()));
    let config = struct_to_json(email.config_schema.as_ref().unwrap());
    assert_eq!(config["type"], "object");
    assert!(config["properties"].get("port").is_some());
    assert!(
        struct_to_json(email.params_schema.as_ref().unwrap())["properties"]
            .get("subject")
            .is_some()
    );
    let jira = types.iter().find(|t| t.id == "jira").unwrap();
    assert!(!jira.enabled);
    assert_eq!(jira.worker, "herald-incident-worker");

    // A disabled type cannot be saved.
    let a = account(
        "j",
        "jira",
        json!({"apiUrl": "https://x.atlassian.net", "projectKey": "OPS"}),
        json!({"email": "a@example.com", "apiToken": "t"}),
    );
    let status = r.client.put_account(put(a)).await.unwrap_err();
    assert!(
        status.message().contains("policy.enabled_connector_types"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn policy_refuses_hosts_and_domains_outside_it() {
    let mut r = TestRegistry::start_with(|s| {
        s.config.policy.allowed_hosts = vec!["hooks.slack.com".into(), "*.example.com".into()];
        s.config.policy.email.domain_allowlist = vec!["example.com".into()];
    })
    .await;
    r.client
        .put_account(put(slack("ok", "https://hooks.slack.com/services/x")))
        .await
        .unwrap();
    let status = r
        .client
        .put_account(put(slack("evil", "https://evil.test/hook")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("secrets.webhookUrl") && status.message().contains("evil.test"),
        "{}",
        status.message()
    );
    assert!(
        !status.message().contains("/hook"),
        "the URL itself may hold a key: {}",
        status.message()
    );

    let mail = |from: &str, host: &str| {
        account(
            "mail",
            "email",
            json!({"service": "other", "from": from, "host": host, "port": 25, "hasAuth": false}),
            json!({}),
        )
    };
    r.client
        .put_account(put(mail("alerts@example.com", "smtp.example.com")))
        .await
        .unwrap();
    let status = r
        .client
        .put_account(put(mail("alerts@other.org", "smtp.example.com")))
        .await
        .unwrap_err();
    assert!(
        status.message().contains("config.from"),
        "{}",
        status.message()
    );
    let status = r
        .client
        .put_account(put(mail("alerts@example.com", "smtp.other.org")))
        .await
        .unwrap_err();
    assert!(
        status.message().contains("config.host"),
        "{}",
        status.message()
    );
    // PagerDuty's default endpoint is outside this policy too.
    let pd = account("pd", "pagerduty", json!({}), json!({"routingKey": "k"}));
    let status = r.client.put_account(put(pd)).await.unwrap_err();
    assert!(
        status.message().contains("config.apiUrl"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn health_and_reflection_are_open() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    let r = TestRegistry::start().await;
    let channel = tonic::transport::Channel::from_shared(r.server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "herald.v1.AccountRegistry"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"herald.v1.AccountRegistry".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}
