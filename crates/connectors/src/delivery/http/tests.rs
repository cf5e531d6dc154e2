//! `Outbound` against real servers on loopback: wiremock for plain HTTP, a
//! small rustls server for the TLS options.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use herald_proto::v1::ErrorKind;
use herald_test_support::TestPki;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use wiremock::matchers::{body_bytes, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::resolver::PolicyResolver;
use super::*;

fn policy(hosts: &[&str]) -> Policy {
    Policy {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..Policy::default()
    }
}

fn outbound(hosts: &[&str]) -> Outbound {
    Outbound::new(OutboundSettings::default(), policy(hosts)).unwrap()
}

fn account(config: Value, secrets: Value) -> Account {
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Account {
        id: "acc-1".into(),
        connector_type: "webhook".into(),
        name: "test".into(),
        version: 1,
        config: object(config),
        secrets: herald_catalog::SecretMap(object(secrets)),
    }
}

fn plain() -> Account {
    account(json!({}), json!({}))
}

fn get(url: impl Into<String>) -> HttpRequest {
    HttpRequest {
        method: http::Method::GET,
        url: url.into(),
        headers: vec![],
        body: None,
    }
}

/// No error may show the URL's path or query: they carry the secrets.
fn assert_no_url(error: &SendError) {
    for text in [error.to_string(), format!("{error:?}")] {
        for secret in ["secret-path", "SEKRIT", "token="] {
            assert!(!text.contains(secret), "{text:?} shows {secret}");
        }
    }
}

#[tokio::test]
async fn post_arrives_exactly_and_the_answer_comes_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T1/B2"))
        .and(header("content-type", "application/json"))
        .and(header("x-api-key", "k1"))
        .and(header(
            "user-agent",
            concat!("herald/", env!("CARGO_PKG_VERSION")),
        ))
        .and(body_bytes(br#"{"text":"disk full"}"#.to_vec()))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-request-id", "req-9")
                .set_body_string("created"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let request = HttpRequest::post_json(
        format!("{}/services/T1/B2", server.uri()),
        &json!({"text": "disk full"}),
    )
    .header("x-api-key", "k1");
    let response = outbound(&["127.0.0.1"])
        .send(&plain(), request)
        .await
        .unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.body, "created");
    assert_eq!(response.header("x-request-id"), Some("req-9"));
}

#[tokio::test]
async fn get_with_query_and_repeated_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/items"))
        .and(query_param("q", "a b"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"message":"nope"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let mut request = get(format!("{}/api/items?q=a%20b", server.uri()));
    request.headers = vec![
        ("accept".into(), "a/b".into()),
        ("accept".into(), "c/d".into()),
    ];
    let response = outbound(&["*", "127.0.0.1"])
        .send(&plain(), request)
        .await
        .unwrap();
    assert_eq!(response.status, 404, "any status is a response");
    assert_eq!(response.json().unwrap()["message"], "nope");
    let received = &server.received_requests().await.unwrap()[0];
    let accepts: Vec<_> = received.headers.get_all("accept").iter().collect();
    assert_eq!(accepts, ["a/b", "c/d"]);
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let settings = OutboundSettings {
        response_timeout: Duration::from_millis(200),
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(settings, policy(&["127.0.0.1"])).unwrap();
    let started = std::time::Instant::now();
    let error = outbound
        .send(
            &plain(),
            get(format!("{}/secret-path?token=SEKRIT", server.uri())),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Retry {
            kind: ErrorKind::Network,
            ..
        }
    ));
}

#[tokio::test]
async fn a_host_outside_the_policy_is_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let request = HttpRequest::post_json(
        format!("{}/secret-path?token=SEKRIT", server.uri()),
        &json!({}),
    );
    let error = outbound(&["hooks.slack.com"])
        .send(&plain(), request)
        .await
        .unwrap_err();
    let SendError::Policy { host } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(host, "127.0.0.1");
    assert_no_url(&error);
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::Policy,
            ..
        }
    ));
    // An empty list allows nothing, as in Kibana.
    let error = outbound(&[])
        .send(&plain(), get(server.uri()))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Policy { .. }));
}

#[tokio::test]
async fn a_redirect_outside_the_policy_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/secret-path"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", "http://evil.invalid/steal?token=SEKRIT"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = outbound(&["127.0.0.1"])
        .send(
            &plain(),
            get(format!("{}/secret-path?token=SEKRIT", server.uri())),
        )
        .await
        .unwrap_err();
    let SendError::Policy { host } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(host, "evil.invalid");
    assert_no_url(&error);
    assert!(!error.to_string().contains("steal"));
}

