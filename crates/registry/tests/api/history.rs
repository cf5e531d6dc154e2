//! The delivery history: results on `herald.result.>` become one row per
//! attempt (a result read twice is stored once), queried over REST by
//! account, type, state, alert and time, a page at a time; old rows are
//! pruned; the store behaves the same on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use herald_proto::v1;
use herald_proto::v1::history_client::HistoryClient;
use herald_registry::history::row;
use herald_registry::store::{AccountStore, After, CountBy, DeliveryFilter};
use herald_test_support::{NatsServer, postgres_database};
use prost::Message;
use serde_json::{Value, json};

use crate::helpers::*;

fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: ms / 1000,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

/// Attempt `attempt` of action `index`, finished at `finished` ms.
fn result(index: usize, attempt: u32, state: v1::ActionState, finished: i64) -> v1::ActionResult {
    v1::ActionResult {
        action_id: format!("0123456789abcdef0123456789abcdef-{index}"),
        account_id: if index.is_multiple_of(2) {
            "ops-slack"
        } else {
            "ops-pd"
        }
        .into(),
        connector_type: if index.is_multiple_of(2) {
            "slack"
        } else {
            "pagerduty"
        }
        .into(),
        state: state as i32,
        attempt,
        error_kind: if state == v1::ActionState::Delivered {
            0
        } else {
            v1::ErrorKind::VendorTemporary as i32
        },
        error: if state == v1::ActionState::Delivered {
            ""
        } else {
            "HTTP 503"
        }
        .into(),
        vendor_response: Some(v1::VendorResponse {
            status: if state == v1::ActionState::Delivered {
                200
            } else {
                503
            },
            body: "x".repeat(3000),
            request_id: String::new(),
        }),
        started_at: ts(finished - 40),
        finished_at: ts(finished),
        handles: [("ts".to_owned(), "1.2".to_owned())].into(),
        alert_key: if index == 3 {
            "disk-db-1".into()
        } else {
            String::new()
        },
        ..Default::default()
    }
}

