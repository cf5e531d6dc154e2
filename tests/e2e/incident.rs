//! The incident connectors end to end: one event fanned out to PagerDuty,
//! Jira and a webhook, and no secret of any incident account in a result,
//! a status or a dead letter.

use std::time::Duration;

use herald_proto::v1::{GetActionStatusRequest, ingest_client::IngestClient};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

const ROUTING_KEY: &str = "PDR0UTINGKEYSECRET";
const JIRA_TOKEN: &str = "J1RAT0KENSECRET";
const HOOK_PASSWORD: &str = "H00KPASSWORDSECRET";

/// What `GetActionStatus` over gRPC says of `action_id`'s handles.
async fn grpc_handles(env: &Env, action_id: &str) -> Vec<(String, String)> {
    let mut client = IngestClient::connect(env.stack.ingest.grpc_url())
        .await
        .unwrap();
    let mut request = tonic::Request::new(GetActionStatusRequest {
        action_id: action_id.to_owned(),
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", env.stack.producer_token)
            .parse()
            .unwrap(),
    );
    let status = client
        .get_action_status(request)
        .await
        .unwrap()
        .into_inner();
    let mut handles: Vec<(String, String)> = status.handles.into_iter().collect();
    handles.sort();
    handles
}

#[tokio::test]
async fn one_event_fans_out_to_pagerduty_jira_and_a_webhook_once_each() {
    let env = Env::start(|_| {}).await;
    let (pd, jira, hook) = (
        MockServer::start().await,
        MockServer::start().await,
        MockServer::start().await,
    );
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": "disk-db-1",
            "payload": {"summary": "Disk full on db-1: 97%", "source": "db-1", "severity": "critical"},
        })))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "disk-db-1"}),
        ))
        .expect(1)
        .mount(&pd)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .and(header(
            "authorization",
            // base64("ops@example.com:J1RAT0KENSECRET")
            "Basic b3BzQGV4YW1wbGUuY29tOkoxUkFUMEtFTlNFQ1JFVA==",
        ))
        .and(body_json(json!({"fields": {
            "summary": "Disk full on db-1",
            "description": "97% used",
            "project": {"key": "OPS"},
            "issuetype": {"id": "10001"},
            "labels": ["disk"],
        }})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "10042", "key": "OPS-42", "self": "x"})),
        )
        .expect(1)
        .mount(&jira)
        .await;
    Mock::given(method("POST"))
        .and(path("/alerts"))
        .and(header(
            "authorization",
            "Basic b3BzOkgwMEtQQVNTV09SRFNFQ1JFVA==",
        ))
        .and(header("content-type", "application/json"))
        .and(body_string(
            r#"{"host":"db-1","used":97,"note":"say \"hi\""}"#,
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&hook)
        .await;
    env.stack
        .put_account(
            "ops-pd",
            "pagerduty",
            json!({"apiUrl": format!("{}/v2/enqueue", pd.uri())}),
            json!({"routingKey": ROUTING_KEY}),
        )
        .await
        .unwrap();
    env.stack
        .put_account(
            "ops-jira",
            "jira",
            json!({"apiUrl": jira.uri(), "projectKey": "OPS"}),
            json!({"email": "ops@example.com", "apiToken": JIRA_TOKEN}),
        )
        .await
        .unwrap();
    env.stack
        .put_account(
            "ops-hook",
            "webhook",
            json!({"url": format!("{}/alerts", hook.uri())}),
            json!({"user": "ops", "password": HOOK_PASSWORD}),
        )
        .await
        .unwrap();

    let (status, body) = env
        .submit(json!({
            "idempotency_key": "disk-db-1",
            "context": {"host": "db-1", "used": 97, "note": "say \"hi\""},
            "actions": [
                {"account_id": "ops-pd", "params": {
                    "summary": "Disk full on {{context.host}}: {{context.used}}%",
                    "source": "{{context.host}}", "severity": "critical", "dedupKey": "disk-{{context.host}}"}},
                {"account_id": "ops-jira", "params": {"subAction": "pushToService", "subActionParams": {"incident": {
                    "summary": "Disk full on {{context.host}}", "description": "{{context.used}}% used",
                    "issueType": "10001", "labels": ["disk"]}}}},
                {"account_id": "ops-hook", "params": {
                    "body": "{\"host\":\"{{context.host}}\",\"used\":{{context.used}},\"note\":\"{{context.note}}\"}"}},
            ]
        }))
        .await;
    assert_eq!(status, 202, "{body}");
    let ids = action_ids(&body);
    let expected = [
        json!({"dedup_key": "disk-db-1"}),
        json!({"issue_id": "10042", "issue_key": "OPS-42", "issue_url": format!("{}/browse/OPS-42", jira.uri())}),
        json!({"status": "200"}),
    ];
    for (id, handles) in ids.iter().zip(&expected) {
        let status = env.wait_for_state(id, "delivered").await;
        assert_eq!(status["attempts"], 1, "{status}");
        assert_eq!(&status["handles"], handles, "{status}");
        let grpc: Vec<(String, String)> = grpc_handles(&env, id).await;
        let http: Vec<(String, String)> = handles
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(grpc, http);
    }
    // Nothing more arrives later (no redelivery, no duplicate).
    tokio::time::sleep(Duration::from_millis(500)).await;
    for server in [&pd, &jira, &hook] {
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        server.verify().await;
    }
}