#[tokio::test]
async fn an_allowed_redirect_is_followed_without_a_referer() {
    let server = MockServer::start().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/end", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/end"))
        .respond_with(ResponseTemplate::new(200).set_body_string("done"))
        .expect(1)
        .mount(&server)
        .await;
    let response = outbound(&["127.0.0.1"])
        .send(
            &plain(),
            get(format!("{}/start?token=SEKRIT", server.uri())),
        )
        .await
        .unwrap();
    assert_eq!((response.status, &response.body[..]), (200, &b"done"[..]));
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| !r.headers.contains_key("referer")),
        "the previous URL must not travel to the next host"
    );
}

#[tokio::test]
async fn a_redirect_loop_stops() {
    let server = MockServer::start().await;
    Mock::given(path("/loop"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/loop", server.uri())),
        )
        .mount(&server)
        .await;
    let error = outbound(&["127.0.0.1"])
        .send(&plain(), get(format!("{}/loop", server.uri())))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::Connect(m) if m.contains("redirects")),
        "{error:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        MAX_REDIRECTS + 1
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_too_large() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 2000]))
        .mount(&server)
        .await;
    let settings = OutboundSettings {
        max_response_bytes: 1000,
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(settings, policy(&["127.0.0.1"])).unwrap();
    let error = outbound
        .send(
            &plain(),
            get(format!("{}/secret-path?token=SEKRIT", server.uri())),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, SendError::TooLarge { limit: 1000 }),
        "{error:?}"
    );
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::VendorRejected,
            ..
        }
    ));
    // Exactly at the cap is fine.
    let settings = OutboundSettings {
        max_response_bytes: 2000,
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(settings, policy(&["127.0.0.1"])).unwrap();
    let response = outbound.send(&plain(), get(server.uri())).await.unwrap();
    assert_eq!(response.body.len(), 2000);
}

/// A server that answers every request with a chunked body that never ends.
async fn endless_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("400\r\n{}\r\n", "y".repeat(0x400));
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    let addr = endless_server().await;
    let settings = OutboundSettings {
        max_response_bytes: 64 * 1024,
        response_timeout: Duration::from_secs(10),
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(settings, policy(&["127.0.0.1"])).unwrap();
    let error = outbound
        .send(&plain(), get(format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SendError::TooLarge { limit: 65536 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = outbound(&["127.0.0.1"])
        .send(
            &plain(),
            get(format!("http://{addr}/secret-path?token=SEKRIT")),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Connect(_)), "{error:?}");
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Retry {
            kind: ErrorKind::Network,
            ..
        }
    ));
}

#[tokio::test]
async fn an_unknown_host_is_a_connect_error() {
    let error = outbound(&["*"])
        .send(
            &plain(),
            get("http://herald-test.invalid/secret-path?token=SEKRIT"),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Connect(_)), "{error:?}");
    assert_no_url(&error);
}

#[tokio::test]
async fn unusable_requests_are_invalid() {
    let outbound = outbound(&["*"]);
    for url in [
        "not a url",
        "ftp://files.test/secret-path?token=SEKRIT",
        "/relative",
    ] {
        let error = outbound.send(&plain(), get(url)).await.unwrap_err();
        assert!(
            matches!(error, SendError::InvalidRequest(_)),
            "{url}: {error:?}"
        );
        assert_no_url(&error);
    }
    let request = get("http://vendor.test:9/secret-path?token=SEKRIT")
        .header("authorization", "Bearer SEKRIT\n");
    let error = outbound.send(&plain(), request).await.unwrap_err();
    assert!(matches!(error, SendError::InvalidRequest(_)), "{error:?}");
    assert!(error.to_string().contains("authorization"));
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::InvalidParams,
            ..
        }
    ));
}

#[tokio::test]
async fn the_account_proxy_carries_the_request() {
    // wiremock stands in for an HTTP proxy: it receives the absolute-form
    // request for the vendor's host.
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_body_string("via proxy"))
        .expect(1)
        .mount(&proxy)
        .await;
    let account = account(json!({"proxyUrl": proxy.uri()}), json!({}));
    // The account's proxy is a host the account points us to: listed like
    // the vendor's.
    let outbound = outbound(&["vendor.test", "127.0.0.1"]);
    let request = HttpRequest::post_json("http://vendor.test/hook", &json!({"a": 1}));
    let response = outbound.send(&account, request).await.unwrap();
    assert_eq!(response.body, "via proxy");
    let received = &proxy.received_requests().await.unwrap()[0];
    assert_eq!(received.url.host_str(), Some("vendor.test"));
}

