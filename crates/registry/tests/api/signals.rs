//! Search Guard Signals' account API with a plain HTTP client: the seeds'
//! documents put bare, Signals' GET/PUT/DELETE/_search answers, Signals'
//! error body naming the field, roles, and no secret in any answer.

use herald_proto::json::opt_struct_to_json;
use herald_proto::v1;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The seeds' secret values are words (`"secret"`, `"signals"`) that also
/// appear in field names and addresses, so each is replaced by a marker a
/// scan of the answers can look for; the documents are otherwise the seeds'.
const SMTP_USER: &str = "smtp-user-marker-5c1e";
const SMTP_PASSWORD: &str = "smtp-password-marker-9d2b";
const SLACK_URL: &str =
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
const PD_KEY: &str = "pagerduty-integration-key-marker-77aa";
const JIRA_USER: &str = "jira-user-marker@example.com";
const JIRA_TOKEN: &str = "jira-auth-token-marker-31f0";
const SECRETS: &[&str] = &[
    SMTP_USER,
    SMTP_PASSWORD,
    "XXXXXXXXXXXXXXXXXXXXXXXX",
    PD_KEY,
    JIRA_USER,
    JIRA_TOKEN,
];

/// A plain HTTP client that keeps every answer body for the final scan.
struct Api {
    http: reqwest::Client,
    base: String,
    answers: Vec<String>,
}

impl Api {
    async fn start() -> (TestRegistry, Api) {
        let r = TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap()))
            .await;
        let base = r.server.http_url().expect("REST listener");
        let api = Api {
            http: reqwest::Client::new(),
            base,
            answers: Vec::new(),
        };
        (r, api)
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        self.answers.push(text.clone());
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, value)
    }

    async fn put(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(ADMIN), Some(body)).await
    }

    async fn get(&mut self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(PRODUCER), None).await
    }

    async fn search(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(PRODUCER), Some(body))
            .await
    }

    fn assert_no_secret(&self) {
        assert!(!self.answers.is_empty());
        for answer in &self.answers {
            for secret in SECRETS {
                assert!(!answer.contains(secret), "{secret} in {answer}");
            }
        }
    }
}

fn email_seed() -> Value {
    json!({
        "type": "email",
        "host": "smtp.example.com",
        "port": 465,
        "user": SMTP_USER,
        "password": SMTP_PASSWORD,
        "enable_tls": true,
        "default_from": "signals@example.com",
        "default_bcc": "signals@example.com"
    })
}

/// The stored account's secrets, as the service role resolves them.
async fn secrets_of(r: &mut TestRegistry, id: &str) -> Value {
    let account = r
        .client
        .resolve_account(authed(SERVICE, v1::ResolveAccountRequest { id: id.into() }))
        .await
        .unwrap()
        .into_inner();
    Value::Object(opt_struct_to_json(account.secrets.as_ref()))
}

