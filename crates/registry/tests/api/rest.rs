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

/// Kibana's connector API as Kibana documents it: create, get, update,
/// list, types, delete; Kibana's error body; kbn-xsrf on writes; read-only
/// preconfigured connectors; no secret in any answer.
#[tokio::test]
async fn kibana_connector_api_round_trip_without_secrets() {
    let yaml = "xpack.actions.preconfigured:\n  my-slack1:\n    actionTypeId: .slack\n    name: 'Slack #xyz'\n    secrets:\n      webhookUrl: 'https://hooks.slack.com/services/abcd/efgh/preconfigured-secret'\n";
    let config = herald_config::parse(yaml, &|_| None).unwrap();
    let r = TestRegistry::start_with(|s| {
        s.http_listen = Some("127.0.0.1:0".parse().unwrap());
        s.config = config;
    })
    .await;
    let base = r.server.http_url().expect("REST listener");
    let http = reqwest::Client::new();
    let url = format!("{base}/api/actions/connector/My-Slack");
    let mut answers = Vec::new();
    let body = json!({"name": "My Slack", "connector_type_id": ".slack", "secrets": {"webhookUrl": SECRET}});

    let no_xsrf = http
        .post(&url)
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_xsrf.status(), 400);
    let error: Value = no_xsrf.json().await.unwrap();
    assert_eq!(error["statusCode"], 400);
    assert_eq!(error["error"], "Bad Request");
    assert!(
        error["message"].as_str().unwrap().contains("kbn-xsrf"),
        "{error}"
    );

    let created = http
        .post(&url)
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let text = created.text().await.unwrap();
    answers.push(text.clone());
    let connector: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        connector,
        json!({"id": "My-Slack", "name": "My Slack", "connector_type_id": ".slack", "config": {},
               "is_preconfigured": false, "is_deprecated": false, "is_missing_secrets": false, "is_system": false})
    );
    let again = http
        .post(&url)
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let bad = http
        .post(format!("{base}/api/actions/connector/x"))
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&json!({"name": "x", "connector_type_id": ".slack", "secrets": {"webhookUrl": 7}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(text.contains("secrets.webhookUrl"), "{text}");

    let updated = http
        .put(&url)
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .json(&json!({"name": "Renamed", "secrets": {"webhookUrl": SECRET}}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let text = updated.text().await.unwrap();
    answers.push(text.clone());
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["name"],
        "Renamed"
    );

    let got = http.get(&url).bearer_auth(PRODUCER).send().await.unwrap();
    assert_eq!(got.status(), 200);
    answers.push(got.text().await.unwrap());

    let list = http
        .get(format!("{base}/api/actions/connectors"))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap();
    let text = list.text().await.unwrap();
    answers.push(text.clone());
    let list: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<(&str, bool, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap(),
                c["is_preconfigured"].as_bool().unwrap(),
                c["referenced_by_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids, [("My-Slack", false, 0), ("my-slack1", true, 0)]);

    let read_only = http
        .delete(format!("{base}/api/actions/connector/my-slack1"))
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(read_only.status(), 400);

    let types: Value = http
        .get(format!("{base}/api/actions/connector_types"))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slack = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == ".slack")
        .unwrap();
    assert_eq!(slack["enabled"], true);
    assert_eq!(slack["enabled_in_license"], true);

    let deleted = http
        .delete(&url)
        .bearer_auth(ADMIN)
        .header("kbn-xsrf", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = http.get(&url).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.json::<Value>().await.unwrap()["statusCode"], 404);

    for answer in &answers {
        assert!(
            !answer.contains(SECRET) && !answer.contains("preconfigured-secret"),
            "{answer}"
        );
    }
}
