use std::time::Duration;

use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Jira, parse};
use crate::delivery::testing::{
    account, answers, assert_no_secret, body_json as request_json, delivered, delivery, headers,
    object, outbound, permanent, retry,
};

const TOKEN: &str = "J1RATOKENSECRET";
/// base64("ops@example.com:J1RATOKENSECRET")
const BASIC: &str = "Basic b3BzQGV4YW1wbGUuY29tOkoxUkFUT0tFTlNFQ1JFVA==";

fn jira_account(api_url: &str) -> Account {
    account(
        "jira",
        json!({"apiUrl": api_url, "projectKey": "OPS"}),
        json!({"email": "ops@example.com", "apiToken": TOKEN}),
    )
}

fn push(incident: Value, comments: Value) -> Value {
    json!({"subAction": "pushToService", "subActionParams": {"incident": incident, "comments": comments}})
}

// ------------------------------------------------------------- request

#[test]
fn create_sends_every_field() {
    let params = push(
        json!({
            "summary": "Disk full\non db-1",
            "description": "97% used",
            "issueType": "10001",
            "priority": "High",
            "labels": ["disk", "prod"],
            "parent": "OPS-1",
            "otherFields": "{\"customfield_10010\": \"x\"}",
        }),
        json!(null),
    );
    let (requests, push) = parse(
        &object(params),
        &jira_account("https://acme.atlassian.net/"),
    )
    .unwrap();
    let request = requests.create(&push, "10001");
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, "https://acme.atlassian.net/rest/api/2/issue");
    assert_eq!(
        headers(&request),
        [
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("authorization", BASIC)
        ]
    );
    assert_eq!(
        request_json(&request),
        json!({"fields": {
            "summary": "Disk full, on db-1",
            "project": {"key": "OPS"},
            "issuetype": {"id": "10001"},
            "description": "97% used",
            "labels": ["disk", "prod"],
            "priority": {"name": "High"},
            "parent": {"key": "OPS-1"},
            "customfield_10010": "x",
        }})
    );
}

#[test]
fn update_and_comment_requests() {
    let params = push(
        json!({"summary": "Still full", "externalId": "10042"}),
        json!([{"comment": "c1", "commentId": "1"}]),
    );
    let (requests, push) =
        parse(&object(params), &jira_account("https://acme.atlassian.net")).unwrap();
    let update = requests.update("10042", &push);
    assert_eq!(
        (update.method.as_str(), update.url.as_str()),
        ("PUT", "https://acme.atlassian.net/rest/api/2/issue/10042")
    );
    assert_eq!(
        request_json(&update),
        json!({"fields": {"summary": "Still full"}})
    );
    let comment = requests.comment("10042", "c1");
    assert_eq!(
        comment.url,
        "https://acme.atlassian.net/rest/api/2/issue/10042/comment"
    );
    assert_eq!(request_json(&comment), json!({"body": "c1"}));
    assert_eq!(push.comments, ["c1"]);
    let types = requests.issue_types();
    assert_eq!(
        types.url,
        "https://acme.atlassian.net/rest/api/2/issue/createmeta/OPS/issuetypes"
    );
    assert_eq!(types.body, None);
}

#[test]
fn bad_params_name_the_field() {
    let jira = jira_account("https://acme.atlassian.net");
    let cases = [
        (
            json!({"subAction": "issueTypes"}),
            "subAction: issueTypes reads Jira and delivers nothing; use pushToService",
        ),
        (
            push(json!({}), json!(null)),
            "subActionParams.incident.summary: required",
        ),
        (
            push(json!({"summary": "s", "labels": ["a b"]}), json!(null)),
            "subActionParams.incident.labels[0]: must be a string without spaces",
        ),
        (
            push(json!({"summary": "s", "otherFields": "[]"}), json!(null)),
            "subActionParams.incident.otherFields: must be an object or a string holding a JSON object",
        ),
        (
            push(json!({"summary": "s", "assignee": "x"}), json!(null)),
            "subActionParams.incident.assignee: unknown field",
        ),
        (
            push(json!({"summary": "s"}), json!([{"comment": 1}])),
            "subActionParams.comments[0].comment: must be a string",
        ),
    ];
    for (params, expected) in cases {
        let Err(outcome) = parse(&object(params), &jira) else {
            panic!("{expected}")
        };
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
    let Err(outcome) = parse(
        &object(push(json!({"summary": "s"}), json!(null))),
        &account(
            "jira",
            json!({"apiUrl": "https://a"}),
            json!({"email": "e", "apiToken": TOKEN}),
        ),
    ) else {
        panic!()
    };
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::InvalidConfig,
            "config.projectKey: required".into()
        )
    );
}

