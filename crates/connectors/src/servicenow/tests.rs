use std::sync::Arc;
use std::time::Duration;

use crate::delivery::testing::{
    account, answers, assert_no_secret, delivered, delivery, outbound, permanent,
};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{Flavour, ServiceNow};
use crate::jwt::tests::rsa_key;
use crate::token_cache::TokenCache;

const PASSWORD: &str = "PASSWORD-SECRET";
const CLIENT_SECRET: &str = "CLIENT-SECRET";
const ACCESS_TOKEN: &str = "ACCESS-TOKEN-SECRET";
const SYS_ID: &str = "9c573169c611228700193229fff72400";
/// `admin:PASSWORD-SECRET`
const BASIC: &str = "Basic YWRtaW46UEFTU1dPUkQtU0VDUkVU";

fn basic(connector_type: &str, url: &str, table_api: bool) -> Account {
    let mut config = json!({"apiUrl": url});
    if connector_type != "servicenow-itom" {
        config["usesTableApi"] = json!(table_api);
    }
    account(
        connector_type,
        config,
        json!({"username": "admin", "password": PASSWORD}),
    )
}

fn oauth(url: &str, private_key: &str) -> Account {
    account(
        "servicenow",
        json!({"apiUrl": url, "isOAuth": true, "clientId": "client-1", "jwtKeyId": "kid-1",
               "userIdentifierValue": "herald@example.com"}),
        json!({"clientSecret": CLIENT_SECRET, "privateKey": private_key}),
    )
}

fn connector(flavour: Flavour) -> ServiceNow {
    ServiceNow::new(flavour, Arc::new(TokenCache::default()))
}

async fn deliver(connector: &ServiceNow, account: Account, params: Value) -> Outcome {
    let outcome = connector
        .deliver(&delivery(account, params), &outbound())
        .await;
    assert_no_secret(
        &outcome,
        &[PASSWORD, CLIENT_SECRET, ACCESS_TOKEN, "PRIVATE KEY"],
    );
    outcome
}

fn record(number: &str, state: &str) -> Value {
    json!({"result": {"sys_id": SYS_ID, "number": number, "state": state, "short_description": "x"}})
}

fn handles(server: &MockServer, table: &str, number: &str) -> Vec<(String, String)> {
    vec![
        ("number".into(), number.into()),
        ("sys_id".into(), SYS_ID.into()),
        (
            "url".into(),
            format!(
                "{}/nav_to.do?uri={table}.do%3Fsys_id%3D{SYS_ID}",
                server.uri()
            ),
        ),
    ]
}

fn push(incident: Value, comments: Value) -> Value {
    json!({"subAction": "pushToService", "subActionParams": {"incident": incident, "comments": comments}})
}

// ------------------------------------------------------------- Table API

#[tokio::test]
async fn table_api_creates_the_incident_then_adds_work_notes() {
    let server = MockServer::start().await;
    let fields = json!({
        "short_description": "db-1 down", "description": "disk full", "category": "software",
        "subcategory": "db", "correlation_id": "rule-1:alert-1", "correlation_display": "Herald",
        "severity": "1", "urgency": "2", "impact": "3",
    });
    let mut created = fields.clone();
    created["caller_id"] = json!("admin");
    created["opened_by"] = json!("admin");
    created["u_team"] = json!("dba");
    Mock::given(method("POST"))
        .and(path("/api/now/v2/table/incident"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/json"))
        .and(body_json(&created))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .expect(1)
        .mount(&server)
        .await;
    for note in ["first note", "second note"] {
        let mut body = fields.clone();
        body["work_notes"] = json!(note);
        body["u_team"] = json!("dba");
        Mock::given(method("PATCH"))
            .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
            .and(header("authorization", BASIC))
            .and(body_json(&body))
            .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "1")))
            .expect(1)
            .mount(&server)
            .await;
    }
    let mut incident = fields.clone();
    incident["additional_fields"] = json!({"u_team": "dba"});
    let comments = json!([{"comment": "first note", "commentId": "c1"}, {"comment": "second note", "commentId": "c2"}]);
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        push(incident, comments),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
}

