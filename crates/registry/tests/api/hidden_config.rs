//! `config_hidden` (Kibana's `exposeConfig: false`): stored with the
//! account on both stores, no reader's view shows the config, the service
//! role's resolve still gets it, and Kibana's API (which has no such field)
//! keeps the stored flag.

use herald_proto::json::{opt_struct_to_json, struct_to_json};
use herald_proto::v1;
use herald_test_support::postgres_database;
use serde_json::{Value, json};

use crate::helpers::*;

async fn hidden_everywhere(database_url: Option<String>) {
    let r = TestRegistry::start_with(|s| {
        s.http_listen = Some("127.0.0.1:0".parse().unwrap());
        if let Some(url) = database_url {
            s.database_url = url;
        }
    })
    .await;
    let mut client = r.client.clone();
    let config = json!({"url": "https://hooks.example.com/alerts", "method": "post"});
    let mut hook = account(
        "Hidden-Hook",
        "webhook",
        config.clone(),
        json!({"user": "u", "password": "hidden-hook-password"}),
    );
    hook.config_hidden = true;
    let saved = client.put_account(put(hook)).await.unwrap().into_inner();
    assert!(saved.config_hidden);
    assert_eq!(
        opt_struct_to_json(saved.config.as_ref()),
        json!({}).as_object().unwrap().clone()
    );

    for token in [ADMIN, PRODUCER] {
        let got = client
            .get_account(authed(
                token,
                v1::GetAccountRequest {
                    id: "Hidden-Hook".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(got.config_hidden);
        assert!(got.config.unwrap().fields.is_empty(), "{token}");
    }
    let listed = client
        .list_accounts(authed(PRODUCER, v1::ListAccountsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.accounts[0]
            .config
            .as_ref()
            .unwrap()
            .fields
            .is_empty()
    );
    let resolved = client
        .resolve_account(authed(
            SERVICE,
            v1::ResolveAccountRequest {
                id: "Hidden-Hook".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        struct_to_json(resolved.config.as_ref().unwrap()),
        *config.as_object().unwrap()
    );

    let base = r.server.http_url().expect("REST listener");
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let response = http.get(path).bearer_auth(PRODUCER).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let native = get(format!("{base}/v1/accounts/Hidden-Hook")).await;
    assert_eq!(
        (&native["config"], &native["config_hidden"]),
        (&json!({}), &json!(true))
    );
    let kibana = get(format!("{base}/api/actions/connector/Hidden-Hook")).await;
    assert_eq!(kibana["config"], json!({}), "{kibana}");

    // Kibana's update has no such field: the flag stays.
    let renamed = http
        .put(format!("{base}/api/actions/connector/Hidden-Hook"))
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&json!({"name": "Renamed", "config": config, "secrets": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap());
    let native = get(format!("{base}/v1/accounts/Hidden-Hook")).await;
    assert_eq!(
        (&native["name"], &native["config_hidden"]),
        (&json!("Renamed"), &json!(true))
    );

    // The native API sets it, and shows the config once it is cleared.
    let shown = http
        .put(format!("{base}/v1/accounts/Hidden-Hook"))
        .bearer_auth(ADMIN)
        .json(&json!({"connector_type": "webhook", "name": "Renamed", "config": config, "config_hidden": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let native = get(format!("{base}/v1/accounts/Hidden-Hook")).await;
    assert_eq!(native["config"], config);
    let bad = http
        .put(format!("{base}/v1/accounts/Hidden-Hook"))
        .bearer_auth(ADMIN)
        .json(&json!({"connector_type": "webhook", "name": "Renamed", "config": config, "config_hidden": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "config_hidden");
    r.server.stop().await.unwrap();
}

#[tokio::test]
async fn hidden_config_on_sqlite() {
    hidden_everywhere(None).await;
}

#[tokio::test]
async fn hidden_config_on_postgres() {
    let Some(db) = postgres_database().await else {
        eprintln!("PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)");
        return;
    };
    hidden_everywhere(Some(db.url().to_owned())).await;
}
