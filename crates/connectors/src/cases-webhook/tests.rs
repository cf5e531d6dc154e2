use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{CaseRequests, CasesWebhook, Push, Templates};
use crate::delivery::testing::{
    account, answers, assert_no_secret, body_json as request_json, delivered, delivery, object,
    outbound, permanent, retry,
};

const PASSWORD: &str = "CASESPASSWORDSECRET";

fn config(base: &str) -> Value {
    json!({
        "createIncidentUrl": format!("{base}/rest/api/2/issue"),
        "createIncidentMethod": "post",
        "createIncidentJson": "{\"fields\":{\"summary\":{{{case.title}}},\"description\":{{{case.description}}},\"labels\":{{{case.tags}}}}}",
        "createIncidentResponseKey": "data.id",
        "getIncidentUrl": format!("{base}/rest/api/2/issue/{{{{{{external.system.id}}}}}}"),
        "getIncidentResponseExternalTitleKey": "key",
        "viewIncidentUrl": format!("{base}/browse/{{{{{{external.system.title}}}}}}"),
        "updateIncidentUrl": format!("{base}/rest/api/2/issue/{{{{{{external.system.id}}}}}}"),
        "updateIncidentMethod": "put",
        "updateIncidentJson": "{\"fields\":{\"summary\":{{{case.title}}}}}",
        "createCommentUrl": format!("{base}/rest/api/2/issue/{{{{{{external.system.id}}}}}}/comment"),
        "createCommentMethod": "post",
        "createCommentJson": "{\"body\":{{{case.comment}}}}",
        "headers": {"X-Source": "herald"},
    })
}

fn cases_account(base: &str) -> Account {
    account(
        "cases-webhook",
        config(base),
        json!({"user": "ops", "password": PASSWORD}),
    )
}

fn push(incident: Value, comments: Value) -> Value {
    json!({"subAction": "pushToService", "subActionParams": {"incident": incident, "comments": comments}})
}

#[test]
fn bodies_get_json_literals_and_urls_encoded_ids() {
    let account = cases_account("https://cases.example.com");
    let templates = Templates::parse(&account).unwrap();
    let push = Push::parse(&object(push(
        json!({"title": "Disk \"full\"", "tags": ["a", "b"]}),
        json!(null),
    )))
    .unwrap();
    let requests = CaseRequests::new(&templates, &push);
    let create = requests.create().unwrap();
    assert_eq!(
        (create.method.as_str(), create.url.as_str()),
        ("POST", "https://cases.example.com/rest/api/2/issue")
    );
    assert_eq!(
        request_json(&create),
        json!({"fields": {"summary": "Disk \"full\"", "description": "", "labels": ["a", "b"]}})
    );
    let update = requests.update("10 42").unwrap();
    assert_eq!(
        (update.method.as_str(), update.url.as_str()),
        ("PUT", "https://cases.example.com/rest/api/2/issue/10%2042")
    );
    let comment = requests.comment("7", "looking").unwrap().unwrap();
    assert_eq!(request_json(&comment), json!({"body": "looking"}));
    assert_eq!(
        requests.view_url("7", Some("OPS-7")).unwrap(),
        "https://cases.example.com/browse/OPS-7"
    );
}

#[test]
fn broken_templates_and_params_name_the_field() {
    let mut bad = config("https://c.example.com");
    bad["createIncidentJson"] = json!("{\"summary\": {{case.title}}");
    let account = account(
        "cases-webhook",
        bad,
        json!({"user": "u", "password": PASSWORD}),
    );
    let templates = Templates::parse(&account).unwrap();
    let push_params = Push::parse(&object(push(json!({"title": "t"}), json!(null)))).unwrap();
    let outcome = CaseRequests::new(&templates, &push_params)
        .create()
        .unwrap_err();
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::InvalidConfig,
            "config.createIncidentJson: is not valid JSON once rendered".into()
        )
    );
    let mut no_json = config("https://c.example.com");
    no_json["createCommentJson"] = Value::Null;
    let Err(outcome) = Templates::parse(&account_with(no_json)) else {
        panic!()
    };
    assert_eq!(
        permanent(outcome).1,
        "config.createCommentJson: required when createCommentUrl is set"
    );
    let Err(outcome) = Push::parse(&object(push(json!({}), json!(null)))) else {
        panic!()
    };
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::InvalidParams,
            "subActionParams.incident.title: required".into()
        )
    );
}