/// Every message stored on the subjects of a stream, as raw bytes.
async fn stream_payloads(env: &Env, name: &str) -> Vec<Vec<u8>> {
    let nats = async_nats::connect(env.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    let mut stream = js.get_stream(name).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(seq).await {
            out.push(message.payload.to_vec());
        }
    }
    out
}

struct Case {
    account: &'static str,
    connector_type: &'static str,
    config: Value,
    secrets: Value,
    params: Value,
    secret_values: Vec<&'static str>,
}

/// Each account's vendor answers with an error that fails the action for
/// good (the reason, the vendor's answer, the dead letter and the status all
/// get written, and logged), and nothing written or logged shows a secret.
#[tokio::test]
async fn no_secret_of_an_incident_account_reaches_results_statuses_dead_letters_or_logs() {
    let logs = capture_logs();
    let env = Env::start(|_| {}).await;
    let vendor = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "refused", "errorMessages": ["bad"]})),
        )
        .mount(&vendor)
        .await;
    let uri = vendor.uri();
    let cases = incident_cases(&uri);
    let mut actions = Vec::new();
    for case in &cases {
        env.stack
            .put_account(
                case.account,
                case.connector_type,
                case.config.clone(),
                case.secrets.clone(),
            )
            .await
            .unwrap();
        actions.push(json!({"account_id": case.account, "params": case.params}));
    }
    let (status, body) = env.submit(json!({"context": {}, "actions": actions})).await;
    assert_eq!(status, 202, "{body}");
    let secrets: Vec<&str> = cases
        .iter()
        .flat_map(|c| c.secret_values.iter().copied())
        .collect();
    let mut written = Vec::new();
    for (id, case) in action_ids(&body).iter().zip(&cases) {
        let status = env.wait_for_state(id, "failed").await;
        assert!(
            !status["last_error"].as_str().unwrap().is_empty(),
            "{}: {status}",
            case.connector_type
        );
        written.push(status.to_string().into_bytes());
    }
    let results = stream_payloads(&env, "HERALD_RESULTS").await;
    let dead = stream_payloads(&env, "HERALD_DEAD").await;
    assert!(results.len() >= cases.len() && dead.len() >= cases.len());
    written.extend(results);
    written.extend(dead);
    let logged = logs.lock().unwrap().clone();
    assert!(
        String::from_utf8_lossy(&logged).contains("action failed for good"),
        "the worker's logs were captured"
    );
    written.push(logged);
    for bytes in &written {
        let text = String::from_utf8_lossy(bytes);
        for secret in &secrets {
            assert!(!text.contains(secret), "{secret} written: {text}");
        }
    }
}

/// Everything this test process logs, at every level, from here on (nextest
/// runs each test in a process of its own, so the global subscriber is this
/// test's alone).
fn capture_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .expect("the test's only subscriber");
    buffer.0
}

