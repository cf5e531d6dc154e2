//! Signals' account API with a plain HTTP client, on the seeds' documents:
//! PUT, GET, DELETE, `_search` with each query form, roles, errors naming
//! the field, and no secret in any answer.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const SLACK_URL: &str =
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
const SLACK_URL_2: &str =
    "https://hooks.slack.com/services/T11111111/B11111111/second-signals-secret";
const PASSWORD: &str = "signals-mail-password-secret";
const ROUTING_KEY: &str = "pagerduty-integration-key-secret-0123";
const JIRA_TOKEN: &str = "jira-auth-token-secret-value";
const SECRETS: &[&str] = &[SLACK_URL, SLACK_URL_2, PASSWORD, ROUTING_KEY, JIRA_TOKEN];

/// One call; every answer body is kept to be scanned for secrets.
struct Signals {
    base: String,
    http: Client,
    answers: Vec<String>,
}

impl Signals {
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        self.answers.push(text.clone());
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, value)
    }

    async fn put(&mut self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(ADMIN), Some(body)).await
    }

    async fn get(&mut self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(PRODUCER), None).await
    }

    async fn search(&mut self, body: Value) -> Value {
        let (status, v) = self
            .call(
                Method::POST,
                "/_signals/account/_search",
                Some(SERVICE),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }
}

