//! An alert's resolve that follows its firing (`ActionRequest.follows`):
//! it waits in JetStream while the firing is undelivered, without using an
//! attempt, and once the firing is delivered it reaches the firing's
//! vendor object through the type's follow-up (here the real `slack_api`
//! connector: a `chat.update` of the firing's `ts` plus a thread reply).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_nats::jetstream;
use futures::StreamExt;
use herald_catalog::alert::AlertPhase;
use herald_messaging::{Outgoing, Publisher};
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ActionRequest, ActionState, ActionStatusRecord};
use herald_worker::admission::Deferral;
use herald_worker::{Disposition, Worker};
use prost::Message as _;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{ADMIN, Harness};

const EVENT_FIRING: &str = "0123456789abcdef0123456789abcdef";
const EVENT_RESOLVED: &str = "fedcba9876543210fedcba9876543210";

async fn put_slack_account(h: &Harness, api_url: &str) {
    let mut client = v1::account_registry_client::AccountRegistryClient::connect(h.registry.url())
        .await
        .unwrap();
    let config = json!({"apiUrl": api_url, "allowedChannels": [{"id": "C1", "name": "ops"}]});
    let mut request = tonic::Request::new(v1::PutAccountRequest {
        account: Some(v1::Account {
            id: "ops-slack".into(),
            connector_type: "slack_api".into(),
            name: "ops".into(),
            config: config.as_object().map(json_to_struct),
            secrets: json!({"token": "xoxb-test"})
                .as_object()
                .map(json_to_struct),
            ..Default::default()
        }),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {ADMIN}").parse().unwrap());
    client.put_account(request).await.unwrap();
}

fn alert(phase: AlertPhase) -> v1::Alert {
    v1::Alert {
        key: "sample-alert".into(),
        status: match phase {
            AlertPhase::Firing => v1::AlertStatus::Firing,
            AlertPhase::Resolved => v1::AlertStatus::Resolved,
        } as i32,
        severity: "critical".into(),
        summary: "Error rate above 5% on web-1".into(),
        ..Default::default()
    }
}

/// What ingest publishes for one route action of an alert: params from
/// the type's default rendering, the alert, and `follows` for a resolve;
/// and, as ingest does first, the event's `queued` record.
async fn publish(
    h: &Harness,
    event: &str,
    phase: AlertPhase,
    follows: &str,
    accepted_at: SystemTime,
) -> String {
    let action_id = format!("{event}-0");
    let alert = alert(phase);
    let view = herald_proto::alert::view(&alert, "r", false, 1);
    let spec = herald_connectors::catalog().get("slack_api").unwrap();
    let config = json!({"allowedChannels": [{"id": "C1", "name": "ops"}]});
    let params = (spec.extras.alert_params.unwrap())(&view, config.as_object().unwrap());
    let queued = v1::QueuedEvent {
        accepted_at: Some(accepted_at.into()),
        actions: vec![v1::QueuedAction {
            account_id: "ops-slack".into(),
            connector_type: "slack_api".into(),
            alert_key: alert.key.clone(),
            ..Default::default()
        }],
    };
    h.declared
        .status
        .put(format!("event.{event}"), queued.encode_to_vec().into())
        .await
        .unwrap();
    let request = ActionRequest {
        action_id: action_id.clone(),
        account_id: "ops-slack".into(),
        connector_type: "slack_api".into(),
        params: Some(json_to_struct(&params)),
        accepted_at: Some(accepted_at.into()),
        alert: Some(alert),
        follows: follows.into(),
        route: "r".into(),
        ..Default::default()
    };
    Publisher::new(h.declared.jetstream.clone())
        .publish(
            Outgoing {
                subject: "herald.action.slack_api".into(),
                msg_id: action_id.clone(),
                payload: request.encode_to_vec().into(),
            },
            None,
        )
        .await
        .unwrap();
    action_id
}

async fn fetch(h: &Harness) -> jetstream::Message {
    let consumer: jetstream::consumer::PullConsumer = h
        .declared
        .actions
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("slack_api-follow-test".into()),
            filter_subject: "herald.action.slack_api".into(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: h.settings.ack_wait,
            max_deliver: -1,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut batch = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_secs(10))
        .messages()
        .await
        .unwrap();
    batch.next().await.expect("a message within 10 s").unwrap()
}

async fn worker(h: &Harness, opener_wait: Duration) -> Arc<Worker> {
    let mut settings = h.settings.clone();
    settings.opener_wait = opener_wait;
    let client = async_nats::connect(h._nats_alive.url()).await.unwrap();
    Arc::new(
        Worker::new(
            settings,
            client,
            herald_connectors::connectors(herald_catalog::WorkerBinary::Chat),
            &herald_metrics::Metrics::default(),
        )
        .await
        .unwrap(),
    )
}

async fn status(h: &Harness, action_id: &str) -> ActionStatusRecord {
    let bytes = h.declared.status.get(action_id).await.unwrap().unwrap();
    ActionStatusRecord::decode(bytes).unwrap()
}

fn posted(channel: &str, ts: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "channel": channel, "ts": ts}))
}

