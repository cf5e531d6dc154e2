//! heraldctl, the built binary, against real parts: a private nats-server,
//! the whole stack in this process (`herald-stack`), and wiremock vendors.

use std::path::Path;
use std::time::Duration;

use herald_stack::{Stack, StackOptions};
use herald_test_support::NatsServer;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Env {
    nats: NatsServer,
    stack: Stack,
    dir: tempfile::TempDir,
}

/// What a run of heraldctl printed, and how it ended.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl Env {
    async fn start() -> Env {
        herald_test_support::init_tracing();
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let mut options = StackOptions::new(nats.url(), dir.path());
        // The vendors are wiremock servers on loopback, which `*` alone
        // does not reach.
        options.config.policy = herald_catalog::Policy::default().with_loopback();
        let stack = Stack::start(options).await.unwrap();
        Env { nats, stack, dir }
    }

    /// An account's whole config, as the workers resolve it.
    async fn resolved_config(&self, id: &str) -> Value {
        let mut client = herald_proto::v1::account_registry_client::AccountRegistryClient::connect(
            self.stack.registry_url().to_owned(),
        )
        .await
        .unwrap();
        let mut request =
            tonic::Request::new(herald_proto::v1::ResolveAccountRequest { id: id.into() });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.stack.service_token)
                .parse()
                .unwrap(),
        );
        let account = client.resolve_account(request).await.unwrap().into_inner();
        Value::Object(herald_proto::json::opt_struct_to_json(
            account.config.as_ref(),
        ))
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    async fn run(&self, args: &[&str]) -> Run {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_heraldctl"))
            .args(args)
            .env("HERALD_REGISTRY_URL", self.stack.registry_url())
            .env("HERALD_INGEST_URL", self.stack.ingest.grpc_url())
            .env("HERALD_NATS_URL", self.nats.url())
            .env("HERALD_TOKEN", &self.stack.admin_token)
            .current_dir(self.dir.path())
            .output()
            .await
            .unwrap();
        Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Runs and expects exit 0 and JSON on stdout.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let run = self.run(&all).await;
        assert_eq!(run.code, 0, "heraldctl {args:?}: {}", run.stderr);
        run.json()
    }
}

