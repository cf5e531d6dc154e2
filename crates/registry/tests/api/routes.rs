//! Routes over real gRPC and REST, on SQLite and on PostgreSQL: CRUD with
//! versions, roles, every validation error naming its field, read-only
//! routes from HERALD_CONFIG, and the announcement on `herald.route.changed`.

use futures::StreamExt;
use herald_config::RouteDocument;
use herald_proto::v1::{self, route_registry_client::RouteRegistryClient};
use herald_registry::store::{AccountStore, StoredRoute};
use herald_test_support::{NatsServer, postgres_database};
use prost::Message;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::*;

async fn routes_client(url: &str) -> RouteRegistryClient<Channel> {
    RouteRegistryClient::new(
        Channel::from_shared(url.to_owned())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    )
}

fn doc(yaml: &str) -> RouteDocument {
    serde_yaml_ng::from_str(yaml).unwrap()
}

fn put_route(token: &str, route: v1::Route) -> tonic::Request<v1::PutRouteRequest> {
    authed(token, v1::PutRouteRequest { route: Some(route) })
}

fn get_route(token: &str, id: &str) -> tonic::Request<v1::GetRouteRequest> {
    authed(token, v1::GetRouteRequest { id: id.into() })
}

/// A server-log account `log` and a slack account `chat` to route to.
async fn with_accounts(r: &mut TestRegistry) {
    let log = account("log", "server-log", json!({}), json!({}));
    r.client.put_account(put(log)).await.unwrap();
    r.client
        .put_account(put(slack("chat", "https://hooks.slack.com/services/T/B/X")))
        .await
        .unwrap();
}

const OPS: &str = "
id: ops
name: Ops
throttle: 5m
repeat_interval: 2h
grouping: alert
actions:
  - account_id: log
    params: {message: '{{alert.summary}} on {{alert.labels.instance}}', level: warn}
    resolved_params: {message: 'resolved: {{alert.summary}}'}
    match: {severity: 'critical|error'}
  - account_id: chat
    params: {message: '{{alert.status}}: {{alert.summary}}'}
";