#[tokio::test]
async fn a_resolve_published_before_its_firing_is_delivered_updates_the_firing_message() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    put_slack_account(&h, &format!("{}/api", vendor.uri())).await;
    let worker = worker(&h, Duration::from_secs(600)).await;
    let resolved_view = herald_proto::alert::view(&alert(AlertPhase::Resolved), "r", false, 1);
    let resolved_blocks = herald_connectors::slack_api::alert::blocks_text(&resolved_view);
    let resolved_blocks: Value = serde_json::from_str(&resolved_blocks).unwrap();
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(wiremock::matchers::body_partial_json(
            json!({"channel": "C1"}),
        ))
        .and(NoThread)
        .respond_with(posted("C1", "1700000000.000100"))
        .expect(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .and(body_json(json!({
            "channel": "C1", "ts": "1700000000.000100", "blocks": resolved_blocks["blocks"],
        })))
        .respond_with(posted("C1", "1700000000.000100"))
        .expect(1)
        .mount(&vendor)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(body_json(json!({
            "channel": "C1", "thread_ts": "1700000000.000100", "text": ":large_green_circle: Resolved",
        })))
        .respond_with(posted("C1", "1700000500.000200"))
        .expect(1)
        .mount(&vendor)
        .await;

    let now = SystemTime::now();
    let firing = publish(&h, EVENT_FIRING, AlertPhase::Firing, "", now).await;
    let resolve = publish(&h, EVENT_RESOLVED, AlertPhase::Resolved, &firing, now).await;
    // The firing is taken but not delivered yet; its resolve comes next.
    let firing_message = fetch(&h).await;
    let resolve_message = fetch(&h).await;
    let waited = worker.process_one(resolve_message).await;
    assert_eq!(
        waited,
        Disposition::Deferred {
            after: Duration::from_secs(1),
            why: Deferral::Opener
        }
    );
    assert!(
        h.declared.status.get(&resolve).await.unwrap().is_none(),
        "no attempt recorded"
    );
    assert!(vendor.received_requests().await.unwrap().is_empty());

    assert_eq!(
        worker.process_one(firing_message).await,
        Disposition::Delivered
    );
    let opened = status(&h, &firing).await;
    assert_eq!(opened.handles["ts"], "1700000000.000100");

    let sent_back = Instant::now();
    let again = fetch(&h).await;
    assert!(
        sent_back.elapsed() >= Duration::from_millis(500),
        "NAKed with its delay"
    );
    assert_eq!(worker.process_one(again).await, Disposition::Delivered);
    let resolved = status(&h, &resolve).await;
    assert_eq!(
        (resolved.state, resolved.attempts),
        (ActionState::Delivered as i32, 1),
        "the wait used no attempt"
    );
    assert_eq!(resolved.handles["ts"], "1700000000.000100");
    assert_eq!(resolved.handles["reply_ts"], "1700000500.000200");
    vendor.verify().await;
}

