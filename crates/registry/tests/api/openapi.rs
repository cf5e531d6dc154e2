//! The OpenAPI document: served as checked in, and in step with the router
//! both ways (every documented route is routed, every route in the router's
//! source is documented), with the native answers carrying the fields it
//! says they always have.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::*;

const CHECKED_IN: &str = include_str!("../../openapi.json");
const METHODS: &[&str] = &["get", "put", "post", "delete"];

fn document() -> Value {
    serde_json::from_str(CHECKED_IN).expect("openapi.json is JSON")
}

/// `(METHOD, path)` of every operation the document describes.
fn documented() -> BTreeSet<(String, String)> {
    let doc = document();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(*method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// `(METHOD, path)` of every `.route("path", get(..).put(..))` in the
/// registry's HTTP sources: what the router serves, read where it is written.
fn routed() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // The console's pages (`src/http/console/`) are HTML, not REST API.
        if path.is_dir() {
            continue;
        }
        let source = std::fs::read_to_string(path).unwrap();
        for call in source.split(".route(").skip(1) {
            let call = call.trim_start();
            let Some(rest) = call.strip_prefix('"') else {
                continue;
            };
            let (path, rest) = rest.split_once('"').unwrap();
            // The method chain ends where the route(...) call does.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            let chain = &rest[..end];
            for method in METHODS {
                let named = chain.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || !chain[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if named {
                    found.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn the_route_scan_sees_every_surface() {
    // Guards the scan itself: an empty or broken scan would pass everything.
    let routes = routed();
    for route in [
        ("GET", "/v1/accounts"),
        ("DELETE", "/v1/accounts/{id}"),
        ("POST", "/api/actions/connector/{id}/_execute"),
        ("POST", "/_signals/account/_search"),
        ("GET", "/v1/openapi.json"),
    ] {
        assert!(
            routes.contains(&(route.0.to_owned(), route.1.to_owned())),
            "{route:?} not found in {routes:?}"
        );
    }
}

#[test]
fn every_route_is_documented_and_every_documented_route_exists() {
    let doc = document();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(routed(), documented());
    // Every reference resolves.
    let text = CHECKED_IN;
    for piece in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "$ref to a missing schema {name}"
        );
    }
}

#[tokio::test]
async fn the_served_document_is_the_checked_in_one_and_its_routes_answer() {
    let r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = r.server.http_url().expect("REST listener");
    let http = reqwest::Client::new();

    // No token needed: the document holds nothing secret.
    let served = http
        .get(format!("{base}/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        served.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let served: Value = served.json().await.unwrap();
    assert_eq!(served, document());

    // A route the router does not serve answers axum's empty 404 or 405;
    // every handler answers with a body (or 204). Each documented operation
    // reaches a handler.
    let unrouted = http
        .get(format!("{base}/v1/no-such-route"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(unrouted.status(), 404);
    assert!(unrouted.text().await.unwrap().is_empty());
    for (method, path) in documented() {
        let url = format!(
            "{base}{}",
            path.replace("{id}", "openapi-probe")
                .replace("{type}", "email")
        );
        let method: reqwest::Method = method.parse().unwrap();
        let mut request = http
            .request(method.clone(), &url)
            .bearer_auth(ADMIN)
            .header("kbn-xsrf", "true");
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(&json!({}));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status == 204 || !body.is_empty(),
            "{method} {path}: {status} with an empty body, so no handler answered"
        );
        assert_ne!(status, 405, "{method} {path}");
        let operation = &document()["paths"][&path][method.as_str().to_lowercase()];
        assert!(
            operation["responses"].get(status.as_str()).is_some(),
            "{method} {path}: answered {status}, which the document does not list: {body}"
        );
    }
}

/// The `required` keys of a component schema.
fn required(schema: &str) -> Vec<String> {
    document()["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

fn assert_has(schema: &str, value: &Value) {
    for key in required(schema) {
        assert!(value.get(&key).is_some(), "{schema}: no {key} in {value}");
    }
}

#[tokio::test]
async fn native_answers_carry_the_documented_fields() {
    let r =
        TestRegistry::start_with(|s| s.http_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let base = r.server.http_url().expect("REST listener");
    let http = reqwest::Client::new();
    let put = http
        .put(format!("{base}/v1/accounts/documented"))
        .bearer_auth(ADMIN)
        .json(&json!({"connector_type": "server-log", "name": "Documented"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    assert_has("Account", &put.json().await.unwrap());

    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .bearer_auth(PRODUCER)
            .send()
    };
    let account: Value = get("/v1/accounts/documented")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_has("Account", &account);
    let list: Value = get("/v1/accounts").await.unwrap().json().await.unwrap();
    assert_has("AccountList", &list);
    assert_has("Account", &list["accounts"][0]);
    let types: Value = get("/v1/connector-types")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_has("ConnectorTypeList", &types);
    for t in types["connector_types"].as_array().unwrap() {
        assert_has("ConnectorType", t);
    }
    let missing: Value = get("/v1/accounts/absent")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_has("Error", &missing);
    let inner = &document()["components"]["schemas"]["Error"]["properties"]["error"]["required"];
    for key in inner.as_array().unwrap() {
        let key = key.as_str().unwrap();
        assert!(
            missing["error"].get(key).is_some(),
            "no error.{key} in {missing}"
        );
    }
}