async fn crud_and_roles(database_url: Option<String>) {
    let mut r = TestRegistry::start_with(|s| {
        if let Some(url) = database_url {
            s.database_url = url;
        }
    })
    .await;
    with_accounts(&mut r).await;
    let mut routes = routes_client(&r.server.url()).await;

    let saved = routes
        .put_route(put_route(ADMIN, doc(OPS).to_proto()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((saved.version, saved.preconfigured), (1, false));
    assert!(saved.created_at.is_some());
    // Every reader role reads it; what was saved comes back.
    for token in [ADMIN, PRODUCER, SERVICE] {
        let got = routes
            .get_route(get_route(token, "ops"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(RouteDocument::from_proto(&got).unwrap(), doc(OPS));
        assert_eq!(got.version, 1);
    }
    // Producers and services do not write; nobody without a token reads.
    for token in [PRODUCER, SERVICE] {
        let denied = routes
            .put_route(put_route(token, doc(OPS).to_proto()))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
        let denied = routes
            .delete_route(authed(
                token,
                v1::DeleteRouteRequest {
                    id: "ops".into(),
                    version: 0,
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    let anonymous = routes
        .get_route(tonic::Request::new(v1::GetRouteRequest {
            id: "ops".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // Versions: a matching one replaces, a stale one is ABORTED, 0 always replaces.
    let mut next = doc(OPS).to_proto();
    next.name = "Ops, renamed".into();
    next.version = 1;
    let v2 = routes
        .put_route(put_route(ADMIN, next.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((v2.version, v2.name.as_str()), (2, "Ops, renamed"));
    assert_eq!(v2.created_at, saved.created_at);
    let stale = routes
        .put_route(put_route(ADMIN, next.clone()))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    next.version = 0;
    assert_eq!(
        routes
            .put_route(put_route(ADMIN, next))
            .await
            .unwrap()
            .into_inner()
            .version,
        3
    );

    // Listing pages by id.
    for id in ["a-route", "z-route"] {
        let mut d = doc(OPS);
        d.id = id.into();
        routes
            .put_route(put_route(ADMIN, d.to_proto()))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = routes
            .list_routes(authed(
                PRODUCER,
                v1::ListRoutesRequest {
                    page_size: 2,
                    page_token,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.routes.len() <= 2);
        seen.extend(page.routes.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ["a-route", "ops", "z-route"]);

    // Delete: a stale version is ABORTED, then it is gone.
    let stale = routes
        .delete_route(authed(
            ADMIN,
            v1::DeleteRouteRequest {
                id: "ops".into(),
                version: 1,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    routes
        .delete_route(authed(
            ADMIN,
            v1::DeleteRouteRequest {
                id: "ops".into(),
                version: 3,
            },
        ))
        .await
        .unwrap();
    let gone = routes.get_route(get_route(ADMIN, "ops")).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(gone.message(), "route ops does not exist");
    let gone = routes
        .delete_route(authed(
            ADMIN,
            v1::DeleteRouteRequest {
                id: "ops".into(),
                version: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    r.server.stop().await.unwrap();
}

#[tokio::test]
async fn routes_on_sqlite() {
    crud_and_roles(None).await;
}

#[tokio::test]
async fn routes_on_postgres() {
    let Some(db) = postgres_database().await else {
        eprintln!("PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)");
        return;
    };
    crud_and_roles(Some(db.url().to_owned())).await;
}

async fn store_conformance(store: AccountStore) {
    let row = |id: &str, version: i64| StoredRoute {
        id: id.into(),
        name: format!("{id} name"),
        definition: r#"{"actions":[]}"#.into(),
        version,
        created_at: 1_700_000_000_123,
        updated_at: 1_700_000_000_456 + version,
    };
    assert_eq!(store.get_route("a").await.unwrap(), None);
    assert!(store.insert_route(&row("a", 1)).await.unwrap());
    assert!(
        !store.insert_route(&row("a", 1)).await.unwrap(),
        "an id is taken once"
    );
    assert_eq!(store.get_route("a").await.unwrap(), Some(row("a", 1)));
    for id in ["c", "b"] {
        assert!(store.insert_route(&row(id, 1)).await.unwrap());
    }
    let ids = |rows: Vec<StoredRoute>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_routes("", 2).await.unwrap()), ["a", "b"]);
    assert_eq!(ids(store.list_routes("b", 10).await.unwrap()), ["c"]);
    assert!(
        !store.update_route(&row("a", 3), 2).await.unwrap(),
        "stale version"
    );
    assert!(store.update_route(&row("a", 2), 1).await.unwrap());
    assert_eq!(store.get_route("a").await.unwrap(), Some(row("a", 2)));
    assert!(!store.delete_route("a", 1).await.unwrap(), "stale version");
    assert!(store.delete_route("a", 2).await.unwrap());
    assert_eq!(store.get_route("a").await.unwrap(), None);
}

#[tokio::test]
async fn the_route_store_conforms_on_sqlite_and_postgres() {
    store_conformance(AccountStore::connect("sqlite::memory:").await.unwrap()).await;
    match postgres_database().await {
        Some(db) => store_conformance(AccountStore::connect(db.url()).await.unwrap()).await,
        None => eprintln!(
            "PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)"
        ),
    }
}

/// The INVALID_ARGUMENT message of putting `yaml`.
async fn refused(routes: &mut RouteRegistryClient<Channel>, route: v1::Route) -> String {
    let status = routes.put_route(put_route(ADMIN, route)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status.message().to_owned()
}

#[tokio::test]
async fn every_validation_error_names_its_field() {
    let mut r = TestRegistry::start_with(|s| {
        s.config.policy.enabled_connector_types = vec![
            "server-log".into(),
            "slack".into(),
            "teams".into(),
            "tines".into(),
        ];
    })
    .await;
    with_accounts(&mut r).await;
    r.client
        .put_account(put(account(
            "card",
            "teams",
            json!({}),
            json!({"webhookUrl": "https://example.webhook.office.com/webhookb2/x"}),
        )))
        .await
        .unwrap();
    r.client
        .put_account(put(account(
            "story",
            "tines",
            json!({"url": "https://example.tines.com"}),
            json!({"email": "ops@example.com", "token": "tines-api-token"}),
        )))
        .await
        .unwrap();
    let mut routes = routes_client(&r.server.url()).await;
    let cases = [
        (
            "id: 'not an id'\nname: N\nactions: [{account_id: log, params: {message: m}}]",
            "id: must match",
        ),
        (
            "id: r\nname: ''\nactions: [{account_id: log, params: {message: m}}]",
            "name: required",
        ),
        (
            "id: r\nname: N\nactions: []",
            "actions: at least one action is required",
        ),
        (
            "id: r\nname: N\nactions: [{account_id: log, params: {message: m}}, {account_id: nobody, params: {message: m}}]",
            "actions[1].account_id: account nobody does not exist",
        ),
        (
            "id: r\nname: N\nactions: [{account_id: log, params: {message: m}, match: {severity: '(crit'}}]",
            "actions[0].match.severity: not a regular expression",
        ),
        (
            "id: r\nname: N\nthrottle: 400d\nactions: [{account_id: log, params: {message: m}}]",
            "throttle: must be at most 366d",
        ),
        (
            "id: r\nname: N\nrepeat_interval: 367d\nactions: [{account_id: log, params: {message: m}}]",
            "repeat_interval: must be at most 366d",
        ),
        // Renders, but the type refuses the result.
        (
            "id: r\nname: N\nactions: [{account_id: log, params: {message: m, level: '{{alert.labels.job}}'}}]",
            "actions[0].params.level",
        ),
        (
            "id: r\nname: N\nactions: [{account_id: log, params: {level: info}}]",
            "actions[0].params.message: required",
        ),
        // A template that does not parse.
        (
            "id: r\nname: N\nactions: [{account_id: chat, params: {message: '{{#alert}}'}}]",
            "actions[0].params.message",
        ),
        // Only the resolved params are wrong.
        (
            "id: r\nname: N\nactions: [{account_id: log, params: {message: m}, resolved_params: {nope: 1}}]",
            "actions[0].resolved_params.nope",
        ),
        // No params and no default rendering.
        (
            "id: r\nname: N\nactions: [{account_id: story}]",
            "actions[0].params: required: connector type tines has no default alert rendering",
        ),
    ];
    for (yaml, expected) in cases {
        let message = refused(&mut routes, doc(yaml).to_proto()).await;
        assert!(
            message.contains(expected),
            "{yaml}\n=> {message}\n(expected {expected})"
        );
    }
    // Only the protobuf can say these.
    let mut route =
        doc("id: r\nname: N\nactions: [{account_id: log, params: {message: m}}]").to_proto();
    route.throttle = Some(prost_types::Duration {
        seconds: -5,
        nanos: 0,
    });
    route.grouping = 7;
    let message = refused(&mut routes, route).await;
    assert!(
        message.contains("throttle: must not be negative"),
        "{message}"
    );
    assert!(message.contains("grouping: unknown value 7"), "{message}");
    // A type the policy disables, though its account exists.
    let restarted = r
        .restart(|s| s.config.policy.enabled_connector_types = vec!["server-log".into()])
        .await;
    let mut routes = routes_client(&restarted.server.url()).await;
    let message = refused(
        &mut routes,
        doc("id: r\nname: N\nactions: [{account_id: card, params: {text: t}}]").to_proto(),
    )
    .await;
    assert!(
        message.contains("actions[0].account_id: connector type teams is disabled by policy"),
        "{message}"
    );
    // Nothing refused was stored.
    let gone = routes.get_route(get_route(ADMIN, "r")).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

const CONFIG: &str = "
preconfigured:
  fixed-log: {name: Fixed log, connector_type: server-log}
routes:
  fixed:
    name: Fixed
    throttle: 10m
    actions:
      - account_id: fixed-log
        params: {message: '{{alert.summary}}'}
";

#[tokio::test]
async fn preconfigured_routes_are_read_only_and_checked_at_start() {
    let config = herald_config::parse(CONFIG, &|_| None).unwrap();
    let mut r = TestRegistry::start_with(|s| s.config = config.clone()).await;
    with_accounts(&mut r).await;
    let mut routes = routes_client(&r.server.url()).await;
    let fixed = routes
        .get_route(get_route(PRODUCER, "fixed"))
        .await
        .unwrap()
        .into_inner();
    assert!(fixed.preconfigured);
    assert_eq!(fixed.throttle.unwrap().seconds, 600);
    // Listed with the stored ones, by id.
    let mut stored = doc(OPS);
    stored.id = "a-first".into();
    routes
        .put_route(put_route(ADMIN, stored.to_proto()))
        .await
        .unwrap();
    let list = routes
        .list_routes(authed(ADMIN, v1::ListRoutesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = list
        .routes
        .iter()
        .map(|r| (r.id.as_str(), r.preconfigured))
        .collect();
    assert_eq!(ids, [("a-first", false), ("fixed", true)]);
    // Neither changed nor deleted.
    let mut change = fixed.clone();
    change.name = "Changed".into();
    let refused = routes
        .put_route(put_route(ADMIN, change))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let refused = routes
        .delete_route(authed(
            ADMIN,
            v1::DeleteRouteRequest {
                id: "fixed".into(),
                version: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    r.server.stop().await.unwrap();

    // A route naming an account that does not exist stops the registry.
    let broken = herald_config::parse(
        &CONFIG.replace("account_id: fixed-log", "account_id: ghost"),
        &|_| None,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.config = broken;
    let error = herald_registry::Server::start(settings)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        error,
        "HERALD_CONFIG: routes.fixed.actions[0].account_id: account ghost does not exist"
    );
    // And bad keys or values stop it earlier, where HERALD_CONFIG is read.
    let err = herald_config::parse(&CONFIG.replace("throttle: 10m", "throtle: 10m"), &|_| None)
        .unwrap_err();
    assert_eq!(err.0, "yaml");
    assert!(err.1.contains("unknown field `throtle`"), "{err:?}");
    let err = herald_config::parse(&CONFIG.replace("throttle: 10m", "throttle: ten"), &|_| None)
        .unwrap_err();
    assert!(err.1.contains("`ten` is not a duration"), "{err:?}");
    let err = herald_config::parse(
        &CONFIG.replace("params:", "match: {severity: '['}\n        params:"),
        &|_| None,
    )
    .unwrap_err();
    assert_eq!(err.0, "routes.fixed.actions[0].match.severity", "{err:?}");
}

#[tokio::test]
async fn changes_are_announced_on_route_changed() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut changes = client.subscribe("herald.route.changed").await.unwrap();
    client.flush().await.unwrap();
    let url = nats.url();
    let mut r = TestRegistry::start_with(|s| s.nats_url = Some(url)).await;
    with_accounts(&mut r).await;
    let mut routes = routes_client(&r.server.url()).await;
    routes
        .put_route(put_route(ADMIN, doc(OPS).to_proto()))
        .await
        .unwrap();
    routes
        .delete_route(authed(
            ADMIN,
            v1::DeleteRouteRequest {
                id: "ops".into(),
                version: 0,
            },
        ))
        .await
        .unwrap();
    for (version, deleted) in [(1, false), (1, true)] {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), changes.next())
            .await
            .expect("announced")
            .unwrap();
        let changed = v1::RouteChanged::decode(message.payload).unwrap();
        assert_eq!(
            changed,
            v1::RouteChanged {
                id: "ops".into(),
                version,
                deleted
            }
        );
    }
}

#[tokio::test]
async fn rest_routes_end_to_end() {
    let mut r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    with_accounts(&mut r).await;
    let base = r.server.http_url().unwrap();
    let http = reqwest::Client::new();
    let body = json!({
        "name": "Ops",
        "throttle": "5m",
        "actions": [{"account_id": "log", "params": {"message": "{{alert.summary}}"},
                     "match": {"severity": "critical"}}],
    });
    let created = http
        .put(format!("{base}/v1/routes/ops"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["throttle"], "5m");
    assert_eq!(created["repeat_interval"], "4h");
    assert_eq!(created["grouping"], "group");
    assert_eq!(created["version"], 1);
    assert_eq!(created["preconfigured"], false);
    let mut again = body.clone();
    again["version"] = json!(1);
    again["grouping"] = json!("alert");
    let replaced = http
        .put(format!("{base}/v1/routes/ops"))
        .bearer_auth(ADMIN)
        .json(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    let stale = http
        .put(format!("{base}/v1/routes/ops"))
        .bearer_auth(ADMIN)
        .json(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);

    let got: Value = http
        .get(format!("{base}/v1/routes/ops"))
        .bearer_auth(PRODUCER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (got["version"].as_i64(), got["grouping"].as_str()),
        (Some(2), Some("alert"))
    );
    assert_eq!(got["actions"][0]["match"]["severity"], "critical");
    let list: Value = http
        .get(format!("{base}/v1/routes?page_size=10"))
        .bearer_auth(SERVICE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["routes"][0]["id"], "ops");
    assert_eq!(list["next_page_token"], "");

    // Errors: ingest's body, naming the field.
    let error = |status: u16, field: &str, response: reqwest::Response| {
        let field = field.to_owned();
        async move {
            assert_eq!(response.status(), status);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["field"], field.as_str(), "{body}");
            body
        }
    };
    let mut bad = body.clone();
    bad["actions"][0]["params"] = json!({"message": "m", "level": "{{alert.labels.job}}"});
    let response = http
        .put(format!("{base}/v1/routes/bad"))
        .bearer_auth(ADMIN)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body400 = error(400, "actions[0].params.level", response).await;
    assert_eq!(body400["error"]["code"], "invalid_argument");
    let mut bad = body.clone();
    bad["throttle"] = json!("soon");
    let response = http
        .put(format!("{base}/v1/routes/bad"))
        .bearer_auth(ADMIN)
        .json(&bad)
        .send()
        .await
        .unwrap();
    error(400, "throttle", response).await;
    let mut bad = body.clone();
    bad["actions"][0]["mach"] = json!({});
    let response = http
        .put(format!("{base}/v1/routes/bad"))
        .bearer_auth(ADMIN)
        .json(&bad)
        .send()
        .await
        .unwrap();
    error(400, "actions[0].mach", response).await;
    let response = http
        .put(format!("{base}/v1/routes/ops"))
        .bearer_auth(PRODUCER)
        .json(&body)
        .send()
        .await
        .unwrap();
    error(403, "", response).await;
    let response = http
        .get(format!("{base}/v1/routes?size=1"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    error(400, "size", response).await;

    let deleted = http
        .delete(format!("{base}/v1/routes/ops?version=2"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let response = http
        .get(format!("{base}/v1/routes/ops"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    error(404, "", response).await;
}