async fn store_conforms(store: AccountStore) {
    let rows: Vec<_> = (0..5)
        .map(|i| {
            row(
                &result(
                    i,
                    1,
                    v1::ActionState::Delivered,
                    1_800_000_000_000 + i as i64,
                ),
                None,
            )
        })
        .collect();
    assert_eq!(store.insert_deliveries(&rows).await.unwrap(), 5);
    assert_eq!(
        store.insert_deliveries(&rows[..2]).await.unwrap(),
        0,
        "stored once"
    );
    let all = store
        .deliveries(&DeliveryFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert!(all[0].finished_at > all[4].finished_at, "newest first");
    assert_eq!(all[0].vendor_excerpt.len(), 1024, "capped");
    let page = store
        .deliveries(&DeliveryFilter::default(), None, 2)
        .await
        .unwrap();
    let last = page.last().unwrap();
    let after = After {
        finished_at: last.finished_at,
        action_id: last.action_id.clone(),
        attempt: last.attempt,
    };
    let next = store
        .deliveries(&DeliveryFilter::default(), Some(&after), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 3);
    let slack = DeliveryFilter {
        connector_type: "slack".into(),
        ..Default::default()
    };
    assert_eq!(store.deliveries(&slack, None, 10).await.unwrap().len(), 3);
    let window = DeliveryFilter {
        since: 1_800_000_000_001,
        until: 1_800_000_000_003,
        ..Default::default()
    };
    assert_eq!(store.deliveries(&window, None, 10).await.unwrap().len(), 2);

    // Counts: three slack rows (even indexes), two pagerduty; a window.
    let by_type = store
        .delivery_counts(CountBy::ConnectorType, 1_800_000_000_000, 0)
        .await
        .unwrap();
    let summary: Vec<(&str, i64, i64)> = by_type
        .iter()
        .map(|c| (c.key.as_str(), c.delivered, c.failed))
        .collect();
    assert_eq!(summary, [("slack", 3, 0), ("pagerduty", 2, 0)]);
    assert_eq!(by_type[0].avg_latency_ms, 40.0);
    assert_eq!(by_type[0].max_latency_ms, 40);
    let by_account = store
        .delivery_counts(CountBy::Account, 1_800_000_000_001, 1_800_000_000_003)
        .await
        .unwrap();
    let summary: Vec<(&str, i64)> = by_account
        .iter()
        .map(|c| (c.key.as_str(), c.delivered))
        .collect();
    assert_eq!(summary, [("ops-pd", 1), ("ops-slack", 1)]);
    // Series: buckets of 2 ms hold rows 0-1, 2-3 and 4.
    let series = store
        .delivery_series(1_800_000_000_000, 0, 2)
        .await
        .unwrap();
    let points: Vec<(i64, i64)> = series.iter().map(|p| (p.start, p.delivered)).collect();
    assert_eq!(
        points,
        [
            (1_800_000_000_000, 2),
            (1_800_000_000_002, 2),
            (1_800_000_000_004, 1)
        ]
    );
    assert_eq!(
        store.prune_deliveries(1_800_000_000_002, 1).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .prune_deliveries(1_800_000_000_002, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.attempts(&rows[0].action_id).await.unwrap(), vec![]);
    assert_eq!(store.attempts(&rows[4].action_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_delivery_store_conforms_on_sqlite_and_postgres() {
    store_conforms(AccountStore::connect("sqlite::memory:").await.unwrap()).await;
    match postgres_database().await {
        Some(db) => store_conforms(AccountStore::connect(db.url()).await.unwrap()).await,
        None => eprintln!(
            "PostgreSQL is not reachable: skipped (CI sets HERALD_TEST_REQUIRE_POSTGRES=1)"
        ),
    }
}

#[tokio::test]
async fn results_become_history_queried_over_rest() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let declared =
        herald_messaging::declare(client.clone(), &herald_messaging::Settings::default())
            .await
            .unwrap();
    let url = nats.url();
    let r = TestRegistry::start_with(|s| {
        s.http_listen = Some("127.0.0.1:0".parse().unwrap());
        s.nats_url = Some(url);
    })
    .await;
    let base = r.server.http_url().expect("REST listener");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut published = Vec::new();
    for i in 0..6 {
        published.push(result(
            i,
            1,
            v1::ActionState::Retrying,
            now - 1000 + i as i64,
        ));
        published.push(result(
            i,
            2,
            v1::ActionState::Delivered,
            now - 500 + i as i64,
        ));
    }
    // A result published twice (a worker's retried publish) is one row.
    published.push(result(0, 2, v1::ActionState::Delivered, now - 500));
    for (n, result) in published.iter().enumerate() {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        );
        // Distinct ids, so that JetStream keeps the duplicate too.
        headers.insert("Nats-Msg-Id", format!("r-{n}").as_str());
        declared
            .jetstream
            .publish_with_headers(
                format!("herald.result.{}", result.connector_type),
                headers,
                result.encode_to_vec().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        async move {
            let response = http.get(path).bearer_auth(PRODUCER).send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page) = get(format!("{base}/v1/deliveries?page_size=1000")).await;
        if page["deliveries"].as_array().map_or(0, Vec::len) >= 12 {
            assert_eq!(
                page["deliveries"].as_array().unwrap().len(),
                12,
                "each attempt once"
            );
            break;
        }
        assert!(Instant::now() < deadline, "history not written: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (code, failed) = get(format!(
        "{base}/v1/deliveries?state=retrying&connector_type=.pagerduty"
    ))
    .await;
    assert_eq!(code, 200);
    let failed = failed["deliveries"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["error_kind"], "vendor_temporary");
    assert_eq!(failed[0]["vendor_status"], 503);
    assert_eq!(failed[0]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(failed[0]["handles"], json!({"ts": "1.2"}));
    let (_, alert) = get(format!("{base}/v1/deliveries?alert_key=disk-db-1")).await;
    assert_eq!(alert["deliveries"].as_array().unwrap().len(), 2);

    // Pages of five, every row once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (_, page) = get(format!(
            "{base}/v1/deliveries?page_size=5&page_token={token}"
        ))
        .await;
        for d in page["deliveries"].as_array().unwrap() {
            seen.push(format!("{}/{}", d["action_id"], d["attempt"]));
        }
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (12, 12));

    let (code, attempts) = get(format!(
        "{base}/v1/actions/0123456789abcdef0123456789abcdef-3/attempts"
    ))
    .await;
    assert_eq!(code, 200);
    let states: Vec<&str> = attempts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["retrying", "delivered"]);
    let (code, _) = get(format!("{base}/v1/actions/no-such-action/attempts")).await;
    assert_eq!(code, 404);
    // Counts over the last hour (the default window).
    let (code, counts) = get(format!("{base}/v1/deliveries/counts?by=account")).await;
    assert_eq!(code, 200, "{counts}");
    let counts: Vec<(String, i64, i64)> = counts["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["delivered"].as_i64().unwrap(),
                c["retrying"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("ops-pd".to_owned(), 3, 3), ("ops-slack".to_owned(), 3, 3)]
    );
    for bad in [
        "by=colour",
        "",
        "by=account&since=now",
        "by=account&colour=red",
    ] {
        let (code, body) = get(format!("{base}/v1/deliveries/counts?{bad}")).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }

    // The same over gRPC, herald.v1.History.
    let mut grpc = HistoryClient::new(
        tonic::transport::Channel::from_shared(r.server.url())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    let page = grpc
        .list_deliveries(authed(
            PRODUCER,
            v1::ListDeliveriesRequest {
                filter: Some(v1::DeliveryFilter {
                    connector_type: "pagerduty".into(),
                    state: v1::ActionState::Retrying as i32,
                    ..Default::default()
                }),
                page_size: 2,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.deliveries.len(), 2);
    assert!(!page.next_page_token.is_empty());
    let first = &page.deliveries[0];
    assert_eq!(first.error_kind, v1::ErrorKind::VendorTemporary as i32);
    assert_eq!(first.vendor_response.as_ref().unwrap().status, 503);
    assert_eq!(first.handles["ts"], "1.2");
    assert_eq!(first.latency_ms, 40);
    let rest = grpc
        .list_deliveries(authed(
            PRODUCER,
            v1::ListDeliveriesRequest {
                filter: Some(v1::DeliveryFilter {
                    connector_type: "pagerduty".into(),
                    state: v1::ActionState::Retrying as i32,
                    ..Default::default()
                }),
                page_size: 2,
                page_token: page.next_page_token.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rest.deliveries.len(), rest.next_page_token.as_str()),
        (1, "")
    );
    let attempts = grpc
        .list_attempts(authed(
            SERVICE,
            v1::ListAttemptsRequest {
                action_id: "0123456789abcdef0123456789abcdef-3".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let states: Vec<i32> = attempts.attempts.iter().map(|a| a.state).collect();
    assert_eq!(
        states,
        [
            v1::ActionState::Retrying as i32,
            v1::ActionState::Delivered as i32
        ]
    );
    assert_eq!(attempts.attempts[0].alert_key, "disk-db-1");
    let missing = grpc
        .list_attempts(authed(
            PRODUCER,
            v1::ListAttemptsRequest {
                action_id: "no-such-action".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let counts = grpc
        .count_deliveries(authed(
            ADMIN,
            v1::CountDeliveriesRequest {
                by: v1::CountBy::ConnectorType as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let counts: Vec<(&str, u64, u64)> = counts
        .counts
        .iter()
        .map(|c| (c.key.as_str(), c.delivered, c.retrying))
        .collect();
    assert_eq!(counts, [("pagerduty", 3, 3), ("slack", 3, 3)]);
    for (request, field) in [
        (
            v1::ListDeliveriesRequest {
                filter: Some(v1::DeliveryFilter {
                    state: v1::ActionState::Queued as i32,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "filter.state",
        ),
        (
            v1::ListDeliveriesRequest {
                filter: Some(v1::DeliveryFilter {
                    connector_type: "carrier-pigeon".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "connector_type",
        ),
        (
            v1::ListDeliveriesRequest {
                page_size: 5000,
                ..Default::default()
            },
            "page_size",
        ),
        (
            v1::ListDeliveriesRequest {
                page_token: "forged".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        let error = grpc
            .list_deliveries(authed(PRODUCER, request))
            .await
            .unwrap_err();
        assert_eq!(error.code(), tonic::Code::InvalidArgument, "{field}");
        assert!(
            error.message().starts_with(field),
            "{field}: {}",
            error.message()
        );
    }
    let unauthenticated = grpc
        .count_deliveries(tonic::Request::new(v1::CountDeliveriesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);

    for bad in [
        "state=lost",
        "since=yesterday",
        "page_size=0",
        "page_token=x",
        "colour=red",
    ] {
        let (code, body) = get(format!("{base}/v1/deliveries?{bad}")).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
    r.server.stop().await.unwrap();
}
