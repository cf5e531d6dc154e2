//! The REST listener with a plain HTTP client: native JSON, roles, the
//! error body naming the field, and secrets never in an answer.

use serde_json::{Value, json};

use crate::helpers::*;

const SECRET: &str = "https://hooks.slack.com/services/T0/B0/rest-secret-value";

#[tokio::test]
async fn native_accounts_round_trip_without_secrets() {
    let r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = r.server.http_url().expect("REST listener");
    let http = reqwest::Client::new();
    let url = format!("{base}/v1/accounts/Ops-Slack");
    let body =
        json!({"connector_type": "slack", "name": "Ops Slack", "secrets": {"webhookUrl": SECRET}});

    let none = http.put(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = http
        .put(&url)
        .bearer_auth("not-a-token-at-all")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let producer = http
        .put(&url)
        .bearer_auth(PRODUCER)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(producer.status(), 403);

    let created = http
        .put(&url)
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let text = created.text().await.unwrap();
    assert!(!text.contains(SECRET), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["secret_fields"], json!(["webhookUrl"]));
    assert_eq!(v["version"], 1);

    let got = http.get(&url).bearer_auth(PRODUCER).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let text = got.text().await.unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["name"],
        "Ops Slack"
    );

    let listed = http
        .get(format!(
            "{base}/v1/accounts?query=ops-SL&connector_type=slack"
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let text = listed.text().await.unwrap();
    assert!(!text.contains(SECRET), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["accounts"][0]["id"], "Ops-Slack");
    let missed: Value = http
        .get(format!("{base}/v1/accounts?query=pager"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missed["accounts"], json!([]));

    let bad = http
        .put(&url)
        .bearer_auth(ADMIN)
        .json(&json!({"connector_type": "slack", "name": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_argument");
    assert_eq!(v["error"]["field"], "name");

    let types: Value = http
        .get(format!("{base}/v1/connector-types"))
        .bearer_auth(SERVICE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slack = types["connector_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "slack")
        .unwrap();
    assert!(
        slack["secrets_schema"].is_object()
            && slack["config_schema"].is_object()
            && slack["params_schema"].is_object()
    );

    let deleted = http.delete(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = http.get(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    r.server.stop().await.unwrap();
}