#[tokio::test]
async fn accounts_round_trip_from_yaml() {
    let env = Env::start().await;
    let file = env.file(
        "accounts.yaml",
        r#"
- id: ops-slack
  connector_type: slack
  name: Ops channel
  secrets:
    webhookUrl: https://hooks.slack.com/services/T000/B000/XXXX
- id: ops-hook
  type: .webhook
  config: {url: "https://example.com/alerts", method: put, hasAuth: false}
"#,
    );
    let saved = env.json(&["accounts", "put", &file]).await;
    assert_eq!(saved.as_array().unwrap().len(), 2);

    let got = env.json(&["accounts", "get", "ops-slack"]).await;
    assert_eq!(got["name"], "Ops channel");
    assert_eq!(got["connector_type"], "slack");
    assert_eq!(got["secret_fields"], json!(["webhookUrl"]));
    let printed = env.run(&["accounts", "get", "ops-slack"]).await;
    assert!(!printed.stdout.contains("XXXX"), "{}", printed.stdout);

    let hook = env.json(&["accounts", "get", "ops-hook"]).await;
    assert_eq!(hook["connector_type"], "webhook");
    assert_eq!(hook["config"]["method"], "put");

    let slack = env.json(&["accounts", "list", "--type", "slack"]).await;
    let ids: Vec<&str> = slack
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ops-slack"]);
    let all = env.json(&["accounts", "list"]).await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    // JSON from stdin, replacing the name; the secret left out is kept.
    let mut replace = tokio::process::Command::new(env!("CARGO_BIN_EXE_heraldctl"))
        .args(["accounts", "put", "-"])
        .env("HERALD_REGISTRY_URL", env.stack.registry_url())
        .env("HERALD_TOKEN", &env.stack.admin_token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = replace.stdin.take().unwrap();
    stdin
        .write_all(br#"{"id": "ops-slack", "connector_type": "slack", "name": "Renamed"}"#)
        .await
        .unwrap();
    drop(stdin);
    assert!(replace.wait().await.unwrap().success());
    let got = env.json(&["accounts", "get", "ops-slack"]).await;
    assert_eq!(
        (got["name"].as_str(), got["version"].as_i64()),
        (Some("Renamed"), Some(2))
    );
    assert_eq!(got["secret_fields"], json!(["webhookUrl"]));

    env.json(&["accounts", "delete", "ops-slack"]).await;
    let gone = env.run(&["accounts", "get", "ops-slack"]).await;
    assert_eq!(gone.code, 3, "{}", gone.stderr);
    assert!(gone.stderr.contains("ops-slack"), "{}", gone.stderr);
}

#[tokio::test]
async fn errors_exit_non_zero_naming_the_field() {
    let env = Env::start().await;
    // Refused by the registry: the message names the field.
    let file = env.file(
        "pd.yaml",
        "id: pd\nconnector_type: pagerduty\nsecrets: {}\n",
    );
    let run = env.run(&["accounts", "put", &file]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("secrets.routingKey"), "{}", run.stderr);

    // Refused before sending: an unknown key, in the second item of a list.
    let file = env.file(
        "typo.yaml",
        "- {id: a, connector_type: slack}\n- {id: b, conector_type: slack}\n",
    );
    let run = env.run(&["accounts", "put", &file]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("[1].conector_type"), "{}", run.stderr);
    assert_eq!(env.json(&["accounts", "list"]).await, json!([]));

    // Bad params at ingest name the action's field.
    env.stack
        .put_account("log", "server-log", json!({}), json!({}))
        .await
        .unwrap();
    let run = env
        .run(&["send", "--account", "log", "--params", "{level: warn}"])
        .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("actions[0].params.message"),
        "{}",
        run.stderr
    );

    // Usage: params without their account.
    let run = env.run(&["send", "--account", "log"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--params"), "{}", run.stderr);

    let run = env.run(&["status", "no-such-action"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);

    // A refused token and an unreachable registry are errors talking to Herald.
    let run = env
        .run(&["--token", "wrong-token-0123456789", "accounts", "list"])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = env
        .run(&["--registry-url", "http://127.0.0.1:1", "accounts", "list"])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
}

#[tokio::test]
async fn send_wait_and_accounts_test_print_the_vendor_answer() {
    let env = Env::start().await;
    let vendor = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_body_string("thanks"))
        .expect(2)
        .mount(&vendor)
        .await;
    env.stack
        .put_account(
            "hook",
            "webhook",
            json!({"url": format!("{}/hook", vendor.uri()), "hasAuth": false}),
            json!({}),
        )
        .await
        .unwrap();
    let tested = env.json(&["accounts", "test", "hook"]).await;
    assert_eq!(tested["state"], "delivered");
    assert_eq!(tested["vendor_response"]["status"], 200);
    assert_eq!(tested["vendor_response"]["body"], "thanks");

    let sent = env
        .json(&[
            "send",
            "--account",
            "hook",
            "--params",
            r#"{"body": "{\"host\": \"{{context.host}}\"}"}"#,
            "--context",
            "{host: db-1}",
            "--wait",
        ])
        .await;
    assert_eq!(sent["state"], "delivered");
    assert_eq!(sent["attempts"], 1);
    let bodies: Vec<String> = vendor
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies[1], r#"{"host": "db-1"}"#);
}

#[tokio::test]
async fn a_dead_letter_is_replayed_and_delivered_after_its_account_is_fixed() {
    let env = Env::start().await;
    let broken = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("no such route"))
        .expect(2)
        .mount(&broken)
        .await;
    let fixed = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/alerts"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&fixed)
        .await;
    let account = |url: String| {
        env.file(
            "hook.yaml",
            &format!(
                "id: hook\nconnector_type: webhook\nconfig: {{url: \"{url}\", hasAuth: false}}\n"
            ),
        )
    };
    env.json(&[
        "accounts",
        "put",
        &account(format!("{}/alerts", broken.uri())),
    ])
    .await;

    let run = env
        .run(&[
            "--output",
            "json",
            "send",
            "--account",
            "hook",
            "--params",
            "{body: disk full}",
            "--wait",
        ])
        .await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    let action_id = run.json()["action_id"].as_str().unwrap().to_owned();

    let dead = env.json(&["dead", "list", "--type", "webhook"]).await;
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["action_id"], action_id.as_str());
    assert_eq!(dead[0]["vendor_response"]["status"], 400);

    // Replayed before the fix, it fails again and is dead-lettered again.
    let replayed = env.json(&["dead", "replay", "--type", "webhook"]).await;
    assert_eq!(replayed["replayed"], json!([action_id]));
    let run = env.run(&["status", &action_id, "--wait"]).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let dead = wait_for_dead(&env, 1).await;
    assert_eq!(dead[0]["action_id"], action_id.as_str());

    // Fixed, replayed by id: delivered, and the dead letter is gone.
    env.json(&[
        "accounts",
        "put",
        &account(format!("{}/alerts", fixed.uri())),
    ])
    .await;
    let replayed = env.json(&["dead", "replay", "--id", &action_id]).await;
    assert_eq!(replayed["replayed"], json!([action_id]));
    let status = env.json(&["status", &action_id, "--wait"]).await;
    assert_eq!(status["state"], "delivered");
    assert_eq!(env.json(&["dead", "list"]).await, json!([]));
    let again = env.run(&["dead", "replay", "--id", &action_id]).await;
    assert_eq!(again.code, 3, "{}", again.stderr);
    let received = fixed.received_requests().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&received[0].body), "disk full");

    // The delivery history holds all three attempts, numbered on across
    // the replays: refused, refused again, delivered.
    let mut history = Value::Null;
    for _ in 0..100 {
        history = env.json(&["status", &action_id, "--attempts"]).await;
        if history["attempt_history"].as_array().map_or(0, Vec::len) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let attempts: Vec<(u64, &str, Value)> = history["attempt_history"]
        .as_array()
        .unwrap_or_else(|| panic!("no attempt history: {history}"))
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["state"].as_str().unwrap(),
                a["vendor_status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (1, "failed", json!(400)),
            (2, "failed", json!(400)),
            (3, "delivered", json!(200))
        ]
    );
    let table = env
        .run(&["--output", "table", "status", &action_id, "--attempts"])
        .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("ATTEMPT") && table.stdout.contains("delivered"),
        "{}",
        table.stdout
    );
    let listed = env
        .json(&[
            "deliveries",
            "list",
            "--account",
            "hook",
            "--state",
            "failed",
        ])
        .await;
    let listed: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [2, 1], "newest first");
    let counts = env
        .json(&["deliveries", "counts", "--by", "type", "--since", "1h"])
        .await;
    assert_eq!(counts[0]["key"], "webhook", "{counts}");
    assert_eq!(
        (
            counts[0]["delivered"].as_u64(),
            counts[0]["failed"].as_u64()
        ),
        (Some(1), Some(2))
    );
    let bad = env
        .run(&["deliveries", "list", "--since", "yesterday"])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--since"), "{}", bad.stderr);
}

