//! Events about an alert: its record in `herald_alerts`, repeats recorded
//! as suppressed, the resolve following what the firing opened, acks, and
//! two ingest replicas given the same alert.

use herald_proto::v1;
use prost::Message;
use serde_json::{Value, json};

use crate::helpers::*;

fn alert_event(key: &str, status: &str) -> Value {
    json!({
        "alert": {
            "key": key,
            "status": status,
            "severity": "critical",
            "summary": "Disk full on db-1",
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
        },
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "{{alert.status}}: {{alert.summary}} ({{alert.labels.instance}})"}},
            {"account_id": "ops-pd", "params": {"eventAction": "trigger", "summary": "{{alert.summary}}", "dedupKey": "{{alert.key}}"}},
        ],
    })
}

async fn post(app: &TestApp, body: &Value) -> Value {
    let response = app.post_event(Some(PRODUCER), body).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

fn states(body: &Value) -> Vec<&str> {
    body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The action requests stored for one connector type, decoded.
async fn requests(app: &TestApp, connector_type: &str) -> Vec<v1::ActionRequest> {
    app.stored("HERALD_ACTIONS", &format!("herald.action.{connector_type}"))
        .await
        .iter()
        .map(|m| v1::ActionRequest::decode(m.payload.clone()).unwrap())
        .collect()
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.http_url(path))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_firing_is_sent_its_repeat_suppressed_and_its_resolve_follows_what_it_opened() {
    let app = TestApp::start().await;

    let fired = post(&app, &alert_event("disk-db-1", "firing")).await;
    assert_eq!(states(&fired), ["queued", "queued"]);
    let openers = ids(&fired);

    // Within the default repeat interval (4h): recorded, not sent.
    let repeat = post(&app, &alert_event("disk-db-1", "firing")).await;
    assert_eq!(states(&repeat), ["suppressed", "suppressed"]);
    let suppressed = ids(&repeat);
    assert_ne!(suppressed, openers);
    let (code, status) = get_json(&app, &format!("/v1/actions/{}", suppressed[0])).await;
    assert_eq!((code, status["state"].as_str()), (200, Some("suppressed")));

    let resolved = post(&app, &alert_event("disk-db-1", "resolved")).await;
    assert_eq!(states(&resolved), ["queued", "queued"]);

    // Two deliveries per type: the firing and the resolve; the repeat
    // never reached the stream.
    let slack = requests(&app, "slack").await;
    assert_eq!(slack.len(), 2);
    let (first, last) = (&slack[0], &slack[1]);
    assert_eq!(first.action_id, openers[0]);
    assert!(first.follows.is_empty());
    assert_eq!(
        first.params.as_ref().unwrap().fields["message"]
            .kind
            .clone()
            .unwrap(),
        prost_types::value::Kind::StringValue("firing: Disk full on db-1 (db-1)".into())
    );
    assert_eq!(last.follows, openers[0], "the resolve follows the firing");
    assert_eq!(
        last.alert.as_ref().unwrap().status,
        v1::AlertStatus::Resolved as i32
    );
    let pagerduty = requests(&app, "pagerduty").await;
    assert_eq!(pagerduty.len(), 2);
    assert_eq!(pagerduty[1].follows, openers[1]);

    let (code, alert) = get_json(&app, "/v1/alerts/disk-db-1").await;
    assert_eq!(code, 200);
    assert_eq!(alert["status"], "resolved");
    assert_eq!(
        (
            &alert["received"],
            &alert["delivered"],
            &alert["suppressed"]
        ),
        (&json!(3), &json!(4), &json!(2))
    );
    assert_eq!(alert["targets"][0]["opener_action_id"], openers[0]);
    assert_eq!(alert["targets"][1]["account_id"], "ops-pd");
    let history: Vec<&str> = alert["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["what"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["fired", "suppressed", "resolved"]);

    // A second resolve has nothing left to close.
    let again = post(&app, &alert_event("disk-db-1", "resolved")).await;
    assert_eq!(states(&again), ["suppressed", "suppressed"]);

    let (code, listed) = get_json(&app, "/v1/alerts").await;
    assert_eq!(code, 200);
    assert_eq!(listed["alerts"][0]["key"], "disk-db-1");
    let (_, open) = get_json(&app, "/v1/alerts?open=true").await;
    assert_eq!(open["alerts"], json!([]));
}

#[tokio::test]
async fn an_ack_is_recorded_and_a_resolved_alert_refuses_one() {
    let app = TestApp::start().await;
    post(&app, &alert_event("cpu-web-2", "firing")).await;

    let ack = |body: Value| {
        app.http
            .post(app.http_url("/v1/alerts/cpu-web-2/ack"))
            .bearer_auth(PRODUCER)
            .json(&body)
            .send()
    };
    let acked = ack(json!({"by": "alice"})).await.unwrap();
    assert_eq!(acked.status(), 200);
    let acked: Value = acked.json().await.unwrap();
    assert_eq!(acked["acknowledged"], true);
    assert_eq!(acked["acked_by"], "alice");

    let unknown_field = ack(json!({"who": "bob"})).await.unwrap();
    assert_eq!(unknown_field.status(), 400);

    // Over gRPC too.
    let state = app
        .grpc
        .clone()
        .get_alert(authed(
            PRODUCER,
            v1::GetAlertRequest {
                key: "cpu-web-2".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.record.unwrap().acked_by, "alice");

    post(&app, &alert_event("cpu-web-2", "resolved")).await;
    let refused = ack(json!({})).await.unwrap();
    assert_eq!(refused.status(), 409);
    let missing = app
        .http
        .post(app.http_url("/v1/alerts/no-such-alert/ack"))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let anonymous = app
        .http
        .get(app.http_url("/v1/alerts/cpu-web-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn two_replicas_given_the_same_alert_send_it_once() {
    let app = TestApp::start().await;
    let second =
        herald_ingest::Server::start(app.settings.clone(), herald_metrics::Metrics::default())
            .await
            .expect("a second ingest starts");
    let second_url = format!("http://{}/v1/events", second.http_addr);

    for round in 0..5 {
        let key = format!("flap-{round}");
        let body = alert_event(&key, "firing");
        let to_first = app.post_event(Some(PRODUCER), &body);
        let to_second = app
            .http
            .post(&second_url)
            .bearer_auth(PRODUCER)
            .json(&body)
            .send();
        let (a, b) = tokio::join!(to_first, to_second);
        let b = b.unwrap();
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (202, 202));
        let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
        let queued = [&a, &b]
            .iter()
            .flat_map(|body| states(body))
            .filter(|s| *s == "queued")
            .count();
        // Both may answer `queued` when they read the same revision: then
        // they gave the same ids, and JetStream kept one of each.
        if queued == 4 {
            assert_eq!(ids(&a), ids(&b));
        } else {
            assert_eq!(queued, 2, "round {round}: {a} {b}");
        }
    }
    let sent = requests(&app, "slack").await;
    assert_eq!(sent.len(), 5, "one notification per alert");
}

#[tokio::test]
async fn alert_blocks_and_routes_are_checked_and_named() {
    let app = TestApp::start().await;
    let app = &app;
    let refused = |body: Value| async move {
        let response = app.post_event(Some(PRODUCER), &body).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        body["error"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(refused(json!({"route": "r", "actions": []})).await, "alert");
    assert_eq!(
        refused(json!({"alert": {"status": "firing"}, "actions": [{"account_id": "ops-slack", "params": {"message": "x"}}]})).await,
        "alert.key"
    );
    assert!(
        refused(json!({"alert": {"key": "k", "status": "burning"}, "actions": [{"account_id": "ops-slack", "params": {"message": "x"}}]}))
            .await
            .starts_with("alert.status")
    );
    assert_eq!(
        refused(json!({"alert": {"key": "k", "starts_at": "yesterday"}, "actions": [{"account_id": "ops-slack", "params": {"message": "x"}}]})).await,
        "alert.starts_at"
    );
    assert_eq!(
        refused(json!({"alert": {"key": "k"}, "route": "no-such-route"})).await,
        "route"
    );
}

async fn put_route(app: &TestApp, route: v1::Route) {
    let url = app.registry.as_ref().expect("registry runs").url();
    let mut client = v1::route_registry_client::RouteRegistryClient::connect(url)
        .await
        .unwrap();
    client
        .put_route(authed(ADMIN, v1::PutRouteRequest { route: Some(route) }))
        .await
        .expect("route saved");
}

fn route_event(key: &str, status: &str, severity: &str) -> Value {
    json!({
        "route": "ops",
        "alert": {"key": key, "status": status, "summary": "Latency high", "labels": {"severity": severity}},
    })
}

#[tokio::test]
async fn a_route_adds_the_actions_whose_matchers_match_the_alert() {
    let app = TestApp::start().await;
    let params = |value: Value| {
        Some(herald_proto::json::json_to_struct(
            value.as_object().unwrap(),
        ))
    };
    put_route(
        &app,
        v1::Route {
            id: "ops".into(),
            name: "Operations".into(),
            actions: vec![
                v1::RouteAction {
                    account_id: "ops-slack".into(),
                    params: params(json!({"message": "{{alert.summary}} ({{alert.labels.severity}}) via {{alert.route}}"})),
                    ..Default::default()
                },
                v1::RouteAction {
                    account_id: "ops-pd".into(),
                    params: params(json!({"eventAction": "trigger", "summary": "{{alert.summary}}", "dedupKey": "{{alert.key}}"})),
                    resolved_params: params(json!({"eventAction": "resolve", "dedupKey": "{{alert.key}}"})),
                    r#match: [("severity".to_owned(), "critical|error".to_owned())].into(),
                },
            ],
            ..Default::default()
        },
    )
    .await;

    let warning = post(&app, &route_event("latency-1", "firing", "warning")).await;
    assert_eq!(warning["actions"].as_array().unwrap().len(), 1);
    assert_eq!(warning["actions"][0]["account_id"], "ops-slack");
    let slack = requests(&app, "slack").await;
    assert_eq!(
        slack[0].params.as_ref().unwrap().fields["message"].kind,
        Some(prost_types::value::Kind::StringValue(
            "Latency high (warning) via ops".into()
        ))
    );
    assert_eq!(slack[0].route, "ops");

    let critical = post(&app, &route_event("latency-2", "firing", "critical")).await;
    assert_eq!(critical["actions"].as_array().unwrap().len(), 2);
    let resolved = post(&app, &route_event("latency-2", "resolved", "critical")).await;
    assert_eq!(states(&resolved), ["queued", "queued"]);
    let pagerduty = requests(&app, "pagerduty").await;
    assert_eq!(pagerduty.len(), 2);
    let resolve = pagerduty[1].params.as_ref().unwrap();
    assert_eq!(
        resolve.fields["eventAction"].kind,
        Some(prost_types::value::Kind::StringValue("resolve".into())),
        "the resolved params of the route action"
    );
    assert_eq!(pagerduty[1].follows, pagerduty[0].action_id);

    // The alert's record names the route it came by.
    let (code, alert) = get_json(&app, "/v1/alerts/latency-1").await;
    assert_eq!((code, alert["route"].as_str()), (200, Some("ops")));
}

/// Grafana's webhook contact point payload, as its docs show it.
fn grafana(status: &str) -> Value {
    json!({
        "receiver": "herald",
        "status": status,
        "orgId": 1,
        "alerts": [{
            "status": status,
            "labels": {"alertname": "HighCPU", "severity": "critical", "instance": "web-2"},
            "annotations": {"summary": "CPU above 90% on web-2"},
            "startsAt": "2026-12-04T10:00:00Z",
            "endsAt": if status == "resolved" { "2026-12-04T10:20:00Z" } else { "0001-01-01T00:00:00Z" },
            "generatorURL": "http://grafana.example/alerting/grafana/abc/view",
            "fingerprint": "57c6d9296de2ad39",
            "dashboardURL": "http://grafana.example/d/xyz",
            "panelURL": "http://grafana.example/d/xyz?viewPanel=2",
            "values": {"B": 93.1},
        }],
        "groupLabels": {"alertname": "HighCPU"},
        "commonLabels": {"alertname": "HighCPU", "severity": "critical", "instance": "web-2"},
        "commonAnnotations": {"summary": "CPU above 90% on web-2"},
        "externalURL": "http://grafana.example/",
        "version": "1",
        "groupKey": "{}:{alertname=\"HighCPU\"}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1] HighCPU",
        "state": "alerting",
        "message": "CPU above 90%",
    })
}

#[tokio::test]
async fn producers_webhooks_arrive_on_their_route() {
    let app = TestApp::start().await;
    let params = |value: Value| {
        Some(herald_proto::json::json_to_struct(
            value.as_object().unwrap(),
        ))
    };
    put_route(
        &app,
        v1::Route {
            id: "ops".into(),
            name: "Operations".into(),
            actions: vec![v1::RouteAction {
                account_id: "ops-slack".into(),
                params: params(json!({"message": "{{alert.status}} {{alert.summary}} from {{alert.source}}: {{alert.source_url}}"})),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    let intake =
        |producer: &str, route: &str| app.http_url(&format!("/v1/intake/{producer}/{route}"));
    let send = |url: String, body: Value, token: Option<&'static str>| {
        let mut request = app.http.post(url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let fired = send(intake("grafana", "ops"), grafana("firing"), Some(PRODUCER))
        .await
        .unwrap();
    assert_eq!(fired.status(), 202);
    let fired: Value = fired.json().await.unwrap();
    let key = fired["alerts"][0]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("grafana-"), "{fired}");
    assert_eq!(fired["alerts"][0]["actions"][0]["state"], "queued");
    let resolved = send(
        intake("grafana", "ops"),
        grafana("resolved"),
        Some(PRODUCER),
    )
    .await
    .unwrap();
    let resolved: Value = resolved.json().await.unwrap();
    assert_eq!(
        resolved["alerts"][0]["key"],
        key.as_str(),
        "the same group, the same alert"
    );
    let slack = requests(&app, "slack").await;
    assert_eq!(slack.len(), 2);
    assert_eq!(
        slack[0].params.as_ref().unwrap().fields["message"].kind,
        Some(prost_types::value::Kind::StringValue(
            "firing CPU above 90% on web-2 from grafana: http://grafana.example/d/xyz?viewPanel=2"
                .into()
        ))
    );
    assert_eq!(slack[1].follows, slack[0].action_id);

    let unknown = send(
        intake("alertmanager", "nope"),
        grafana("firing"),
        Some(PRODUCER),
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    let anonymous = send(intake("alertmanager", "ops"), grafana("firing"), None)
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = send(
        intake("alertmanager", "ops"),
        json!({"version": "4", "alerts": [{"status": "burning"}]}),
        Some(PRODUCER),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "alerts[0].status", "{bad}");
}