fn ids(answer: &Value) -> Vec<&str> {
    answer["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn signals_account_api_round_trip_without_secrets() {
    let r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut api = Signals {
        base: r.server.http_url().expect("REST listener"),
        http: Client::new(),
        answers: Vec::new(),
    };

    // The seeds' e-mail account, as Signals documents it.
    let email = json!({
        "type": "email",
        "host": "smtp.example.com",
        "port": 465,
        "user": "signals",
        "password": PASSWORD,
        "enable_tls": true,
        "default_from": "signals@example.com",
        "default_bcc": "signals@example.com"
    });
    let (status, v) = api.put("/_signals/account/email/mail", email).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        v,
        json!({"_id": "email/mail", "result": "created", "_version": 1})
    );
    let (status, v) = api.get("/_signals/account/email/mail").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"_id": "email/mail", "found": true, "_version": 1, "_source": {
            "type": "email",
            "host": "smtp.example.com",
            "port": 465,
            "enable_tls": true,
            "default_from": "signals@example.com",
            "default_bcc": ["signals@example.com"]
        }})
    );

    // The seeds' Slack account, without its `type` (the path gives it).
    let (status, v) = api
        .put(
            "/_signals/account/slack/ops-chat",
            json!({"url": SLACK_URL}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let (_, v) = api.get("/_signals/account/slack/ops-chat").await;
    assert_eq!(v["_source"], json!({"type": "slack"}));

    // An update that leaves the secret out keeps it; one that gives it
    // replaces it, and the account still resolves to the newest.
    let (status, v) = api
        .put("/_signals/account/slack/ops-chat", json!({"type": "slack"}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"_id": "slack/ops-chat", "result": "updated", "_version": 2})
    );
    let resolved = r
        .client
        .clone()
        .resolve_account(authed(
            SERVICE,
            herald_proto::v1::ResolveAccountRequest {
                id: "ops-chat".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let secrets = herald_proto::json::struct_to_json(resolved.secrets.as_ref().unwrap());
    assert_eq!(secrets["webhookUrl"], SLACK_URL);
    let (status, _) = api
        .put(
            "/_signals/account/slack/ops-chat",
            json!({"url": SLACK_URL_2}),
        )
        .await;
    assert_eq!(status, 200);
    // The e-mail account's credentials survive a change of host, and it
    // still authenticates.
    let (status, v) = api
        .put(
            "/_signals/account/email/mail",
            json!({"host": "smtp2.example.com", "port": 587, "enable_start_tls": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = api.get("/_signals/account/email/mail").await;
    assert_eq!(
        v["_source"],
        json!({"type": "email", "host": "smtp2.example.com", "port": 587, "enable_start_tls": true})
    );
    let (_, native) = api.get("/v1/accounts/mail").await;
    assert_eq!(native["secret_fields"], json!(["password", "user"]));
    assert!(native["config"].get("hasAuth").is_none(), "{native}");

    // PagerDuty and Jira, as the later edition shows them.
    let (status, v) = api
        .put(
            "/_signals/account/pagerduty/on-call",
            json!({"type": "pagerduty", "integration_key": ROUTING_KEY}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let (_, v) = api.get("/_signals/account/pagerduty/on-call").await;
    assert_eq!(v["_source"], json!({"type": "pagerduty"}));
    // Signals keeps Jira's project in each watch, so its account alone
    // cannot make a Herald one: refused, naming what is missing.
    let (status, v) = api
        .put(
            "/_signals/account/jira/tickets",
            json!({"type": "jira", "url": "https://example.atlassian.net",
                   "user_name": "signals@example.com", "auth_token": JIRA_TOKEN}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["status"], 400);
    assert!(v["detail"]["config.projectKey"].is_array(), "{v}");

    // Bad documents name their field.
    let (status, v) = api
        .put(
            "/_signals/account/slack/ops-chat",
            json!({"type": "email", "url": SLACK_URL}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["type"].is_array(), "{v}");
    let (status, v) = api
        .put(
            "/_signals/account/email/mail",
            json!({"host": "smtp.example.com", "port": 25, "colour": "blue"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["colour"].is_array(), "{v}");
    assert!(v["error"].as_str().unwrap().contains("colour"), "{v}");
    let (status, v) = api
        .put(
            "/_signals/account/pagerduty/pd2",
            json!({"integration_key": ROUTING_KEY, "url": "https://events.pagerduty.com"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["url"].is_array(), "{v}");
    let (status, v) = api
        .put(
            "/_signals/account/email/mail",
            json!({"host": "smtp.example.com", "port": PASSWORD}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("port"), "{v}");
    let (status, v) = api
        .put(
            "/_signals/account/webhook/w",
            json!({"url": "https://x.example"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["type"].is_array(), "{v}");
    let (status, v) = api
        .put(
            "/_signals/account/slack/ops-chat",
            json!(["not", "an object"]),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["body"].is_array(), "{v}");
    // An id of another type is a conflict naming the type it has.
    let (status, v) = api
        .put(
            "/_signals/account/email/ops-chat",
            json!({"host": "h.example.com", "port": 25}),
        )
        .await;
    assert_eq!(status, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("slack"), "{v}");
    let (status, v) = api.get("/_signals/account/email/ops-chat").await;
    assert_eq!(
        (status, v),
        (
            StatusCode::NOT_FOUND,
            json!({"_id": "email/ops-chat", "found": false})
        )
    );

    // Roles: readers read, only admin writes, no token is 401.
    let slack = Some(json!({"url": SLACK_URL}));
    let path = "/_signals/account/slack/ops-chat";
    let (status, _) = api
        .call(Method::PUT, path, Some(PRODUCER), slack.clone())
        .await;
    assert_eq!(status, 403);
    let (status, _) = api.call(Method::DELETE, path, Some(SERVICE), None).await;
    assert_eq!(status, 403);
    let (status, _) = api.call(Method::PUT, path, None, slack).await;
    assert_eq!(status, 401);
    let (status, _) = api.call(Method::GET, path, None, None).await;
    assert_eq!(status, 401);
    let (status, _) = api
        .call(
            Method::GET,
            "/_signals/account/_search",
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // _search: every form of the query subset, from and size.
    for id in ["alpha", "beta", "gamma"] {
        let (status, _) = api
            .put(
                &format!("/_signals/account/slack/team-{id}"),
                json!({"url": SLACK_URL}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let v = api.search(json!({})).await;
    assert_eq!(v["took"], 0);
    assert_eq!(v["timed_out"], false);
    assert_eq!(v["hits"]["total"], json!({"value": 6, "relation": "eq"}));
    assert_eq!(
        ids(&v),
        [
            "email/mail",
            "pagerduty/on-call",
            "slack/ops-chat",
            "slack/team-alpha",
            "slack/team-beta",
            "slack/team-gamma"
        ]
    );
    let hit = &v["hits"]["hits"][2];
    assert_eq!(hit["_source"], json!({"type": "slack"}));
    let v = api
        .search(json!({"from": 1, "size": 2, "query": {"term": {"type": "slack"}}}))
        .await;
    assert_eq!(v["hits"]["total"]["value"], 4);
    assert_eq!(ids(&v), ["slack/team-alpha", "slack/team-beta"]);
    let v = api
        .search(json!({"query": {"term": {"type": {"value": "email"}}}}))
        .await;
    assert_eq!(ids(&v), ["email/mail"]);
    let v = api
        .search(json!({"query": {"match": {"_id": "slack/team-beta"}}}))
        .await;
    assert_eq!(ids(&v), ["slack/team-beta"]);
    let v = api
        .search(json!({"query": {"match": {"name": {"query": "gamma on-call"}}}}))
        .await;
    assert_eq!(ids(&v), ["pagerduty/on-call", "slack/team-gamma"]);
    let v = api
        .search(json!({"query": {"prefix": {"_id": "slack/team-"}}}))
        .await;
    assert_eq!(v["hits"]["total"]["value"], 3);
    let v = api
        .search(json!({"query": {"prefix": {"name": "team-g"}}}))
        .await;
    assert_eq!(ids(&v), ["slack/team-gamma"]);
    let v = api
        .search(json!({"query": {"match_all": {}}, "size": 0}))
        .await;
    assert_eq!(v["hits"]["total"]["value"], 6);
    assert_eq!(ids(&v), Vec::<&str>::new());
    // GET takes from and size on the query string.
    let (status, v) = api
        .call(
            Method::GET,
            "/_signals/account/_search?from=4&size=10",
            Some(PRODUCER),
            None,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(ids(&v), ["slack/team-beta", "slack/team-gamma"]);
    let (status, v) = api
        .call(
            Method::GET,
            "/_signals/account/_search?size=1001",
            Some(PRODUCER),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["detail"]["size"].is_array(), "{v}");
    for (body, field) in [
        (json!({"size": 5000}), "size"),
        (json!({"from": -1}), "from"),
        (json!({"query": {"bool": {}}}), "query.bool"),
        (json!({"query": {"term": {"host": "x"}}}), "query.term.host"),
        (json!({"sort": []}), "sort"),
    ] {
        let (status, v) = api
            .call(
                Method::POST,
                "/_signals/account/_search",
                Some(ADMIN),
                Some(body),
            )
            .await;
        assert_eq!(status, 400, "{v}");
        assert!(v["detail"][field].is_array(), "{field}: {v}");
    }
    // Accounts of types Signals does not have are not listed.
    let (status, v) = api
        .put(
            "/v1/accounts/hook",
            json!({"connector_type": "webhook", "name": "team-hook",
                   "config": {"url": "https://hooks.example.com/x", "hasAuth": false}}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let v = api.search(json!({"query": {"match_all": {}}})).await;
    assert_eq!(v["hits"]["total"]["value"], 6);

    // DELETE, then it is gone.
    let (status, v) = api
        .call(
            Method::DELETE,
            "/_signals/account/slack/team-beta",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v, json!({"_id": "slack/team-beta", "result": "deleted"}));
    let (status, v) = api.get("/_signals/account/slack/team-beta").await;
    assert_eq!(
        (status, v),
        (
            StatusCode::NOT_FOUND,
            json!({"_id": "slack/team-beta", "found": false})
        )
    );
    let (status, v) = api
        .call(
            Method::DELETE,
            "/_signals/account/slack/team-beta",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(v["status"], 404);
    // A DELETE through the wrong type leaves the account alone.
    let (status, _) = api
        .call(
            Method::DELETE,
            "/_signals/account/email/team-alpha",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/_signals/account/slack/team-alpha").await;
    assert_eq!(status, 200);

    for answer in &api.answers {
        for secret in SECRETS {
            assert!(!answer.contains(secret), "{answer}");
        }
    }
    r.server.stop().await.unwrap();
}