async fn wait_for_dead(env: &Env, n: usize) -> Value {
    for _ in 0..100 {
        let dead = env.json(&["dead", "list"]).await;
        if dead.as_array().unwrap().len() == n {
            return dead;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never {n} dead letters");
}

#[tokio::test]
async fn signals_accounts_import_and_what_cannot_be_translated_is_reported() {
    let env = Env::start().await;
    let dir = env.dir.path();
    std::fs::create_dir(dir.join("signals")).unwrap();
    let write = |name: &str, doc: Value| {
        let path = dir.join("signals").join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    // As the GET API returns it.
    let mail = write(
        "x.json",
        json!({
            "_id": "email/mail", "found": true, "_version": 3,
            "_source": {"type": "email", "host": "smtp.example.com", "port": 465, "user": "signals",
                        "password": "s3cret-pass", "enable_tls": true, "default_from": "signals@example.com",
                        "default_bcc": "audit@example.com", "frobnicate": 1}
        }),
    );
    // Bare: the id is the file name.
    let slack = write(
        "team-chat.json",
        json!({"type": "slack", "url": "https://hooks.slack.com/services/T/B/X"}),
    );
    // No sender and no credentials: each action gives `from`, and the
    // account sends without AUTH, as in Signals.
    let nofrom = write(
        "nofrom.json",
        json!({"type": "email", "host": "smtp.example.com", "port": 25}),
    );
    let jira = write(
        "tickets.json",
        json!({"type": "jira", "url": "https://example.atlassian.net",
                                            "user_name": "bot@example.com", "auth_token": "tok"}),
    );

    let dry = env
        .run(&[
            "--output",
            "json",
            "import",
            "signals",
            &mail,
            &slack,
            "--dry-run",
        ])
        .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(!dry.stdout.contains("s3cret-pass"));
    assert_eq!(
        dry.json()[0]["account"]["secret_fields"],
        json!(["password", "user"])
    );
    assert_eq!(env.json(&["accounts", "list"]).await, json!([]));

    let run = env
        .run(&[
            "--output", "json", "import", "signals", &mail, &slack, &nofrom, &jira,
        ])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let result = |i: usize| report[i]["result"].as_str().unwrap().to_owned();
    assert_eq!(
        [result(0), result(1), result(2), result(3)],
        ["imported", "imported", "imported", "not imported"]
    );
    assert!(
        report[0]["not_translated"][0]
            .as_str()
            .unwrap()
            .starts_with("frobnicate")
    );
    assert!(
        report[0]["translated"]
            .as_array()
            .unwrap()
            .contains(&json!("enable_tls -> config.secure"))
    );
    assert_eq!(
        env.json(&["accounts", "get", "nofrom"]).await["config"],
        json!({"host": "smtp.example.com", "port": 25, "hasAuth": false})
    );
    assert!(
        report[3]["error"]
            .as_str()
            .unwrap()
            .contains("--config jira.projectKey=KEY")
    );

    let got = env.json(&["accounts", "get", "mail"]).await;
    assert_eq!(
        got["config"],
        json!({"host": "smtp.example.com", "port": 465, "secure": true,
        "from": "signals@example.com", "defaultBcc": ["audit@example.com"]})
    );
    assert_eq!(got["secret_fields"], json!(["password", "user"]));
    assert_eq!(
        env.json(&["accounts", "get", "team-chat"]).await["secret_fields"],
        json!(["webhookUrl"])
    );

    let run = env
        .run(&[
            "--output",
            "json",
            "import",
            "signals",
            &jira,
            "--config",
            "jira.projectKey=OPS",
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = env.json(&["accounts", "get", "tickets"]).await;
    assert_eq!(
        got["config"],
        json!({"apiUrl": "https://example.atlassian.net", "projectKey": "OPS"})
    );
    assert_eq!(got["secret_fields"], json!(["apiToken", "email"]));
}

#[tokio::test]
async fn kibana_preconfigured_connectors_import() {
    let env = Env::start().await;
    let file = env.file(
        "kibana.yml",
        r#"
server.port: 5601
elasticsearch.hosts: ["https://es.example.com:9200"]
xpack.actions.allowedHosts: ["*"]
xpack.actions.preconfiguredAlertHistoryEsIndex: true
xpack.actions.enabled: true
xpack.actions.preconfigured:
  my-slack1:
    actionTypeId: .slack
    name: 'Slack #xyz'
    secrets:
      webhookUrl: 'https://hooks.slack.com/services/abcd/efgh/ijklmnopqrstuvwxyz'
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
  gpt:
    actionTypeId: .gen-ai-next
    name: Not a Herald type
"#,
    );
    let run = env
        .run(&["--output", "json", "import", "kibana", &file])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let by_source = |id: &str| {
        report
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"].as_str().unwrap().ends_with(id))
            .unwrap()
            .clone()
    };
    assert_eq!(by_source("my-slack1")["result"], "imported");
    let hook = by_source("webhook-service");
    assert_eq!(hook["result"], "imported");
    assert!(
        hook["translated"]
            .as_array()
            .unwrap()
            .contains(&json!("exposeConfig true -> config_hidden false")),
        "{hook}"
    );
    assert!(
        by_source("my-slack1")["translated"]
            .as_array()
            .unwrap()
            .contains(&json!("exposeConfig false -> config_hidden true"))
    );
    let gpt = by_source("gpt");
    assert_eq!(gpt["result"], "not imported");
    assert!(
        gpt["error"].as_str().unwrap().contains("gen-ai-next"),
        "{gpt}"
    );

    // Kibana's other settings are HERALD_CONFIG's, said so and not errors.
    let hosts = by_source("xpack.actions.allowedHosts");
    assert_eq!(hosts["result"], "HERALD_CONFIG setting");
    assert!(
        hosts["herald_config"]
            .as_str()
            .unwrap()
            .contains("policy.allowed_hosts"),
        "{hosts}"
    );
    let history = by_source("preconfiguredAlertHistoryEsIndex");
    assert_eq!(history["result"], "HERALD_CONFIG setting");
    let note = history["herald_config"].as_str().unwrap();
    assert!(
        note.contains("preconfigured-alert-history-es-index")
            && note.contains("url: https://es.example.com:9200"),
        "{note}"
    );
    let unknown = by_source("xpack.actions.enabled");
    assert!(
        unknown["herald_config"]
            .as_str()
            .unwrap()
            .contains("not a setting Herald has"),
        "{unknown}"
    );
    assert_eq!(report.as_array().unwrap().len(), 6, "{report}");

    let slack = env.json(&["accounts", "get", "my-slack1"]).await;
    assert_eq!(
        (slack["name"].as_str(), slack["connector_type"].as_str()),
        (Some("Slack #xyz"), Some("slack"))
    );
    // Kibana hides a preconfigured connector's config unless exposeConfig;
    // imported, it stays hidden.
    assert_eq!(slack["config_hidden"], true);
    assert_eq!(slack["config"], json!({}));
    let hook = env.json(&["accounts", "get", "webhook-service"]).await;
    assert_eq!(hook["config_hidden"], false);
    assert_eq!(hook["config"]["headers"], json!({"header1": "value1"}));
    assert_eq!(hook["secret_fields"], json!(["password", "user"]));
}

/// Every connector example of Kibana's preconfigured-connectors page
/// (`crates/connectors/tests/fixtures/kibana`) imports as written, config
/// and secrets kept, and no secret is printed.
#[tokio::test]
async fn every_kibana_example_imports() {
    let env = Env::start().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors/tests/fixtures/kibana");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    // One file per code block of the page.
    assert_eq!(files.len(), 32);
    let mut imported = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let run = env
            .run(&[
                "--output",
                "json",
                "import",
                "kibana",
                &file.display().to_string(),
            ])
            .await;
        assert_eq!(run.code, 0, "{name}: {}\n{}", run.stdout, run.stderr);
        for (id, example) in doc["xpack.actions.preconfigured"].as_object().unwrap() {
            let row = run
                .json()
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id.as_str())
                .cloned()
                .unwrap_or_else(|| panic!("{name}: no row for {id}"));
            assert_eq!(row["result"], "imported", "{name}: {row}");
            for secret in example["secrets"]
                .as_object()
                .into_iter()
                .flat_map(|s| s.values())
            {
                let secret = secret.as_str().unwrap();
                assert!(!run.stdout.contains(secret), "{name}: {secret} printed");
            }
            let got = env.json(&["accounts", "get", id]).await;
            let want_type = example["actionTypeId"]
                .as_str()
                .unwrap()
                .trim_start_matches('.');
            assert_eq!(got["connector_type"], want_type, "{name}");
            assert_eq!(got["name"], example["name"], "{name}");
            let config = example.get("config").cloned().unwrap_or(json!({}));
            // Kibana shows a preconfigured connector's config only with
            // exposeConfig; imported, the account keeps that, and the
            // workers still resolve all of it.
            let exposed = example["exposeConfig"] == true;
            assert_eq!(got["config_hidden"], !exposed, "{name}: {id}");
            let shown = if exposed { config.clone() } else { json!({}) };
            assert_eq!(got["config"], shown, "{name}: {id}");
            assert_eq!(env.resolved_config(id).await, config, "{name}: {id}");
            let mut fields: Vec<&str> = example["secrets"]
                .as_object()
                .map(|s| s.keys().map(String::as_str).collect())
                .unwrap_or_default();
            fields.sort();
            assert_eq!(got["secret_fields"], json!(fields), "{name}: {id}");
            // Some examples share an id (`my-servicenow` is three types).
            env.json(&["accounts", "delete", id]).await;
            imported += 1;
        }
    }
    assert_eq!(imported, 33);
}

#[tokio::test]
async fn up_demo_delivers_its_alert_and_keeps_its_tokens() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("herald-data");

    let first = up(&nats, dir.path(), true).await;
    assert!(first.contains("demo: the alert was delivered"), "{first}");
    let mode = |name: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(data.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!((mode("master.key"), mode("tokens.env")), (0o600, 0o600));
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let tokens = std::fs::read_to_string(data.join("tokens.env")).unwrap();
    let admin = tokens.lines().next().unwrap();
    assert!(first.contains(admin), "{first}");

    // A restart keeps the key, the tokens and the demo account.
    let second = up(&nats, dir.path(), false).await;
    assert!(second.contains(admin), "{second}");
    assert_eq!(
        std::fs::read_to_string(data.join("master.key")).unwrap(),
        key
    );
}

/// Runs `heraldctl up` until it is ready, stops it with SIGTERM, and returns
/// what it printed; it must exit 0.
async fn up(nats: &NatsServer, dir: &Path, demo: bool) -> String {
    use tokio::io::AsyncBufReadExt;
    let any = "127.0.0.1:0";
    let mut args = vec![
        "up",
        "--registry-addr",
        any,
        "--ingest-grpc-addr",
        any,
        "--ingest-http-addr",
        any,
    ];
    if demo {
        args.push("--demo");
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_heraldctl"))
        .args(&args)
        .env("HERALD_NATS_URL", nats.url())
        .env_remove("HERALD_MASTER_KEY")
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Ctrl-C stops Herald") {
                return;
            }
        }
    })
    .await;
    assert!(ready.is_ok(), "up never became ready:\n{printed}");
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "up exited {status}:\n{printed}");
    printed
}