// ------------------------------------------------------------- through the network

async fn deliver(server: &MockServer, params: Value) -> Outcome {
    Jira.deliver(&delivery(jira_account(&server.uri()), params), &outbound())
        .await
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(
        json!({"id": "10042", "key": "OPS-42", "self": "https://x/rest/api/2/issue/10042"}),
    )
}

#[tokio::test]
async fn creates_an_issue_with_its_first_type_and_comments() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/createmeta/OPS/issuetypes"))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"issueTypes": [{"id": "10002", "name": "Task"}, {"id": "10003"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .and(header("authorization", BASIC))
        .and(body_json(json!({"fields": {"summary": "Disk full", "project": {"key": "OPS"}, "issuetype": {"id": "10002"}}})))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue/10042/comment"))
        .and(header("authorization", BASIC))
        .and(body_json(json!({"body": "first look"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        push(
            json!({"summary": "Disk full"}),
            json!([{"comment": "first look", "commentId": "c"}]),
        ),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [
            ("issue_id".into(), "10042".into()),
            ("issue_key".into(), "OPS-42".into()),
            (
                "issue_url".into(),
                format!("{}/browse/OPS-42", server.uri())
            ),
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn updates_the_named_issue() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/rest/api/2/issue/10042"))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"fields": {"summary": "Resolved", "priority": {"name": "Low"}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/10042"))
        .and(query_param("fields", "summary"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "10042", "key": "OPS-42"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        push(
            json!({"summary": "Resolved", "priority": "Low", "externalId": "10042"}),
            json!(null),
        ),
    )
    .await;
    assert_eq!(delivered(outcome)[1], ("issue_key".into(), "OPS-42".into()));
    server.verify().await;
}

#[tokio::test]
async fn an_issue_id_cannot_walk_up_the_vendor_path() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1", "key": "OPS-1"})))
        .mount(&server)
        .await;
    for id in ["..", "."] {
        let outcome = deliver(
            &server,
            push(json!({"summary": "s", "externalId": id}), json!(null)),
        )
        .await;
        assert_eq!(
            permanent(outcome),
            (
                ErrorKind::InvalidParams,
                "subActionParams.incident.externalId: must not be . or .. (it is a segment of the issue's URL path)".into()
            )
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // Dots inside an id are one encoded segment: the request stays on the issue.
    delivered(
        deliver(
            &server,
            push(
                json!({"summary": "s", "externalId": "../../x"}),
                json!(null),
            ),
        )
        .await,
    );
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/rest/api/2/issue/..%2F..%2Fx",
            "/rest/api/2/issue/..%2F..%2Fx"
        ]
    );
}

#[tokio::test]
async fn a_created_issue_id_of_dots_is_not_used_in_a_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "..", "key": "OPS-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        push(
            json!({"summary": "s", "issueType": "10001"}),
            json!([{"comment": "c", "commentId": "1"}]),
        ),
    )
    .await;
    let (kind, reason) = permanent(outcome);
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(reason.contains("cannot name an issue"), "{reason}");
    server.verify().await;
}