#[tokio::test]
async fn table_api_updates_the_named_incident() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .and(body_json(
            json!({"short_description": "db-1 still down", "u_x": "1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "2")))
        .expect(1)
        .mount(&server)
        .await;
    // additional_fields may come as a JSON string.
    let incident = json!({"short_description": "db-1 still down", "externalId": SYS_ID,
                          "additional_fields": "{\"u_x\": \"1\"}", "description": null});
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        push(incident, Value::Null),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
}

#[tokio::test]
async fn a_failed_comment_after_the_write_is_reported_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let comments = json!([{"comment": "a", "commentId": "1"}, {"comment": "b", "commentId": "2"}]);
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        push(json!({"short_description": "x"}), comments),
    )
    .await;
    let handles = delivered(outcome);
    assert!(
        handles.contains(&(
            "comment_error".into(),
            "comment 1 of 2: ServiceNow answered 503".into()
        )),
        "{handles:?}"
    );
}

#[tokio::test]
async fn sir_writes_security_incidents_with_observables() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/now/v2/table/sn_si_incident"))
        .and(body_json(json!({
            "short_description": "malware", "priority": "1",
            "dest_ip": "10.0.0.1,10.0.0.2", "source_ip": "1.1.1.1,2.2.2.2",
            "malware_hash": "abc", "caller_id": "admin", "opened_by": "admin",
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("SIR0010001", "1")))
        .expect(1)
        .mount(&server)
        .await;
    let incident = json!({"short_description": "malware", "priority": "1",
        "dest_ip": ["10.0.0.1", "10.0.0.2", "10.0.0.1"], "source_ip": "1.1.1.1, 2.2.2.2",
        "malware_hash": "abc", "malware_url": []});
    let outcome = deliver(
        &connector(Flavour::Sir),
        basic("servicenow-sir", &server.uri(), true),
        push(incident, json!([])),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "sn_si_incident", "SIR0010001")
    );
}

// ------------------------------------------------------------- import set

fn import_row(status: &str, extra: Value) -> Value {
    let mut row = json!({"transform_map": "Elastic Incident", "table": "incident",
        "display_name": "number", "display_value": "INC0010002", "status": status, "sys_id": SYS_ID});
    row.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"import_set": "ISET0010001", "staging_table": "x_elas2_inc_int_elastic_incident", "result": [row]})
}

#[tokio::test]
async fn import_set_prefixes_fields_and_names_the_record_to_update() {
    let server = MockServer::start().await;
    let url = "/api/now/import/x_elas2_inc_int_elastic_incident";
    Mock::given(method("POST"))
        .and(path(url))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"u_short_description": "db-1 down", "u_correlation_id": "r:a",
            "u_caller_id": "admin", "u_opened_by": "admin", "assignment_group": "dba"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(import_row("inserted", json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(url))
        .and(body_json(
            json!({"u_short_description": "db-1 down", "u_correlation_id": "r:a",
            "assignment_group": "dba", "u_work_notes": "note", "elastic_incident_id": SYS_ID}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(import_row("updated", json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    let incident = json!({"short_description": "db-1 down", "correlation_id": "r:a",
                          "additional_fields": {"assignment_group": "dba"}});
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), false),
        push(incident, json!([{"comment": "note", "commentId": "1"}])),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010002")
    );
}

#[tokio::test]
async fn an_import_set_row_error_inside_a_200_is_refused_with_its_message() {
    let server = MockServer::start().await;
    let row = import_row("error", json!({"error_message": "Target record not found"}));
    Mock::given(method("POST"))
        .and(path("/api/now/import/x_elas2_sir_int_elastic_si_incident"))
        .respond_with(ResponseTemplate::new(200).set_body_json(row))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &connector(Flavour::Sir),
        basic("servicenow-sir", &server.uri(), false),
        push(
            json!({"short_description": "x", "externalId": "nope"}),
            Value::Null,
        ),
    )
    .await;
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::VendorRejected,
            "ServiceNow answered 200 but refused the request: Target record not found".into()
        )
    );
}