#[tokio::test]
async fn the_global_proxy_carries_the_request_and_an_account_proxy_overrides_it() {
    let global = MockServer::start().await;
    let own = MockServer::start().await;
    for (server, name) in [(&global, "global"), (&own, "own")] {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(name))
            .mount(server)
            .await;
    }
    let settings = OutboundSettings {
        proxy: Some(global.uri()),
        ..OutboundSettings::default()
    };
    // The operator's proxy is trusted; the account's must be listed.
    let outbound = Outbound::new(settings, policy(&["vendor.test", "127.0.0.1"])).unwrap();
    let response = outbound
        .send(&plain(), get("http://vendor.test/x"))
        .await
        .unwrap();
    assert_eq!(response.body, "global");
    let mine = account(json!({"proxyUrl": own.uri()}), json!({}));
    let response = outbound
        .send(&mine, get("http://vendor.test/x"))
        .await
        .unwrap();
    assert_eq!(response.body, "own");
}

/// Kibana's proxyOnlyHosts, proxyBypassHosts and proxyHeaders: the
/// listed hosts go through the proxy (which alone sees the headers), the
/// others directly.
#[tokio::test]
async fn the_global_proxy_takes_only_or_bypass_hosts_and_its_own_headers() {
    let proxy = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("proxy"))
        .mount(&proxy)
        .await;
    let direct = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("direct"))
        .mount(&direct)
        .await;
    let only = OutboundSettings {
        proxy: Some(proxy.uri()),
        proxy_only_hosts: vec!["vendor.test".into()],
        proxy_headers: vec![("proxy-authorization".into(), "Basic eDp5".into())],
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(only, policy(&["vendor.test", "127.0.0.1"])).unwrap();
    let via = outbound
        .send(&plain(), get("http://vendor.test/x"))
        .await
        .unwrap();
    assert_eq!(via.body, "proxy");
    let received = &proxy.received_requests().await.unwrap()[0];
    assert_eq!(received.headers["proxy-authorization"], "Basic eDp5");
    let not_listed = outbound
        .send(&plain(), get(format!("{}/x", direct.uri())))
        .await
        .unwrap();
    assert_eq!(not_listed.body, "direct");
    assert!(
        direct.received_requests().await.unwrap()[0]
            .headers
            .get("proxy-authorization")
            .is_none()
    );

    let bypass = OutboundSettings {
        proxy: Some(proxy.uri()),
        proxy_bypass_hosts: vec!["127.0.0.1".into()],
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(bypass, policy(&["vendor.test", "127.0.0.1"])).unwrap();
    let bypassed = outbound
        .send(&plain(), get(format!("{}/x", direct.uri())))
        .await
        .unwrap();
    assert_eq!(bypassed.body, "direct");
    let via = outbound
        .send(&plain(), get("http://vendor.test/x"))
        .await
        .unwrap();
    assert_eq!(via.body, "proxy");
}

#[tokio::test]
async fn a_bad_proxy_url_is_invalid_config_without_its_credentials() {
    let account = account(
        json!({"proxyUrl": "ftp://user:SEKRIT@proxy.test:21"}),
        json!({}),
    );
    let error = outbound(&["*"])
        .send(&account, get("http://vendor.test/"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::InvalidConfig(m) if m.contains("config.proxyUrl")),
        "{error:?}"
    );
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::InvalidConfig,
            ..
        }
    ));
    let settings = OutboundSettings {
        proxy: Some("nonsense".into()),
        ..OutboundSettings::default()
    };
    assert!(matches!(
        Outbound::new(settings, Policy::default()),
        Err(OutboundError::Proxy(_))
    ));
}

