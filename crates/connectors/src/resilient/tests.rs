use crate::delivery::testing::{account, delivered, delivery, outbound, permanent};
use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::Resilient;
use crate::delivery::testing::{assert_error_statuses, assert_secrets_hidden};

const SECRET: &str = "RESILIENT-KEY-SECRET";
/// `key-1:RESILIENT-KEY-SECRET`
const BASIC: &str = "Basic a2V5LTE6UkVTSUxJRU5ULUtFWS1TRUNSRVQ=";

fn resilient_account(url: &str) -> Account {
    account(
        "resilient",
        json!({"apiUrl": url, "orgId": "201"}),
        json!({"apiKeyId": "key-1", "apiKeySecret": SECRET}),
    )
}

async fn deliver(url: &str, params: Value) -> Outcome {
    Resilient
        .deliver(&delivery(resilient_account(url), params), &outbound())
        .await
}

fn push(incident: Value, comments: Value) -> Value {
    json!({"subAction": "pushToService", "subActionParams": {"incident": incident, "comments": comments}})
}

fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn push_creates_the_incident_then_comments() {
    let server = MockServer::start().await;
    let discovered_now = |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        body["discovered_date"]
            .as_i64()
            .is_some_and(|d| (now - 60_000..=now + 1000).contains(&d))
    };
    Mock::given(method("POST"))
        .and(path("/rest/orgs/201/incidents"))
        .and(query_param("text_content_output_format", "objects_convert"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({"name": "db-1 down", "description": {"format": "html", "content": "disk full"},
            "incident_type_ids": [{"id": 1001}, {"id": 16}], "severity_code": {"id": 6}, "plan_status": "A"})))
        .and(discovered_now)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 2101, "name": "db-1 down", "create_date": 1_700_000_000_000_i64})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/orgs/201/incidents/2101/comments"))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"text": {"format": "text", "content": "still down"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let params = push(
        json!({"name": "db-1 down", "description": "disk full", "incidentTypes": [1001, "16"], "severityCode": "6",
               "additionalFields": {"plan_status": "A"}}),
        json!([{"comment": "still down", "commentId": "c1"}]),
    );
    let url = format!("{}/#incidents/2101", server.uri());
    assert_eq!(
        delivered(deliver(&server.uri(), params).await),
        strings(&[("incident_id", "2101"), ("url", &url)])
    );
}

#[tokio::test]
async fn push_updates_with_changes_from_the_current_values() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/orgs/201/incidents/2101"))
        .and(header("authorization", BASIC))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 2101, "name": "old name",
            "description": {"format": "html", "content": "old text"}, "severity_code": 4})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/rest/orgs/201/incidents/2101"))
        .and(body_json(json!({"changes": [
            {"field": {"name": "description"}, "old_value": {"textarea": {"format": "html", "content": "old text"}}, "new_value": {"textarea": {"format": "html", "content": "new text"}}},
            {"field": {"name": "name"}, "old_value": {"text": "old name"}, "new_value": {"text": "new name"}},
            {"field": {"name": "severity_code"}, "old_value": {"id": 4}, "new_value": {"id": 6}},
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true, "title": null, "message": null, "hints": []})))
        .expect(1)
        .mount(&server)
        .await;
    let params = push(
        json!({"name": "new name", "description": "new text", "severityCode": 6, "externalId": "2101"}),
        Value::Null,
    );
    let url = format!("{}/#incidents/2101", server.uri());
    assert_eq!(
        delivered(deliver(&server.uri(), params).await),
        strings(&[("incident_id", "2101"), ("url", &url)])
    );
}

#[tokio::test]
async fn an_update_refused_inside_a_200_fails_with_its_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 2101, "name": "x"})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"success": false, "title": null,
            "message": "The incident was changed by another user", "hints": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server.uri(),
        push(json!({"name": "y", "externalId": "2101"}), Value::Null),
    )
    .await;
    assert_eq!(
        permanent(outcome),
        (ErrorKind::VendorRejected, "Resilient answered 200 but refused the request: The incident was changed by another user".into())
    );
}

#[tokio::test]
async fn lookups_read_incidents_and_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/orgs/201/incidents/2101"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 2101})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/orgs/201/types/incident/fields/severity_code"))
        .and(header("authorization", BASIC))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"values": [{"value": 4, "label": "Low"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = deliver(
        &server.uri(),
        json!({"subAction": "getIncident", "subActionParams": {"externalId": "2101"}}),
    )
    .await;
    assert_eq!(
        delivered(outcome)[0],
        ("incident_id".to_owned(), "2101".to_owned())
    );
    let Outcome::Delivered {
        response: Some(response),
        ..
    } = deliver(&server.uri(), json!({"subAction": "severity"})).await
    else {
        panic!()
    };
    assert!(response.body.contains("Low"));
}

#[tokio::test]
async fn error_statuses_and_secrets() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let params = push(
        json!({"name": "x"}),
        json!([{"comment": "c", "commentId": "1"}]),
    );
    assert_error_statuses(&server, "Resilient", || deliver(&uri, params.clone())).await;
    let update = push(json!({"name": "x", "externalId": "1"}), Value::Null);
    for params in [params, update] {
        assert_secrets_hidden(&server, &[SECRET, BASIC], || deliver(&uri, params.clone())).await;
    }
}

#[tokio::test]
async fn bad_params_name_the_field() {
    let cases = [
        (
            push(json!({}), Value::Null),
            "subActionParams.incident.name: required",
        ),
        (
            push(
                json!({"name": "x", "incidentTypes": ["malware"]}),
                Value::Null,
            ),
            "subActionParams.incident.incidentTypes: must be an array of numeric ids",
        ),
        (
            push(json!({"name": "x", "severityCode": "high"}), Value::Null),
            "subActionParams.incident.severityCode: must be a numeric id",
        ),
        (
            push(json!({"name": "x", "additionalFields": "[]"}), Value::Null),
            "subActionParams.incident.additionalFields: must be an object or a string holding a JSON object",
        ),
        (
            json!({"subAction": "closeIncident"}),
            "subAction: must be pushToService, getIncident, handshake, getFields, incidentTypes or severity",
        ),
        // `/incidents/..` is every incident of the organisation.
        (
            json!({"subAction": "getIncident", "subActionParams": {"externalId": ".."}}),
            "subActionParams.externalId: must not be . or ..",
        ),
        (
            push(json!({"name": "x", "externalId": ".."}), Value::Null),
            "subActionParams.incident.externalId: must not be . or ..",
        ),
    ];
    for (params, reason) in cases {
        assert_eq!(
            permanent(deliver("https://soar.example.com", params).await),
            (ErrorKind::InvalidParams, reason.to_owned())
        );
    }
}