#[tokio::test]
async fn handshake_checks_the_elastic_app() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/x_elas2_inc_int/elastic_api/health"))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"result": {"name": "Elastic", "scope": "x_elas2_inc_int", "version": "1.0.0"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let params = json!({"subAction": "handshake", "subActionParams": {}});
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), false),
        params,
    )
    .await;
    assert_eq!(delivered(outcome), []);
}

// ------------------------------------------------------------- reads and close

#[tokio::test]
async fn get_incident_reads_the_record() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "2")))
        .expect(1)
        .mount(&server)
        .await;
    let params = json!({"subAction": "getIncident", "subActionParams": {"externalId": SYS_ID}});
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        params,
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
}

#[tokio::test]
async fn get_choices_queries_sys_choice() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/table/sys_choice"))
        .and(query_param(
            "sysparm_query",
            "name=task^ORname=em_event^element=severity^ORelement=type^language=en",
        ))
        .and(query_param(
            "sysparm_fields",
            "label,value,dependent_value,element",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"result": [{"label": "Critical", "value": "1", "element": "severity"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let params =
        json!({"subAction": "getChoices", "subActionParams": {"fields": ["severity", "type"]}});
    let outcome = deliver(
        &connector(Flavour::Itom),
        basic("servicenow-itom", &server.uri(), true),
        params,
    )
    .await;
    let Outcome::Delivered {
        response: Some(response),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(response.body.contains("Critical"));
}

fn close(incident: Value) -> Value {
    json!({"subAction": "closeIncident", "subActionParams": {"incident": incident}})
}

#[tokio::test]
async fn close_finds_the_newest_incident_by_correlation_id_and_closes_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/now/v2/table/incident"))
        .and(query_param(
            "sysparm_query",
            "ORDERBYDESCsys_created_on^correlation_id=rule-1:alert-1",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"result": [record("INC0010001", "2")["result"]]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .and(body_json(json!({"state": "7", "close_code": "Closed/Resolved by Caller", "close_notes": "Closed by Caller"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "7")))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        close(json!({"correlation_id": "rule-1:alert-1"})),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
}

#[tokio::test]
async fn close_leaves_closed_and_missing_incidents_alone() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "7")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/v2/table/incident/gone"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({"error": {"message": "No Record found"}, "status": "failure"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/v2/table/incident"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": []})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let servicenow = connector(Flavour::Itsm);
    let account = || basic("servicenow", &server.uri(), true);
    let outcome = deliver(&servicenow, account(), close(json!({"externalId": SYS_ID}))).await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
    let outcome = deliver(&servicenow, account(), close(json!({"externalId": "gone"}))).await;
    assert_eq!(delivered(outcome), []);
    let outcome = deliver(
        &servicenow,
        account(),
        close(json!({"correlation_id": "r:a"})),
    )
    .await;
    assert_eq!(delivered(outcome), []);
}

// ------------------------------------------------------------- ITOM

#[tokio::test]
async fn itom_posts_the_event() {
    let server = MockServer::start().await;
    let event = json!({"source": "Herald", "event_class": "db", "resource": "disk", "node": "db-1",
        "metric_name": "used", "type": "disk", "severity": "1", "description": "disk full",
        "additional_info": "{\"used\": 97}", "message_key": "rule-1:alert-1", "time_of_event": "2026-01-01 10:00:00"});
    Mock::given(method("POST"))
        .and(path("/api/global/em/jsonv2"))
        .and(header("authorization", BASIC))
        .and(body_json(json!({"records": [event]})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"result": {"Default Bulk Endpoint": "1 events were inserted"}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let params = json!({"subAction": "addEvent", "subActionParams": event});
    let outcome = deliver(
        &connector(Flavour::Itom),
        basic("servicenow-itom", &server.uri(), true),
        params,
    )
    .await;
    assert_eq!(
        delivered(outcome),
        [("message_key".to_owned(), "rule-1:alert-1".to_owned())]
    );
}

// ------------------------------------------------------------- OAuth

/// The token endpoint: checks the JWT bearer grant, answers `token`.
async fn mount_token_endpoint(
    server: &MockServer,
    public_key: String,
    token: &'static str,
    times: impl Into<wiremock::Times>,
) {
    let grant = move |request: &Request| {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["client-1"]);
        validation.set_issuer(&["client-1"]);
        validation.sub = Some("herald@example.com".into());
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_key.as_bytes()).unwrap();
        let assertion = form
            .get("assertion")
            .map(String::as_str)
            .unwrap_or_default();
        form.get("grant_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
            && form.get("client_id").map(String::as_str) == Some("client-1")
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
            && jsonwebtoken::decode_header(assertion)
                .is_ok_and(|h| h.kid.as_deref() == Some("kid-1"))
            && jsonwebtoken::decode::<Value>(assertion, &key, &validation).is_ok()
    };
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(grant)
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 1799, "scope": "useraccount"}),
        ))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn oauth_gets_a_token_with_a_signed_jwt_and_reuses_it() {
    let server = MockServer::start().await;
    let (private, public) = rsa_key();
    mount_token_endpoint(&server, public, ACCESS_TOKEN, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/now/v2/table/incident"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        // No basic-auth user to open the incident as.
        .and(body_json(json!({"short_description": "x"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .expect(2)
        .mount(&server)
        .await;
    let servicenow = connector(Flavour::Itsm);
    for _ in 0..2 {
        let outcome = deliver(
            &servicenow,
            oauth(&server.uri(), &private),
            push(json!({"short_description": "x"}), Value::Null),
        )
        .await;
        assert_eq!(
            delivered(outcome),
            handles(&server, "incident", "INC0010001")
        );
    }
}

#[tokio::test]
async fn oauth_signs_with_an_encrypted_key_and_its_password() {
    let server = MockServer::start().await;
    let (private, public) = rsa_key();
    let encrypted = crate::jwt::tests::encrypt(&private, "KEY-PASSWORD-SECRET");
    mount_token_endpoint(&server, public, ACCESS_TOKEN, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/now/v2/table/incident"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .expect(1)
        .mount(&server)
        .await;
    let mut account = oauth(&server.uri(), &encrypted);
    account
        .secrets
        .insert("privateKeyPassword".into(), json!("KEY-PASSWORD-SECRET"));
    let outcome = deliver(
        &connector(Flavour::Itsm),
        account,
        push(json!({"short_description": "x"}), Value::Null),
    )
    .await;
    assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
    let mut wrong = oauth(&server.uri(), &encrypted);
    wrong
        .secrets
        .insert("privateKeyPassword".into(), json!("nope"));
    let outcome = deliver(
        &connector(Flavour::Itsm),
        wrong,
        push(json!({"short_description": "x"}), Value::Null),
    )
    .await;
    assert_no_secret(&outcome, &["KEY-PASSWORD-SECRET", "nope"]);
    assert_eq!(
        permanent(outcome),
        (ErrorKind::InvalidConfig, "secrets.privateKeyPassword: the encrypted private key cannot be decrypted with the password given".into())
    );
}

#[tokio::test]
async fn a_401_drops_the_cached_token_and_tries_once_more_with_a_new_one() {
    let server = MockServer::start().await;
    let (private, public) = rsa_key();
    let servicenow = connector(Flavour::Itsm);
    let params = || push(json!({"short_description": "x"}), Value::Null);
    // First delivery caches token "old".
    mount_token_endpoint(&server, public.clone(), "old", 1).await;
    Mock::given(method("POST"))
        .and(header("authorization", "Bearer old"))
        .and(path("/api/now/v2/table/incident"))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        deliver(&servicenow, oauth(&server.uri(), &private), params()).await,
        Outcome::Delivered { .. }
    ));
    // The instance revokes it: the cached token is refused, a new one works.
    server.reset().await;
    mount_token_endpoint(&server, public.clone(), "new", 1).await;
    Mock::given(method("POST"))
        .and(header("authorization", "Bearer old"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "User Not Authenticated"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header("authorization", "Bearer new"))
        .and(path("/api/now/v2/table/incident"))
        .respond_with(ResponseTemplate::new(201).set_body_json(record("INC0010001", "1")))
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        deliver(&servicenow, oauth(&server.uri(), &private), params()).await,
        Outcome::Delivered { .. }
    ));
    server.verify().await;
    // A fresh token refused too: authentication fails for good, and the
    // token is not kept.
    server.reset().await;
    mount_token_endpoint(&server, public, "newer", 2).await;
    Mock::given(method("POST"))
        .and(path("/api/now/v2/table/incident"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "User Not Authenticated"}})),
        )
        .mount(&server)
        .await;
    let (kind, reason) =
        permanent(deliver(&servicenow, oauth(&server.uri(), &private), params()).await);
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::Auth,
            "ServiceNow answered 401: User Not Authenticated"
        )
    );
    permanent(deliver(&servicenow, oauth(&server.uri(), &private), params()).await);
}