async fn config_of(api: &mut Api, id: &str) -> Value {
    let (status, native) = api
        .call(
            Method::GET,
            &format!("/v1/accounts/{id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, 200, "{native}");
    native["config"].clone()
}

#[tokio::test]
async fn seed_documents_put_get_update_delete_without_secrets() {
    let (mut r, mut api) = Api::start().await;

    // The seeds' documents, bare, each under its type.
    let (status, put) = api.put("/_signals/account/email/mail", email_seed()).await;
    assert_eq!(status, 201, "{put}");
    assert_eq!(
        put,
        json!({"_id": "email/mail", "_version": 1, "result": "created"})
    );
    let (status, put) = api
        .put(
            "/_signals/account/slack/team",
            json!({"type": "slack", "url": SLACK_URL}),
        )
        .await;
    assert_eq!(status, 201, "{put}");
    assert_eq!(put["_id"], "slack/team");
    let (status, put) = api
        .put(
            "/_signals/account/pagerduty/pager",
            json!({"type": "pagerduty", "integration_key": PD_KEY}),
        )
        .await;
    assert_eq!(status, 201, "{put}");
    let jira = json!({"url": "https://example.atlassian.net", "user_name": JIRA_USER, "auth_token": JIRA_TOKEN});
    // Signals keeps the Jira project in each watch; Herald needs it here.
    let (status, refused) = api
        .put("/_signals/account/jira/tickets", jira.clone())
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["status"], 400);
    assert!(
        refused["detail"]["config.projectKey"][0]["error"]
            .as_str()
            .unwrap()
            .contains("?config.projectKey="),
        "{refused}"
    );
    let (status, put) = api
        .put(
            "/_signals/account/jira/tickets?config.projectKey=OPS",
            jira.clone(),
        )
        .await;
    assert_eq!(status, 201, "{put}");
    // Signals' own PUT example: no credentials, so no SMTP AUTH.
    let (status, _) = api
        .put(
            "/_signals/account/email/default",
            json!({"host": "mail.mycompany.example", "port": 587, "enable_tls": true,
                   "default_from": "signals@mycompany.example.com",
                   "default_bcc": "signals@mycompany.example.com"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(config_of(&mut api, "default").await["hasAuth"], false);

    // GET: Elasticsearch's GetDocument, the config mapped back, no secret.
    let (status, got) = api.get("/_signals/account/email/mail").await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got,
        json!({"_id": "email/mail", "found": true, "_version": 1, "_seq_no": 0, "_primary_term": 1,
               "_source": {"type": "email", "host": "smtp.example.com", "port": 465, "enable_tls": true,
                           "default_from": "signals@example.com", "default_bcc": ["signals@example.com"]}})
    );
    let (_, got) = api.get("/_signals/account/slack/team").await;
    assert_eq!(got["_source"], json!({"type": "slack"}));
    let (_, got) = api.get("/_signals/account/pagerduty/pager").await;
    assert_eq!(got["_source"], json!({"type": "pagerduty"}));
    let (_, got) = api.get("/_signals/account/jira/tickets").await;
    assert_eq!(
        got["_source"],
        json!({"type": "jira", "url": "https://example.atlassian.net"})
    );

    // Update with what GET returned: secrets left out are kept, and so is
    // the Jira project, which Signals' document cannot carry.
    let (_, got) = api.get("/_signals/account/email/mail").await;
    let mut source = got["_source"].clone();
    source["port"] = json!(587);
    let (status, put) = api.put("/_signals/account/email/mail", source).await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(
        put,
        json!({"_id": "email/mail", "_version": 2, "result": "updated"})
    );
    let config = config_of(&mut api, "mail").await;
    assert_eq!(config["port"], 587);
    assert!(config.get("hasAuth").is_none(), "{config}");
    assert_eq!(
        secrets_of(&mut r, "mail").await,
        json!({"user": SMTP_USER, "password": SMTP_PASSWORD})
    );
    let (_, got) = api.get("/_signals/account/jira/tickets").await;
    let (status, put) = api
        .put("/_signals/account/jira/tickets", got["_source"].clone())
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(config_of(&mut api, "tickets").await["projectKey"], "OPS");
    assert_eq!(
        secrets_of(&mut r, "tickets").await,
        json!({"email": JIRA_USER, "apiToken": JIRA_TOKEN})
    );
    // `null` removes a secret; without credentials the account sends
    // without AUTH.
    let (status, _) = api
        .put(
            "/_signals/account/email/mail",
            json!({"host": "smtp.example.com", "port": 25, "user": null, "password": null}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(secrets_of(&mut r, "mail").await, json!({}));
    assert_eq!(config_of(&mut api, "mail").await["hasAuth"], false);

    // DELETE answers Signals' document; the account is gone after it.
    let (status, deleted) = api
        .call(
            Method::DELETE,
            "/_signals/account/slack/team",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        deleted,
        json!({"_id": "slack/team", "_version": 2, "result": "deleted"})
    );
    let (status, gone) = api.get("/_signals/account/slack/team").await;
    assert_eq!(status, 404);
    assert_eq!(gone, json!({"status": 404, "error": "Not found"}));

    api.assert_no_secret();
    r.server.stop().await.unwrap();
}

#[tokio::test]
async fn roles_not_found_and_bad_documents_answer_signals_errors() {
    let (r, mut api) = Api::start().await;
    let (status, _) = api.put("/_signals/account/email/mail", email_seed()).await;
    assert_eq!(status, 201);

    // Roles: readers read, only admin writes; no token is a 401.
    let (status, none) = api
        .call(
            Method::PUT,
            "/_signals/account/email/x",
            None,
            Some(email_seed()),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(none["status"], 401);
    let (status, _) = api
        .call(Method::GET, "/_signals/account/email/mail", None, None)
        .await;
    assert_eq!(status, 401);
    let (status, denied) = api
        .call(
            Method::PUT,
            "/_signals/account/email/x",
            Some(PRODUCER),
            Some(email_seed()),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(denied["status"], 403);
    let (status, _) = api
        .call(
            Method::DELETE,
            "/_signals/account/email/mail",
            Some(PRODUCER),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = api
        .call(
            Method::GET,
            "/_signals/account/email/mail",
            Some(SERVICE),
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Not found: unknown ids, and an account under another type's path.
    for path in [
        "/_signals/account/email/nope",
        "/_signals/account/slack/mail",
    ] {
        let (status, body) = api.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, json!({"status": 404, "error": "Not found"}));
        let (status, _) = api.call(Method::DELETE, path, Some(ADMIN), None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = api.get("/_signals/account/email/mail").await;
    assert_eq!(status, 200, "a DELETE under another type left it alone");

    // A PUT under another type than the stored account's: a conflict.
    let (status, conflict) = api
        .put("/_signals/account/slack/mail", json!({"url": SLACK_URL}))
        .await;
    assert_eq!(status, 409, "{conflict}");
    assert!(conflict["detail"]["type"].is_array(), "{conflict}");
    assert!(
        conflict["error"]
            .as_str()
            .unwrap()
            .contains("/_signals/account/email/mail"),
        "{conflict}"
    );

    // Bad documents, each naming its fields by their Signals names.
    let cases = [
        (
            "/_signals/account/slack/x",
            json!({"type": "email", "url": SLACK_URL}),
            vec!["type"],
        ),
        (
            "/_signals/account/webhook/x",
            json!({"url": "https://example.com"}),
            vec!["type"],
        ),
        (
            "/_signals/account/email/x",
            json!({"host": "h.example.com", "port": 25, "mime_layout": "default", "default_subject": "x"}),
            vec!["mime_layout", "default_subject"],
        ),
        (
            "/_signals/account/pagerduty/x",
            json!({"integration_key": PD_KEY, "url": "https://events.example.com"}),
            vec!["url"],
        ),
        ("/_signals/account/slack/x", json!({}), vec!["url"]),
        (
            "/_signals/account/email/x",
            json!({"host": "smtp.example.com", "port": "not-a-port", "password": SMTP_PASSWORD, "user": SMTP_USER}),
            vec!["port"],
        ),
        (
            "/_signals/account/email/x?junk=1",
            email_seed(),
            vec!["junk"],
        ),
    ];
    for (path, body, fields) in cases {
        let (status, refused) = api.put(path, body).await;
        assert_eq!(status, 400, "{path}: {refused}");
        assert_eq!(refused["status"], 400);
        let detail = refused["detail"].as_object().unwrap();
        for field in &fields {
            assert!(detail.contains_key(*field), "{path}: {field} in {refused}");
        }
        assert_eq!(detail.len(), fields.len(), "{path}: {refused}");
        if fields.len() > 1 {
            assert_eq!(
                refused["error"],
                format!("{} errors; see detail.", fields.len())
            );
        }
    }
    let not_json = api
        .http
        .put(format!("{}/_signals/account/email/x", api.base))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert!(body["detail"]["body"].is_array(), "{body}");

    let (status, _) = api.get("/_signals/account/email/x").await;
    assert_eq!(status, 404, "no refused document was stored");
    api.assert_no_secret();
    r.server.stop().await.unwrap();
}

#[tokio::test]
async fn search_pages_and_filters_with_the_documented_queries() {
    let (r, mut api) = Api::start().await;
    for id in ["a1", "a2", "a3"] {
        let (status, _) = api
            .put(&format!("/_signals/account/email/{id}"), email_seed())
            .await;
        assert_eq!(status, 201);
    }
    for id in ["s1", "s2"] {
        let (status, _) = api
            .put(
                &format!("/_signals/account/slack/{id}"),
                json!({"url": SLACK_URL}),
            )
            .await;
        assert_eq!(status, 201);
    }
    // A type Signals does not have is not an account of Signals'.
    let (status, teams) = api
        .call(
            Method::PUT,
            "/v1/accounts/chat",
            Some(ADMIN),
            Some(json!({"connector_type": "teams", "name": "Chat",
                        "secrets": {"webhookUrl": "https://example.webhook.office.com/x"}})),
        )
        .await;
    assert_eq!(status, 201, "{teams}");

    let ids = |v: &Value| -> Vec<String> {
        v["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let total = |v: &Value| v["hits"]["total"].clone();

    // Signals' example: every account.
    let (status, all) = api
        .call(
            Method::GET,
            "/_signals/account/_search?size=1000",
            Some(PRODUCER),
            None,
        )
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        ids(&all),
        ["email/a1", "email/a2", "email/a3", "slack/s1", "slack/s2"]
    );
    assert_eq!(total(&all), json!({"value": 5, "relation": "eq"}));
    assert!(all["took"].is_u64());
    assert_eq!(all["timed_out"], false);
    assert_eq!(
        all["_shards"],
        json!({"total": 1, "successful": 1, "skipped": 0, "failed": 0})
    );
    assert_eq!(all["hits"]["max_score"], 1.0);
    assert_eq!(
        all["hits"]["hits"][3],
        json!({"_index": ".signals_accounts", "_id": "slack/s1", "_score": 1.0,
               "_source": {"type": "slack"}})
    );
    assert_eq!(
        all["hits"]["hits"][0]["_source"],
        json!({"type": "email", "host": "smtp.example.com", "port": 465, "enable_tls": true,
               "default_from": "signals@example.com", "default_bcc": ["signals@example.com"]})
    );

    // from/size: query parameters (GET and POST), or in the body.
    let (_, page) = api
        .call(
            Method::GET,
            "/_signals/account/_search?from=1&size=2",
            Some(PRODUCER),
            None,
        )
        .await;
    assert_eq!(ids(&page), ["email/a2", "email/a3"]);
    assert_eq!(total(&page)["value"], 5);
    let (_, page) = api
        .search(
            "/_signals/account/_search",
            json!({"query": {"match_all": {}}, "from": 3, "size": 10}),
        )
        .await;
    assert_eq!(ids(&page), ["slack/s1", "slack/s2"]);
    let (_, page) = api
        .search("/_signals/account/_search?size=1", json!({"size": 10}))
        .await;
    assert_eq!(ids(&page), ["email/a1"], "the query parameter wins");
    let (_, page) = api.search("/_signals/account/_search", json!({})).await;
    assert_eq!(page["hits"]["hits"].as_array().unwrap().len(), 5);
    let (_, none) = api
        .search("/_signals/account/_search", json!({"from": 9}))
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());
    assert_eq!(total(&none)["value"], 5);

    // Each query form.
    let queries = [
        (
            json!({"term": {"type": "slack"}}),
            vec!["slack/s1", "slack/s2"],
        ),
        (
            json!({"match": {"type": {"query": "EMAIL"}}}),
            vec!["email/a1", "email/a2", "email/a3"],
        ),
        (
            json!({"term": {"_id": {"value": "email/a2"}}}),
            vec!["email/a2"],
        ),
        (json!({"match": {"_id": "slack/s2"}}), vec!["slack/s2"]),
        (
            json!({"terms": {"type": ["slack", "pagerduty"]}}),
            vec!["slack/s1", "slack/s2"],
        ),
        (
            json!({"ids": {"values": ["slack/s2", "email/a1", "email/zz", "teams/chat"]}}),
            vec!["email/a1", "slack/s2"],
        ),
        (
            json!({"bool": {"must": [{"term": {"type": "email"}}],
                            "filter": {"ids": {"values": ["email/a3", "slack/s1"]}}}}),
            vec!["email/a3"],
        ),
        (json!({"term": {"type": "jira"}}), vec![]),
    ];
    for (query, expected) in queries {
        let (status, found) = api
            .search("/_signals/account/_search", json!({"query": query}))
            .await;
        assert_eq!(status, 200, "{query}: {found}");
        assert_eq!(ids(&found), expected, "{query}");
        assert_eq!(total(&found)["value"], expected.len(), "{query}");
        if expected.is_empty() {
            assert_eq!(found["hits"]["max_score"], Value::Null);
        }
    }
    // The same query by GET with a body, as Elasticsearch allows.
    let (status, found) = api
        .call(
            Method::GET,
            "/_signals/account/_search",
            Some(ADMIN),
            Some(json!({"query": {"term": {"type": "slack"}}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&found), ["slack/s1", "slack/s2"]);

    // What is not answered is refused, naming where.
    let refused = [
        (
            "/_signals/account/_search",
            json!({"query": {"wildcard": {"_id": "email/*"}}}),
            "query.wildcard",
        ),
        (
            "/_signals/account/_search",
            json!({"query": {"term": {"host": "smtp.example.com"}}}),
            "query.term.host",
        ),
        (
            "/_signals/account/_search",
            json!({"query": {"bool": {"should": [{"match_all": {}}]}}}),
            "query.bool.should",
        ),
        (
            "/_signals/account/_search",
            json!({"sort": ["_id"]}),
            "sort",
        ),
        ("/_signals/account/_search", json!({"size": -1}), "size"),
        ("/_signals/account/_search?scroll=1m", json!({}), "scroll"),
        ("/_signals/account/_search?size=abc", json!({}), "size"),
        (
            "/_signals/account/_search?from=9000&size=1001",
            json!({}),
            "size",
        ),
    ];
    for (path, body, field) in refused {
        let (status, error) = api.search(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {error}");
        assert_eq!(error["status"], 400);
        assert!(error["detail"][field].is_array(), "{field}: {error}");
    }

    let (status, _) = api
        .call(
            Method::POST,
            "/_signals/account/_search",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401);
    api.assert_no_secret();
    r.server.stop().await.unwrap();
}