#[tokio::test]
async fn through_the_operators_proxy_internal_targets_are_refused_by_name_and_ip() {
    // The proxy resolves the vendor's name itself, so Herald checks the
    // name (and IP literals); the operator's proxy on loopback is trusted.
    let proxy = receiver().await;
    let settings = OutboundSettings {
        proxy: Some(proxy.uri()),
        ..OutboundSettings::default()
    };
    let outbound = Outbound::new(settings, policy(&["*"])).unwrap();
    for url in [
        "http://localhost/x",
        "http://api.localhost/x",
        "http://127.0.0.1/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
    ] {
        let error = outbound.send(&plain(), get(url)).await.unwrap_err();
        assert!(
            matches!(error, SendError::Policy { .. }),
            "{url}: {error:?}"
        );
    }
    assert!(proxy.received_requests().await.unwrap().is_empty());
    let response = outbound
        .send(&plain(), get("http://vendor.test/x"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn an_unlisted_account_proxy_is_refused() {
    let proxy = MockServer::start().await;
    let account = account(json!({"proxyUrl": proxy.uri()}), json!({}));
    let error = outbound(&["*"])
        .send(&account, get("http://vendor.test/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::Policy { host } if host == "127.0.0.1"),
        "{error:?}"
    );
    assert!(proxy.received_requests().await.unwrap().is_empty());
}

// ---- internal addresses ----

/// A receiver that answers 200 to anything and must not be reached.
async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn every_form_of_an_internal_address_is_refused_under_star() {
    let server = receiver().await;
    let port = server.address().port();
    let outbound = outbound(&["*"]);
    for host in [
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "0x7f.1",
        "0.0.0.0",
        "LOCALHOST",
        "user@127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
        "[fe80::1]",
    ] {
        let url = format!("http://{host}:{port}/secret-path?token=SEKRIT");
        let error = outbound.send(&plain(), get(&url)).await.unwrap_err();
        assert!(
            matches!(error, SendError::Policy { .. }),
            "{host}: {error:?}"
        );
        assert!(error.to_string().contains("internal address"), "{error}");
        assert_no_url(&error);
        assert!(matches!(
            error.outcome(),
            Outcome::Permanent {
                kind: ErrorKind::Policy,
                ..
            }
        ));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn internal_hosts_listed_explicitly_are_reached() {
    let server = receiver().await;
    let port = server.address().port();
    // By IP, in any of its forms, and by a name that resolves to it.
    let outbound = outbound(&["*", "127.0.0.1", "localhost"]);
    for host in ["127.0.0.1", "2130706433", "0x7f.1", "LOCALHOST"] {
        let response = outbound
            .send(&plain(), get(format!("http://{host}:{port}/")))
            .await
            .unwrap_or_else(|e| panic!("{host}: {e:?}"));
        assert_eq!(response.status, 200, "{host}");
    }
    // A CIDR block.
    let response = outbound_cidr()
        .send(&plain(), get(server.uri()))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

fn outbound_cidr() -> Outbound {
    outbound(&["127.0.0.0/8"])
}

#[tokio::test]
async fn the_resolver_refuses_a_name_that_resolves_to_loopback() {
    use reqwest::dns::Resolve as _;
    let resolver = PolicyResolver {
        policy: Arc::new(policy(&["*"])),
        trusted: None,
    };
    let error = match resolver.resolve("localhost".parse().unwrap()).await {
        Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
        Err(error) => error,
    };
    let refused = error.downcast_ref::<LookupError>();
    assert!(
        matches!(refused, Some(LookupError::Internal(InternalAddress { host, ip })) if host == "localhost" && ip.is_loopback()),
        "{error:?}"
    );
    // Listing the name allows what it resolves to.
    let resolver = PolicyResolver {
        policy: Arc::new(policy(&["*", "localhost"])),
        trusted: None,
    };
    let addrs: Vec<_> = resolver
        .resolve("localhost".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    // The operator's proxy is resolved without the policy.
    let resolver = PolicyResolver {
        policy: Arc::new(policy(&["*"])),
        trusted: Some("localhost".into()),
    };
    assert!(resolver.resolve("localhost".parse().unwrap()).await.is_ok());
    // So is an IP literal when the SMTP client asks.
    let error = lookup_allowed(&policy(&["*"]), "127.0.0.1", 25)
        .await
        .unwrap_err();
    assert!(matches!(error, LookupError::Internal(_)), "{error:?}");
    let found = lookup_allowed(&policy(&["*", "::1"]), "[::1]", 25)
        .await
        .unwrap();
    assert_eq!(found, [SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 25))]);
}

#[tokio::test]
async fn a_refusal_by_the_resolver_is_a_policy_outcome() {
    // A public-looking name that resolves to loopback passes the check by
    // name; the resolver is what stops it. `localhost` stands in for such a
    // name here: the client is the one `Outbound` builds, asked directly,
    // without the check by name in front of it.
    let server = receiver().await;
    let client = client_builder(&OutboundSettings::default())
        .dns_resolver(Arc::new(PolicyResolver {
            policy: Arc::new(policy(&["*"])),
            trusted: None,
        }))
        .build()
        .unwrap();
    let error = client
        .get(format!("http://localhost:{}/", server.address().port()))
        .send()
        .await
        .map_err(errors::from_reqwest)
        .unwrap_err();
    assert!(
        matches!(&error, SendError::InternalAddress(InternalAddress { host, .. }) if host == "localhost"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("policy.allowed_hosts"),
        "{error}"
    );
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::Policy,
            ..
        }
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---- redirects across origins ----

/// Two origins: the same loopback address on two ports.
async fn two_origins() -> (MockServer, MockServer) {
    (MockServer::start().await, MockServer::start().await)
}

fn secret_post(url: String) -> HttpRequest {
    HttpRequest::post_json(url, &json!({"alert": "SEKRIT-BODY"}))
        .header("authorization", "Bearer SEKRIT-TOKEN")
        .header("x-secret", "SEKRIT-HEADER")
        .header("accept", "application/json")
}

#[tokio::test]
async fn a_cross_origin_redirect_drops_the_accounts_headers_and_body() {
    let (first, second) = two_origins().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/end", second.uri())),
        )
        .expect(1)
        .mount(&first)
        .await;
    Mock::given(path("/end"))
        .respond_with(ResponseTemplate::new(200).set_body_string("landed"))
        .expect(1)
        .mount(&second)
        .await;
    let response = outbound(&["127.0.0.1"])
        .send(&plain(), secret_post(format!("{}/start", first.uri())))
        .await
        .unwrap();
    assert_eq!(response.body, "landed");
    let received = &second.received_requests().await.unwrap()[0];
    // A 302 after POST is a GET, as browsers do; nothing of the account's
    // travels to the other origin.
    assert_eq!(received.method, http::Method::GET);
    assert!(received.body.is_empty());
    for name in ["authorization", "x-secret", "content-type"] {
        assert!(!received.headers.contains_key(name), "{name} followed");
    }
    assert_eq!(received.headers.get("accept").unwrap(), "application/json");
}

#[tokio::test]
async fn a_cross_origin_307_is_not_followed() {
    let (first, second) = two_origins().await;
    for status in [307, 308] {
        Mock::given(path(format!("/{status}")))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", format!("{}/end", second.uri())),
            )
            .mount(&first)
            .await;
        let error = outbound(&["127.0.0.1"])
            .send(&plain(), secret_post(format!("{}/{status}", first.uri())))
            .await
            .unwrap_err();
        assert!(
            matches!(error, SendError::CrossOriginRedirect { status: s, .. } if s == status),
            "{error:?}"
        );
        assert!(matches!(
            error.outcome(),
            Outcome::Permanent {
                kind: ErrorKind::Policy,
                ..
            }
        ));
    }
    assert!(second.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_same_origin_307_keeps_headers_and_body() {
    let server = MockServer::start().await;
    Mock::given(path("/old"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/new"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/new"))
        .and(header("x-secret", "SEKRIT-HEADER"))
        .and(body_bytes(br#"{"alert":"SEKRIT-BODY"}"#.to_vec()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    let response = outbound(&["127.0.0.1"])
        .send(&plain(), secret_post(format!("{}/old", server.uri())))
        .await
        .unwrap();
    assert_eq!(response.status, 201);
}

#[tokio::test]
async fn headers_dropped_on_leaving_the_origin_do_not_come_back() {
    let (first, second) = two_origins().await;
    Mock::given(path("/start"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/bounce", second.uri())),
        )
        .mount(&first)
        .await;
    Mock::given(path("/bounce"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/back", first.uri())),
        )
        .mount(&second)
        .await;
    Mock::given(path("/back"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&first)
        .await;
    let request = get(format!("{}/start", first.uri())).header("x-secret", "SEKRIT-HEADER");
    outbound(&["127.0.0.1"])
        .send(&plain(), request)
        .await
        .unwrap();
    let back = first
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/back")
        .unwrap();
    assert!(!back.headers.contains_key("x-secret"));
}

#[tokio::test]
async fn a_redirect_to_an_internal_address_is_refused() {
    let (first, second) = two_origins().await;
    // Allowed by name; the redirect names loopback by IP.
    Mock::given(path("/start"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("http://127.0.0.1:{}/steal", second.address().port()),
        ))
        .mount(&first)
        .await;
    let error = outbound(&["*", "localhost"])
        .send(
            &plain(),
            get(format!("http://localhost:{}/start", first.address().port())),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SendError::Policy { host } if host == "127.0.0.1"),
        "{error:?}"
    );
    assert_eq!(first.received_requests().await.unwrap().len(), 1);
    assert!(second.received_requests().await.unwrap().is_empty());
}

// ---- TLS ----

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn der_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(Result::unwrap)
        .collect()
}

/// An HTTPS server on loopback answering `200 ok` to each request. With
/// `client_ca`, it requires a client certificate signed by it.
async fn tls_server(cert_pem: &str, key_pem: &str, client_ca: Option<&str>) -> SocketAddr {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in der_certs(ca) {
                roots.add(cert).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots.into(),
                provider(),
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(
            der_certs(cert_pem),
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

fn tls_account(config: Value, secrets: Value) -> Account {
    account(config, secrets)
}

#[tokio::test]
async fn a_custom_ca_is_trusted_as_pem_or_base64() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue(&["localhost", "127.0.0.1"]);
    let addr = tls_server(&cert, &key, None).await;
    let outbound = outbound(&["127.0.0.1"]);
    let url = format!("https://{addr}/");

    let with_pem = tls_account(json!({"ca": pki.ca_pem()}), json!({}));
    let response = outbound.send(&with_pem, get(&url)).await.unwrap();
    assert_eq!((response.status, &response.body[..]), (200, &b"ok"[..]));

    let encoded = base64::engine::general_purpose::STANDARD.encode(pki.ca_pem());
    let mut with_base64 = tls_account(json!({"ca": encoded}), json!({}));
    with_base64.id = "acc-2".into();
    let response = outbound.send(&with_base64, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn an_unknown_issuer_is_a_tls_error() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue(&["127.0.0.1"]);
    let addr = tls_server(&cert, &key, None).await;
    let error = outbound(&["127.0.0.1"])
        .send(
            &plain(),
            get(format!("https://{addr}/secret-path?token=SEKRIT")),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");
    assert_no_url(&error);
    assert!(matches!(
        error.outcome(),
        Outcome::Permanent {
            kind: ErrorKind::InvalidConfig,
            ..
        }
    ));
}

#[tokio::test]
async fn verification_modes() {
    let pki = TestPki::new();
    // The certificate names another host than the one we connect to.
    let (cert, key) = pki.issue(&["other.test"]);
    let addr = tls_server(&cert, &key, None).await;
    let outbound = outbound(&["127.0.0.1"]);
    let url = format!("https://{addr}/");
    let mode = |id: &str, config: Value| {
        let mut account = tls_account(config, json!({}));
        account.id = id.into();
        account
    };

    let full = mode(
        "full",
        json!({"ca": pki.ca_pem(), "verificationMode": "full"}),
    );
    let error = outbound.send(&full, get(&url)).await.unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    // An unknown mode is the safe default.
    let odd = mode(
        "odd",
        json!({"ca": pki.ca_pem(), "verificationMode": "lenient"}),
    );
    let error = outbound.send(&odd, get(&url)).await.unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    let certificate = mode(
        "certificate",
        json!({"ca": pki.ca_pem(), "verificationMode": "certificate"}),
    );
    let response = outbound.send(&certificate, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);

    // `certificate` still checks the chain.
    let no_ca = mode("no-ca", json!({"verificationMode": "certificate"}));
    let error = outbound.send(&no_ca, get(&url)).await.unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    let none = mode("none", json!({"verificationMode": "none"}));
    let response = outbound.send(&none, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn the_operators_verification_mode_is_the_default_of_every_account() {
    let pki = TestPki::new();
    // Signed by a CA nobody trusts, for another host than the one we reach.
    let (cert, key) = pki.issue(&["other.test"]);
    let addr = tls_server(&cert, &key, None).await;
    let url = format!("https://{addr}/");
    let with = |verification| {
        let settings = OutboundSettings {
            verification,
            ..OutboundSettings::default()
        };
        Outbound::new(settings, policy(&["127.0.0.1"])).unwrap()
    };
    let plain = tls_account(json!({}), json!({}));

    let error = with(Verification::Full)
        .send(&plain, get(&url))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");
    // `certificate` still wants a chain to a trusted root.
    let error = with(Verification::Certificate)
        .send(&plain, get(&url))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    let none = with(Verification::None);
    let response = none.send(&plain, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);
    // An account's own mode still wins over the operator's.
    let mut strict = tls_account(json!({"verificationMode": "full"}), json!({}));
    strict.id = "strict".into();
    let error = none.send(&strict, get(&url)).await.unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    // With the CA given by the account, `certificate` accepts the other name.
    let mut with_ca = tls_account(json!({"ca": pki.ca_pem()}), json!({}));
    with_ca.id = "with-ca".into();
    let certificate = with(Verification::Certificate);
    let response = certificate.send(&with_ca, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn a_client_certificate_is_presented() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue(&["127.0.0.1"]);
    let addr = tls_server(&cert, &key, Some(pki.ca_pem())).await;
    let outbound = outbound(&["127.0.0.1"]);
    let url = format!("https://{addr}/");
    let (client_cert, client_key) = pki.issue(&["herald.test"]);

    let mut with_cert = tls_account(
        json!({"ca": pki.ca_pem()}),
        json!({
            "crt": base64::engine::general_purpose::STANDARD.encode(&client_cert),
            "key": client_key,
        }),
    );
    with_cert.id = "with-cert".into();
    let response = outbound.send(&with_cert, get(&url)).await.unwrap();
    assert_eq!(response.status, 200);

    let mut without = tls_account(json!({"ca": pki.ca_pem()}), json!({}));
    without.id = "without-cert".into();
    assert!(outbound.send(&without, get(&url)).await.is_err());
}

#[tokio::test]
async fn unusable_tls_material_is_a_tls_error_naming_the_field() {
    let outbound = outbound(&["*"]);
    let cases = [
        (json!({"ca": "not a certificate"}), json!({}), "config.ca"),
        (
            json!({"ca": "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"}),
            json!({}),
            "config.ca",
        ),
        (json!({}), json!({"crt": "SEKRIT"}), "secrets.crt"),
        (json!({}), json!({"crt": "x", "key": "y"}), "secrets.crt"),
        (json!({}), json!({"pfx": "SEKRIT"}), "secrets.pfx"),
    ];
    for (config, secrets, field) in cases {
        let account = account(config, secrets);
        let error = outbound
            .send(
                &account,
                get("https://vendor.test/secret-path?token=SEKRIT"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SendError::Tls(m) if m.contains(field)),
            "{field}: {error:?}"
        );
        assert_no_url(&error);
        assert!(matches!(
            error.outcome(),
            Outcome::Permanent {
                kind: ErrorKind::InvalidConfig,
                ..
            }
        ));
    }
}

#[tokio::test]
async fn account_clients_are_cached_per_version() {
    let pki = TestPki::new();
    let (cert, key) = pki.issue(&["127.0.0.1"]);
    let addr = tls_server(&cert, &key, None).await;
    let outbound = outbound(&["127.0.0.1"]);
    let url = format!("https://{addr}/");
    let mut account = tls_account(json!({"ca": pki.ca_pem()}), json!({}));
    for _ in 0..3 {
        outbound.send(&account, get(&url)).await.unwrap();
    }
    assert_eq!(outbound.inner.accounts.len(), 1);
    // A new version with a CA that does not match gets a new client.
    account.version = 2;
    account.config = json!({"ca": TestPki::new().ca_pem()})
        .as_object()
        .unwrap()
        .clone();
    assert!(matches!(
        outbound.send(&account, get(&url)).await,
        Err(SendError::Tls(_))
    ));
    assert_eq!(outbound.inner.accounts.len(), 1);
    // Accounts without options use the shared client and no cache entry.
    outbound.send(&plain_other(), get(&url)).await.unwrap_err();
    assert_eq!(outbound.inner.accounts.len(), 1);
}

fn plain_other() -> Account {
    let mut account = plain();
    account.id = "plain".into();
    account
}

// ---- the operator's per-host settings and proxy mode ----

/// A self-signed certificate for `names`: (certificate PEM, key PEM).
fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names).expect("a certificate");
    (certified.cert.pem(), certified.signing_key.serialize_pem())
}

fn with_hosts(custom_hosts: Vec<CustomHost>) -> Outbound {
    let settings = OutboundSettings {
        custom_hosts,
        ..OutboundSettings::default()
    };
    Outbound::new(settings, policy(&["127.0.0.1"])).unwrap()
}

fn https_host(
    addr: SocketAddr,
    verification: Option<Verification>,
    cas: Vec<String>,
) -> CustomHost {
    CustomHost {
        scheme: "https".into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        verification,
        certificate_authorities: cas,
        smtp_require_tls: None,
        smtp_ignore_tls: None,
    }
}

#[tokio::test]
async fn a_custom_host_entry_applies_to_its_own_origin_only() {
    let pki = TestPki::new();
    // Issued by a CA only the host entry trusts, to another name.
    let (cert, key) = pki.issue(&["other.test"]);
    let listed = tls_server(&cert, &key, None).await;
    let unlisted = tls_server(&cert, &key, None).await;
    let outbound = with_hosts(vec![https_host(
        listed,
        Some(Verification::Certificate),
        vec![pki.ca_pem().to_owned()],
    )]);

    // One account, two hosts: the entry is chosen per request URL.
    let plain = tls_account(json!({}), json!({}));
    let response = outbound
        .send(&plain, get(format!("https://{listed}/")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let error = outbound
        .send(&plain, get(format!("https://{unlisted}/")))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");

    // An account with options of its own gets the entry's CA and mode on
    // that host only, one client per host.
    let other = TestPki::new();
    let mut with_ca = tls_account(json!({"ca": other.ca_pem()}), json!({}));
    with_ca.id = "with-ca".into();
    let response = outbound
        .send(&with_ca, get(format!("https://{listed}/")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(
        outbound
            .send(&with_ca, get(format!("https://{unlisted}/")))
            .await
            .is_err()
    );
    assert_eq!(outbound.inner.accounts.len(), 2);

    // The account's own mode wins over the entry's.
    let mut strict = tls_account(json!({"verificationMode": "full"}), json!({}));
    strict.id = "strict".into();
    let error = outbound
        .send(&strict, get(format!("https://{listed}/")))
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Tls(_)), "{error:?}");
}

#[tokio::test]
async fn a_custom_host_with_verification_none_accepts_any_certificate_there() {
    let (cert, key) = self_signed(&["other.test"]);
    let listed = tls_server(&cert, &key, None).await;
    let unlisted = tls_server(&cert, &key, None).await;
    let outbound = with_hosts(vec![https_host(listed, Some(Verification::None), vec![])]);
    let plain = tls_account(json!({}), json!({}));
    let response = outbound
        .send(&plain, get(format!("https://{listed}/")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(
        outbound
            .send(&plain, get(format!("https://{unlisted}/")))
            .await
            .is_err()
    );
}

#[test]
fn an_unusable_custom_host_ca_stops_the_client_naming_the_entry() {
    let settings = OutboundSettings {
        custom_hosts: vec![https_host(
            "127.0.0.1:443".parse().unwrap(),
            None,
            vec!["-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into()],
        )],
        ..OutboundSettings::default()
    };
    let error = Outbound::new(settings, policy(&["*"])).err().unwrap();
    assert!(error.to_string().contains("custom_hosts[0]"), "{error}");
}

/// An HTTPS proxy on loopback answering CONNECT: TLS with `cert_pem`, then
/// a tunnel to the requested address. Counts the tunnels it opened.
async fn tls_connect_proxy(
    cert_pem: &str,
    key_pem: &str,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            der_certs(cert_pem),
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&tunnels);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut seen = Vec::new();
                let mut buf = [0u8; 1];
                while !seen.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => seen.push(buf[0]),
                    }
                }
                let head = String::from_utf8_lossy(&seen).to_string();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split_whitespace().next())
                else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if tls
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (addr, tunnels)
}

#[tokio::test]
async fn the_proxy_verification_mode_checks_the_https_proxy_and_not_the_vendor() {
    // The vendor's certificate is issued by a CA the account trusts; the
    // proxy's is self-signed.
    let pki = TestPki::new();
    let (cert, key) = pki.issue(&["127.0.0.1"]);
    let vendor = tls_server(&cert, &key, None).await;
    let (proxy_cert, proxy_key) = self_signed(&["localhost"]);
    let (proxy, tunnels) = tls_connect_proxy(&proxy_cert, &proxy_key).await;
    let through = |proxy_verification| {
        let settings = OutboundSettings {
            proxy: Some(format!("https://localhost:{}", proxy.port())),
            proxy_verification,
            ..OutboundSettings::default()
        };
        Outbound::new(settings, policy(&["127.0.0.1"])).unwrap()
    };
    let url = format!("https://{vendor}/");
    let trusting = tls_account(json!({"ca": pki.ca_pem()}), json!({}));

    // Checked in full, the self-signed proxy is refused.
    assert!(through(None).send(&trusting, get(&url)).await.is_err());
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 0);

    let lenient = through(Some(Verification::None));
    let response = lenient.send(&trusting, get(&url)).await.unwrap();
    assert_eq!((response.status, &response.body[..]), (200, &b"ok"[..]));
    // Accounts without options of their own go the same way.
    let response = lenient
        .send(
            &tls_account(json!({}), json!({})),
            get(format!("https://{vendor}/")),
        )
        .await;
    assert!(
        response.is_err(),
        "the vendor is still checked: {response:?}"
    );
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 2);
}