#[tokio::test]
async fn a_failed_comment_after_creation_is_reported_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue/10042/comment"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        push(
            json!({"summary": "s", "issueType": "1"}),
            json!([{"comment": "c", "commentId": "1"}]),
        ),
    )
    .await;
    let handles = delivered(outcome);
    assert!(
        handles.contains(&(
            "comments_failed".into(),
            "comments[0]: Jira answered 503".into()
        )),
        "{handles:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn errors_quote_jira_and_classify() {
    let server = MockServer::start().await;
    let cases: [(u16, Value); 5] = [
        (
            400,
            json!({"errorMessages": [], "errors": {"priority": "Field 'priority' cannot be set."}}),
        ),
        (
            404,
            json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}),
        ),
        (401, json!({})),
        (429, json!({})),
        (500, json!({})),
    ];
    for (status, body) in cases {
        server.reset().await;
        let mut answer = ResponseTemplate::new(status).set_body_json(body);
        if status == 429 {
            answer = answer.insert_header("retry-after", "9");
        }
        Mock::given(method("POST"))
            .and(path("/rest/api/2/issue"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let outcome = deliver(
            &server,
            push(json!({"summary": "s", "issueType": "1"}), json!(null)),
        )
        .await;
        assert_no_secret(&outcome, &[TOKEN, BASIC]);
        match status {
            400 => assert_eq!(
                permanent(outcome),
                (
                    ErrorKind::VendorRejected,
                    "Jira answered 400: priority: Field 'priority' cannot be set.".into()
                )
            ),
            404 => assert_eq!(
                permanent(outcome).1,
                "Jira answered 404: Issue does not exist or you do not have permission to see it."
            ),
            401 => assert_eq!(permanent(outcome).0, ErrorKind::Auth),
            429 => assert_eq!(retry(outcome).1, Some(Duration::from_secs(9))),
            _ => assert_eq!(retry(outcome).0, ErrorKind::VendorTemporary),
        }
    }
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(""))
        .mount(&server)
        .await;
    let (kind, reason) = permanent(
        deliver(
            &server,
            push(json!({"summary": "s", "issueType": "1"}), json!(null)),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(reason.contains("without an issue id"), "{reason}");
}

#[tokio::test]
async fn no_outcome_shows_the_token() {
    let server = MockServer::start().await;
    for answer in answers() {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = deliver(
            &server,
            push(
                json!({"summary": "s"}),
                json!([{"comment": "c", "commentId": "1"}]),
            ),
        )
        .await;
        assert_no_secret(&outcome, &[TOKEN, BASIC]);
    }
}

/// A resolve's follow-up, as the worker makes it from the firing's
/// handles: the issue the firing opened is renamed and commented, at its
/// own URL, and no issue is created.
#[tokio::test]
async fn a_resolve_follow_up_comments_on_the_firing_issue() {
    use herald_catalog::alert::{AlertPhase, AlertView};
    let spec = crate::catalog().get("jira").unwrap();
    let alert = AlertView::sample(AlertPhase::Resolved);
    let config = object(json!({"apiUrl": "https://x", "projectKey": "OPS"}));
    let handles = std::collections::BTreeMap::from([("issue_id".to_owned(), "10042".to_owned())]);
    let params = (spec.extras.follow_up.unwrap())(
        (spec.extras.alert_params.unwrap())(&alert, &config),
        &alert,
        &handles,
    );
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/rest/api/2/issue/10042"))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"fields": {"summary": "[RESOLVED] Error rate above 5% on web-1"}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/10042"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "10042", "key": "OPS-42"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue/10042/comment"))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"body": crate::alert_parts::plain_text(&alert)}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "7"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let outcome = deliver(&server, Value::Object(params)).await;
    assert_eq!(delivered(outcome)[1], ("issue_key".into(), "OPS-42".into()));
    server.verify().await;
}

/// A resolve whose action names a transition (`transitionId`, e.g. in a
/// route action's `resolved_params`) comments on the firing's issue, then
/// moves it; a refused transition is reported in a handle, not retried.
#[tokio::test]
async fn a_resolve_naming_a_transition_moves_the_firing_issue() {
    use herald_catalog::alert::{AlertPhase, AlertView};
    let spec = crate::catalog().get("jira").unwrap();
    let alert = AlertView::sample(AlertPhase::Resolved);
    let config = object(json!({"apiUrl": "https://x", "projectKey": "OPS"}));
    let handles = std::collections::BTreeMap::from([("issue_id".to_owned(), "10042".to_owned())]);
    let mut resolved = (spec.extras.alert_params.unwrap())(&alert, &config);
    resolved["subActionParams"]["incident"]["transitionId"] = json!("31");
    let params = (spec.extras.follow_up.unwrap())(resolved, &alert, &handles);
    assert!(
        spec.validate_params(
            &Value::Object(params.clone()),
            "params",
            &herald_catalog::Policy::default()
        )
        .is_ok()
    );
    for (status, failed) in [(204, false), (400, true)] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/rest/api/2/issue/10042"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/rest/api/2/issue/10042"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "10042", "key": "OPS-42"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/rest/api/2/issue/10042/comment"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "7"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/rest/api/2/issue/10042/transitions"))
            .and(header("authorization", BASIC))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({"transition": {"id": "31"}})))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"errorMessages": ["It seems that you have tried to perform an illegal workflow operation."], "errors": {}})))
            .expect(1)
            .mount(&server)
            .await;
        let handles = delivered(deliver(&server, Value::Object(params.clone())).await);
        let transition_failed = handles.iter().find(|(k, _)| k == "transition_failed");
        assert_eq!(transition_failed.is_some(), failed, "{handles:?}");
        server.verify().await;
    }
}