/// After the opener wait the follower goes as it is, without handles: a
/// message of its own, rather than never.
#[tokio::test]
async fn past_the_opener_wait_a_resolve_is_delivered_without_handles() {
    let h = Harness::start(|_| {}).await;
    let vendor = MockServer::start().await;
    put_slack_account(&h, &format!("{}/api", vendor.uri())).await;
    let worker = worker(&h, Duration::from_secs(60)).await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(NoThread)
        .respond_with(posted("C1", "1700000900.000300"))
        .expect(1)
        .mount(&vendor)
        .await;
    let long_ago = SystemTime::now() - Duration::from_secs(120);
    let firing = publish(&h, EVENT_FIRING, AlertPhase::Firing, "", long_ago).await;
    let resolve = publish(&h, EVENT_RESOLVED, AlertPhase::Resolved, &firing, long_ago).await;
    let _firing_message = fetch(&h).await;
    assert_eq!(
        worker.process_one(fetch(&h).await).await,
        Disposition::Delivered
    );
    assert_eq!(
        status(&h, &resolve).await.handles["ts"],
        "1700000900.000300"
    );
    vendor.verify().await;
}

/// A request without `thread_ts`: the firing's own message.
struct NoThread;

impl wiremock::Match for NoThread {
    fn matches(&self, request: &wiremock::Request) -> bool {
        serde_json::from_slice::<Value>(&request.body)
            .is_ok_and(|body| body.get("thread_ts").is_none())
    }
}

/// How the opener's state is read: its own record, else its event's
/// `queued` record; an opener that failed, was suppressed or is not known
/// at all will open nothing, and the follower goes as it is.
#[tokio::test]
async fn the_opener_is_read_from_its_record_or_its_queued_event() {
    use herald_worker::follow::{Opener, opener};
    let h = Harness::start(|_| {}).await;
    let bucket = &h.declared.status;
    let id = format!("{EVENT_FIRING}-0");
    assert_eq!(
        opener(bucket, &id).await.unwrap(),
        Opener::Gone("it has no status (expired or never accepted)")
    );
    assert_eq!(
        opener(bucket, "not an id").await.unwrap(),
        Opener::Gone("its action id is not one ingest makes")
    );
    let queued = |state: ActionState| v1::QueuedEvent {
        actions: vec![v1::QueuedAction {
            state: state as i32,
            ..Default::default()
        }],
        ..Default::default()
    };
    let key = format!("event.{EVENT_FIRING}");
    bucket
        .put(&key, queued(ActionState::Queued).encode_to_vec().into())
        .await
        .unwrap();
    assert_eq!(opener(bucket, &id).await.unwrap(), Opener::Pending);
    bucket
        .put(&key, queued(ActionState::Suppressed).encode_to_vec().into())
        .await
        .unwrap();
    assert_eq!(
        opener(bucket, &id).await.unwrap(),
        Opener::Gone("it was suppressed")
    );
    let record = |state: ActionState| ActionStatusRecord {
        action_id: id.clone(),
        state: state as i32,
        handles: [("ts".to_owned(), "1.2".to_owned())].into(),
        ..Default::default()
    };
    for (state, expected) in [
        (ActionState::Retrying, Opener::Pending),
        (ActionState::Failed, Opener::Gone("it failed for good")),
        (
            ActionState::Delivered,
            Opener::Delivered([("ts".to_owned(), "1.2".to_owned())].into()),
        ),
    ] {
        bucket
            .put(&id, record(state).encode_to_vec().into())
            .await
            .unwrap();
        assert_eq!(opener(bucket, &id).await.unwrap(), expected, "{state:?}");
    }
}