#[tokio::test]
async fn a_refused_token_request_is_an_auth_failure_with_servicenows_words() {
    let server = MockServer::start().await;
    let (private, _) = rsa_key();
    Mock::given(method("POST"))
        .and(path("/oauth_token.do"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error_description": "access_denied", "error": "server_error"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &connector(Flavour::Itsm),
        oauth(&server.uri(), &private),
        push(json!({"short_description": "x"}), Value::Null),
    )
    .await;
    assert_eq!(
        permanent(outcome),
        (
            ErrorKind::Auth,
            "ServiceNow's OAuth token endpoint answered 401: server_error; access_denied".into()
        )
    );
}

// ------------------------------------------------------------- errors

#[tokio::test]
async fn error_statuses_classify_with_servicenows_detail() {
    let server = MockServer::start().await;
    let servicenow = connector(Flavour::Itsm);
    let error = json!({"error": {"message": "Operation Failed", "detail": "ACL Exception Insert Failed due to security constraints"}, "status": "failure"});
    let cases = [
        (
            ResponseTemplate::new(400).set_body_json(&error),
            "permanent VendorRejected ServiceNow answered 400: Operation Failed: ACL Exception Insert Failed due to security constraints",
        ),
        (
            ResponseTemplate::new(403).set_body_json(&error),
            "permanent Auth ServiceNow answered 403: Operation Failed: ACL Exception Insert Failed due to security constraints",
        ),
        (
            ResponseTemplate::new(429).insert_header("retry-after", "9"),
            "retry Throttled ServiceNow is rate limiting this account (429) 9s",
        ),
        (
            ResponseTemplate::new(500).set_body_json(&error),
            "retry VendorTemporary ServiceNow answered 500: Operation Failed: ACL Exception Insert Failed due to security constraints -",
        ),
        (
            ResponseTemplate::new(200).set_body_string("<html>Instance hibernating</html>"),
            "retry VendorTemporary ServiceNow answered 200 without a result: the instance may be hibernating or not a ServiceNow instance -",
        ),
        (
            ResponseTemplate::new(201).set_body_json(json!({"result": {}})),
            "permanent VendorRejected ServiceNow answered 201 without the record's sys_id",
        ),
    ];
    for (answer, expected) in cases {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let outcome = deliver(
            &servicenow,
            basic("servicenow", &server.uri(), true),
            push(json!({"short_description": "x"}), Value::Null),
        )
        .await;
        let got = match outcome {
            Outcome::Permanent {
                kind,
                reason,
                response,
            } => {
                assert!(response.is_some());
                format!("permanent {kind:?} {reason}")
            }
            Outcome::Retry {
                kind,
                reason,
                after,
                ..
            } => {
                format!(
                    "retry {kind:?} {reason} {}",
                    after.map_or("-".into(), |a: Duration| format!("{}s", a.as_secs()))
                )
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(got, expected);
    }
}

#[test]
fn bad_params_and_accounts_name_the_field() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = "https://dev.service-now.com";
    let ok_params = push(json!({"short_description": "x"}), Value::Null);
    let cases = [
        // `/table/incident/..` is the whole table.
        (
            basic("servicenow", url, true),
            json!({"subAction": "getIncident", "subActionParams": {"externalId": ".."}}),
            ErrorKind::InvalidParams,
            "subActionParams.externalId: must not be . or ..",
        ),
        (
            basic("servicenow", url, true),
            push(
                json!({"short_description": "x", "externalId": "."}),
                Value::Null,
            ),
            ErrorKind::InvalidParams,
            "subActionParams.incident.externalId: must not be . or ..",
        ),
        (
            basic("servicenow", url, true),
            json!({"subAction": "closeIncident", "subActionParams": {"incident": {"externalId": ".."}}}),
            ErrorKind::InvalidParams,
            "subActionParams.incident.externalId: must not be . or ..",
        ),
        (
            basic("servicenow", url, true),
            json!({"subAction": "pushToService", "subActionParams": {"incident": {}}}),
            ErrorKind::InvalidParams,
            "subActionParams.incident.short_description: required",
        ),
        (
            basic("servicenow", url, true),
            push(
                json!({"short_description": "x", "dest_ip": "1.1.1.1"}),
                Value::Null,
            ),
            ErrorKind::InvalidParams,
            "subActionParams.incident.dest_ip: unknown field",
        ),
        (
            basic("servicenow", url, true),
            push(
                json!({"short_description": "x", "additional_fields": "[1]"}),
                Value::Null,
            ),
            ErrorKind::InvalidParams,
            "subActionParams.incident.additional_fields: must be an object or a string holding a JSON object",
        ),
        (
            basic("servicenow", url, true),
            push(
                json!({"short_description": "x"}),
                json!([{"commentId": "1"}]),
            ),
            ErrorKind::InvalidParams,
            "subActionParams.comments[0].comment: required",
        ),
        (
            basic("servicenow", url, true),
            close(json!({})),
            ErrorKind::InvalidParams,
            "subActionParams.incident.externalId: required when correlation_id is absent",
        ),
        (
            basic("servicenow", url, true),
            json!({"subAction": "addEvent"}),
            ErrorKind::InvalidParams,
            "subAction: must be pushToService, getIncident, getFields, handshake, getChoices or closeIncident",
        ),
        (
            account(
                "servicenow",
                json!({"apiUrl": url}),
                json!({"username": "admin"}),
            ),
            ok_params.clone(),
            ErrorKind::InvalidConfig,
            "secrets.password: required",
        ),
        (
            account(
                "servicenow",
                json!({"apiUrl": "not a url"}),
                json!({"username": "admin", "password": PASSWORD}),
            ),
            ok_params.clone(),
            ErrorKind::InvalidConfig,
            "config.apiUrl: must be an absolute http(s) URL",
        ),
        (
            account(
                "servicenow",
                json!({"apiUrl": url, "isOAuth": true, "clientId": "c", "jwtKeyId": "k", "userIdentifierValue": "u"}),
                json!({"clientSecret": CLIENT_SECRET}),
            ),
            ok_params.clone(),
            ErrorKind::InvalidConfig,
            "secrets.privateKey: required",
        ),
        (
            account(
                "servicenow",
                json!({"apiUrl": url, "isOAuth": true, "clientId": "c", "jwtKeyId": "k", "userIdentifierValue": "u"}),
                json!({"clientSecret": CLIENT_SECRET, "privateKey": "-----BEGIN PRIVATE KEY-----\nPRIVATE KEY SECRET\n-----END PRIVATE KEY-----"}),
            ),
            ok_params.clone(),
            ErrorKind::InvalidConfig,
            "secrets.privateKey: not a PEM RSA private key (PKCS#1, or PKCS#8 encrypted or not)",
        ),
        (
            account(
                "servicenow-itom",
                json!({"apiUrl": url, "usesTableApi": false}),
                json!({"username": "admin", "password": PASSWORD}),
            ),
            ok_params,
            ErrorKind::InvalidConfig,
            "config.usesTableApi: unknown field",
        ),
    ];
    for (account, params, kind, reason) in cases {
        let flavour = match account.connector_type.as_str() {
            "servicenow-itom" => Flavour::Itom,
            _ => Flavour::Itsm,
        };
        let outcome = runtime.block_on(deliver(&connector(flavour), account, params));
        assert_eq!(permanent(outcome), (kind, reason.to_owned()));
    }
}

#[tokio::test]
async fn no_outcome_shows_a_secret() {
    let server = MockServer::start().await;
    let (private, public) = rsa_key();
    let key_body = private.lines().nth(1).unwrap().to_owned();
    let servicenow = connector(Flavour::Itsm);
    let operations = [
        push(
            json!({"short_description": "x"}),
            json!([{"comment": "c", "commentId": "1"}]),
        ),
        close(json!({"correlation_id": "r:a"})),
        json!({"subAction": "getIncident", "subActionParams": {"externalId": SYS_ID}}),
    ];
    for answer in answers() {
        for params in &operations {
            for account in [
                basic("servicenow", &server.uri(), true),
                basic("servicenow", &server.uri(), false),
                oauth(&server.uri(), &private),
            ] {
                server.reset().await;
                mount_token_endpoint(&server, public.clone(), ACCESS_TOKEN, 0..=1).await;
                Mock::given(wiremock::matchers::path_regex("^/api/"))
                    .respond_with(answer.clone())
                    .mount(&server)
                    .await;
                let outcome = deliver(&servicenow, account, params.clone()).await;
                assert_no_secret(&outcome, &[&key_body, BASIC]);
            }
        }
    }
}

/// A resolve's follow-up, from the firing's `sys_id` handle: the firing's
/// incident is read and closed by its sys_id, not looked up by
/// correlation id (which would close the newest incident with it).
#[tokio::test]
async fn a_resolve_follow_up_closes_the_firing_incident_by_sys_id() {
    use herald_catalog::alert::{AlertPhase, AlertView};
    let spec = crate::catalog().get("servicenow").unwrap();
    let alert = AlertView::sample(AlertPhase::Resolved);
    let opened = std::collections::BTreeMap::from([("sys_id".to_owned(), SYS_ID.to_owned())]);
    let params = (spec.extras.follow_up.unwrap())(
        (spec.extras.alert_params.unwrap())(&alert, &serde_json::Map::new()),
        &alert,
        &opened,
    );
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .and(header("authorization", BASIC))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "2")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/now/v2/table/incident"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/now/v2/table/incident/{SYS_ID}")))
        .and(body_json(json!({"state": "7", "close_code": "Closed/Resolved by Caller", "close_notes": "Closed by Caller"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(record("INC0010001", "7")))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &connector(Flavour::Itsm),
        basic("servicenow", &server.uri(), true),
        Value::Object(params),
    )
    .await;
    assert_eq!(
        delivered(outcome),
        handles(&server, "incident", "INC0010001")
    );
}