fn incident_cases(uri: &str) -> Vec<Case> {
    vec![
        Case {
            account: "s-pd",
            connector_type: "pagerduty",
            config: json!({"apiUrl": format!("{uri}/v2/enqueue")}),
            secrets: json!({"routingKey": ROUTING_KEY}),
            params: json!({"summary": "x"}),
            secret_values: vec![ROUTING_KEY],
        },
        Case {
            account: "s-jira",
            connector_type: "jira",
            config: json!({"apiUrl": uri, "projectKey": "OPS"}),
            secrets: json!({"email": "ops@example.com", "apiToken": JIRA_TOKEN}),
            params: json!({"subAction": "pushToService", "subActionParams": {"incident": {"summary": "x"}}}),
            secret_values: vec![JIRA_TOKEN, "b3BzQGV4YW1wbGUuY29tOkoxUkFUMEtFTlNFQ1JFVA"],
        },
        Case {
            account: "s-hook",
            connector_type: "webhook",
            config: json!({"url": format!("{uri}/hook")}),
            secrets: json!({"user": "ops", "password": HOOK_PASSWORD, "secretHeaders": {"X-Key": "HEADERSECRET"}}),
            params: json!({"body": "{}"}),
            secret_values: vec![
                HOOK_PASSWORD,
                "HEADERSECRET",
                "b3BzOkgwMEtQQVNTV09SRFNFQ1JFVA",
            ],
        },
        Case {
            account: "s-hook-oauth",
            connector_type: "webhook",
            config: json!({"url": format!("{uri}/hook"), "authType": "webhook-oauth2-client-credentials",
                           "accessTokenUrl": format!("{uri}/token"), "clientId": "herald"}),
            secrets: json!({"clientSecret": "CL1ENTSECRET"}),
            params: json!({}),
            secret_values: vec!["CL1ENTSECRET"],
        },
        Case {
            account: "s-opsgenie",
            connector_type: "opsgenie",
            config: json!({"apiUrl": uri}),
            secrets: json!({"apiKey": "GEN1EKEYSECRET"}),
            params: json!({"subAction": "createAlert", "subActionParams": {"message": "x"}}),
            secret_values: vec!["GEN1EKEYSECRET"],
        },
        Case {
            account: "s-index",
            connector_type: "index",
            config: json!({"index": "alerts", "url": uri}),
            secrets: json!({"apiKey": "ESAP1KEYSECRET"}),
            params: json!({"documents": [{"host": "db-1"}]}),
            secret_values: vec!["ESAP1KEYSECRET"],
        },
        Case {
            account: "s-cases",
            connector_type: "cases-webhook",
            config: json!({
                "createIncidentUrl": format!("{uri}/cases"),
                "createIncidentJson": "{\"title\":{{{case.title}}}}",
                "getIncidentUrl": format!("{uri}/cases/{{{{{{external.system.id}}}}}}"),
                "getIncidentResponseExternalTitleKey": "title",
                "viewIncidentUrl": format!("{uri}/view/{{{{{{external.system.id}}}}}}"),
                "updateIncidentUrl": format!("{uri}/cases/{{{{{{external.system.id}}}}}}"),
                "updateIncidentJson": "{\"title\":{{{case.title}}}}",
            }),
            secrets: json!({"user": "ops", "password": "CASESPASSWORDSECRET"}),
            params: json!({"subAction": "pushToService", "subActionParams": {"incident": {"title": "x"}}}),
            secret_values: vec!["CASESPASSWORDSECRET"],
        },
        Case {
            account: "s-snow",
            connector_type: "servicenow",
            config: json!({"apiUrl": uri}),
            secrets: json!({"username": "admin", "password": "SN0WPASSWORDSECRET"}),
            params: json!({"subAction": "pushToService",
                           "subActionParams": {"incident": {"short_description": "x"}}}),
            secret_values: vec!["SN0WPASSWORDSECRET", "YWRtaW46U04wV1BBU1NXT1JEU0VDUkVU"],
        },
        Case {
            account: "s-xmatters",
            connector_type: "xmatters",
            config: json!({"configUrl": uri, "usesBasic": true}),
            secrets: json!({"user": "herald", "password": "XMPASSWORDSECRET"}),
            params: json!({"severity": "high"}),
            secret_values: vec!["XMPASSWORDSECRET"],
        },
        Case {
            account: "s-resilient",
            connector_type: "resilient",
            config: json!({"apiUrl": uri, "orgId": "201"}),
            secrets: json!({"apiKeyId": "key-1", "apiKeySecret": "RES1LIENTSECRET"}),
            params: json!({"subAction": "pushToService",
                           "subActionParams": {"incident": {"name": "x"}}}),
            secret_values: vec!["RES1LIENTSECRET"],
        },
        Case {
            account: "s-d3",
            connector_type: "d3security",
            config: json!({"url": uri}),
            secrets: json!({"token": "D3T0KENSECRET"}),
            params: json!({"subAction": "run", "subActionParams": {"body": "{}"}}),
            secret_values: vec!["D3T0KENSECRET"],
        },
        Case {
            account: "s-torq",
            connector_type: "torq",
            config: json!({"webhookIntegrationUrl": uri}),
            secrets: json!({"token": "T0RQTOKENSECRET"}),
            params: json!({"body": "{}"}),
            secret_values: vec!["T0RQTOKENSECRET"],
        },
        Case {
            account: "s-thehive",
            connector_type: "thehive",
            config: json!({"url": uri}),
            secrets: json!({"apiKey": "H1VEAPIKEYSECRET"}),
            params: json!({"subAction": "pushToService",
                           "subActionParams": {"incident": {"title": "t", "description": "d"}}}),
            secret_values: vec!["H1VEAPIKEYSECRET"],
        },
    ]
}