#[tokio::test]
async fn routes_put_from_a_file_or_flags_get_list_and_delete() {
    let env = Env::start().await;
    env.stack
        .put_account("log", "server-log", json!({}), json!({}))
        .await
        .unwrap();
    let file = env.file(
        "route.yaml",
        "id: ops\nname: Ops\nthrottle: 5m\nactions:\n  - account_id: log\n    params: {message: '{{alert.summary}}'}\n    match: {severity: critical}\n",
    );
    let saved = env.json(&["routes", "put", "-f", &file]).await;
    assert_eq!(
        (saved["version"].as_i64(), saved["throttle"].as_str()),
        (Some(1), Some("5m"))
    );
    assert_eq!(saved["actions"][0]["match"]["severity"], "critical");
    // From flags, with the interval and grouping given.
    let saved = env
        .json(&[
            "routes",
            "put",
            "night",
            "--name",
            "Night",
            "--account",
            "log",
            "--params",
            "{message: 'night: {{alert.summary}}'}",
            "--repeat-interval",
            "12h",
            "--grouping",
            "alert",
        ])
        .await;
    assert_eq!(saved["repeat_interval"], "12h");
    assert_eq!(saved["grouping"], "alert");
    let got = env.json(&["routes", "get", "night"]).await;
    assert_eq!(
        got["actions"][0]["params"]["message"],
        "night: {{alert.summary}}"
    );
    let list = env.json(&["routes", "list"]).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["night", "ops"]);
    let table = env.run(&["routes", "list"]).await;
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("night") && table.stdout.contains("12h"),
        "{}",
        table.stdout
    );

    // Refused by the registry, naming the field: exit 2.
    let bad = env.file(
        "bad.yaml",
        "id: bad\nname: Bad\nactions: [{account_id: log, params: {level: warn}}]\n",
    );
    let run = env.run(&["routes", "put", "-f", &bad]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("actions[0].params.message: required"),
        "{}",
        run.stderr
    );
    // Refused before sending: an unknown key names its path.
    let typo = env.file("typo.yaml", "id: t\nname: T\nactions: [{acount_id: log}]\n");
    let run = env.run(&["routes", "put", "-f", &typo]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("actions[0].acount_id"),
        "{}",
        run.stderr
    );

    env.json(&["routes", "delete", "ops"]).await;
    let gone = env.run(&["routes", "get", "ops"]).await;
    assert_eq!(gone.code, 3, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("route ops does not exist"),
        "{}",
        gone.stderr
    );
}