fn account_with(config: Value) -> Account {
    account(
        "cases-webhook",
        config,
        json!({"user": "u", "password": PASSWORD}),
    )
}

async fn deliver(server: &MockServer, params: Value) -> Outcome {
    CasesWebhook::default()
        .deliver(&delivery(cases_account(&server.uri()), params), &outbound())
        .await
}

#[tokio::test]
async fn creates_reads_the_title_and_comments() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue"))
        .and(header(
            "authorization",
            "Basic b3BzOkNBU0VTUEFTU1dPUkRTRUNSRVQ=",
        ))
        .and(header("x-source", "herald"))
        .and(body_json(
            json!({"fields": {"summary": "Disk full", "description": "97%", "labels": ["disk"]}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": 10042}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/10042"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"key": "OPS-42"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/2/issue/10042/comment"))
        .and(body_json(json!({"body": "on it"})))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let params = push(
        json!({"title": "Disk full", "description": "97%", "tags": ["disk"]}),
        json!([{"comment": "on it", "commentId": "1"}]),
    );
    let outcome = deliver(&server, params).await;
    assert_eq!(
        delivered(outcome),
        [
            ("external_id".into(), "10042".into()),
            ("external_title".into(), "OPS-42".into()),
            (
                "external_url".into(),
                format!("{}/browse/OPS-42", server.uri())
            ),
        ]
    );
    server.verify().await;
}

#[tokio::test]
async fn updates_the_case_an_earlier_result_named() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/rest/api/2/issue/10042"))
        .and(body_json(json!({"fields": {"summary": "Resolved"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/2/issue/10042"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"key": "OPS-42"})))
        .mount(&server)
        .await;
    let outcome = deliver(
        &server,
        push(
            json!({"title": "Resolved", "externalId": "10042"}),
            json!(null),
        ),
    )
    .await;
    assert_eq!(
        delivered(outcome)[0],
        ("external_id".into(), "10042".into())
    );
    server.verify().await;
}

#[tokio::test]
async fn errors_classify_and_a_missing_id_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"errorMessages": ["summary is required"]})),
        )
        .mount(&server)
        .await;
    let (kind, reason) =
        permanent(deliver(&server, push(json!({"title": "t"}), json!(null))).await);
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::VendorRejected,
            "the case system answered 400: summary is required"
        )
    );
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    assert_eq!(
        retry(deliver(&server, push(json!({"title": "t"}), json!(null))).await).0,
        ErrorKind::VendorTemporary
    );
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .mount(&server)
        .await;
    let (_, reason) = permanent(deliver(&server, push(json!({"title": "t"}), json!(null))).await);
    assert!(
        reason.contains("without an id at config.createIncidentResponseKey (data.id)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_case_id_cannot_walk_up_the_vendor_path() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"key": "OPS-1"})))
        .mount(&server)
        .await;
    for id in ["..", "."] {
        let outcome = deliver(
            &server,
            push(json!({"title": "t", "externalId": id}), json!(null)),
        )
        .await;
        assert_eq!(
            permanent(outcome),
            (
                ErrorKind::InvalidParams,
                "subActionParams.incident.externalId: must not be . or .. (it is a segment of the case's URL path)".into()
            )
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    delivered(
        deliver(
            &server,
            push(json!({"title": "t", "externalId": "../x"}), json!(null)),
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
        ["/rest/api/2/issue/..%2Fx", "/rest/api/2/issue/..%2Fx"]
    );

    // An id of dots from the case system's own answer is not used either.
    let account = cases_account("https://cases.example.com");
    let templates = Templates::parse(&account).unwrap();
    let push = Push::parse(&object(push(json!({"title": "t"}), json!(null)))).unwrap();
    let requests = CaseRequests::new(&templates, &push);
    let (kind, reason) = permanent(requests.get("..").unwrap_err());
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(reason.contains("cannot name a case"), "{reason}");
}

#[tokio::test]
async fn no_outcome_shows_the_password() {
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
                json!({"title": "t"}),
                json!([{"comment": "c", "commentId": "1"}]),
            ),
        )
        .await;
        assert_no_secret(&outcome, &[PASSWORD, "b3BzOkNBU0VTUEFTU1dPUkRTRUNSRVQ="]);
    }
}
