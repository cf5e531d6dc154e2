//! One alert is one trace: the producer's `traceparent` (HTTP header or
//! gRPC metadata) reaches the vendor under the same trace id, across the
//! real binaries (registry, ingest, chat worker) joined by NATS; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, their spans arrive at an OTLP
//! collector under that trace id. Also: `HERALD_LOG_FORMAT`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_test_support::{NatsServer, free_port};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::binary;

const PRODUCER_TOKEN: &str = "producer-token-for-traces";
const SERVICE_TOKEN: &str = "service-token-for-traces";
const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN: &str = "00f067aa0ba902b7";

/// A Herald process, killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Registry, ingest and the chat worker as processes, with a preconfigured
/// Slack account `ops-slack` posting to `slack`.
struct Herald {
    nats: NatsServer,
    _dir: tempfile::TempDir,
    _processes: Vec<Process>,
    http_url: String,
    grpc_url: String,
}

impl Herald {
    async fn start(slack: &MockServer, extra_env: &[(&str, String)]) -> Herald {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("herald.yaml");
        std::fs::write(
            &config,
            format!(
                "preconfigured:\n  ops-slack:\n    name: Ops Slack\n    connector_type: slack\n    secrets: {{ webhookUrl: \"{}/services/T0/B0/XYZ\" }}\npolicy:\n  allowed_hosts: [\"*\", \"127.0.0.1\", \"localhost\"]\n",
                slack.uri()
            ),
        )
        .unwrap();
        let registry_addr = format!("127.0.0.1:{}", free_port());
        let grpc_addr = format!("127.0.0.1:{}", free_port());
        let http_addr = format!("127.0.0.1:{}", free_port());
        let common: Vec<(&str, String)> = vec![
            ("HERALD_NATS_URL", nats.url()),
            ("HERALD_CONFIG", config.display().to_string()),
            ("HERALD_REGISTRY_URL", format!("http://{registry_addr}")),
            ("HERALD_SERVICE_TOKEN", SERVICE_TOKEN.into()),
            ("HERALD_PRODUCER_TOKEN", PRODUCER_TOKEN.into()),
            ("HERALD_LOG", "warn".into()),
            // The metrics listeners' fixed default ports would clash
            // between tests running side by side.
            ("HERALD_METRICS_ADDR", "127.0.0.1:0".into()),
        ];
        let spawn = |name: &str, own: &[(&str, String)]| {
            let mut command = Command::new(binary(name));
            command
                .envs(common.iter().cloned())
                .envs(extra_env.iter().cloned())
                .envs(own.iter().cloned())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            Process(command.spawn().unwrap())
        };
        let database = format!("sqlite://{}/registry.db", dir.path().display());
        let processes = vec![
            spawn(
                "herald-registry",
                &[
                    ("HERALD_REGISTRY_ADDR", registry_addr.clone()),
                    // Not the default 8081: tests run side by side.
                    (
                        "HERALD_REGISTRY_HTTP_ADDR",
                        format!("127.0.0.1:{}", free_port()),
                    ),
                    ("HERALD_DATABASE_URL", database),
                    ("HERALD_MASTER_KEY", MASTER_KEY.into()),
                ],
            ),
            spawn(
                "herald-ingest",
                &[
                    ("HERALD_INGEST_GRPC_ADDR", grpc_addr.clone()),
                    ("HERALD_INGEST_HTTP_ADDR", http_addr.clone()),
                ],
            ),
            spawn("herald-chat-worker", &[]),
        ];
        let herald = Herald {
            nats,
            _dir: dir,
            _processes: processes,
            http_url: format!("http://{http_addr}"),
            grpc_url: format!("http://{grpc_addr}"),
        };
        herald.wait_ready().await;
        herald
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::new();
        loop {
            let ready = client
                .get(format!("{}/readyz", self.http_url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "ingest never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn submit_http(&self, traceparent: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/events", self.http_url))
            .bearer_auth(PRODUCER_TOKEN)
            .header("traceparent", traceparent)
            .json(&json!({"actions": [{"account_id": "ops-slack", "params": {"message": "disk full"}}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
    }

    async fn submit_grpc(&self, traceparent: &str) {
        let mut client = v1::ingest_client::IngestClient::connect(self.grpc_url.clone())
            .await
            .unwrap();
        let params = json!({"message": "disk full"});
        let mut request = tonic::Request::new(v1::SubmitRequest {
            actions: vec![v1::ActionSpec {
                account_id: "ops-slack".into(),
                params: Some(json_to_struct(params.as_object().unwrap())),
            }],
            ..Default::default()
        });
        let metadata = request.metadata_mut();
        metadata.insert(
            "authorization",
            format!("Bearer {PRODUCER_TOKEN}").parse().unwrap(),
        );
        metadata.insert("traceparent", traceparent.parse().unwrap());
        client.submit(request).await.unwrap();
    }

    /// Publishes the event on `herald.event`, as producers on NATS do.
    async fn submit_nats(&self, traceparent: &str) {
        let client = async_nats::connect(self.nats.url()).await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("traceparent", traceparent);
        let event =
            json!({"actions": [{"account_id": "ops-slack", "params": {"message": "disk full"}}]});
        async_nats::jetstream::new(client)
            .publish_with_headers("herald.event", headers, event.to_string().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

/// A Slack webhook that answers `ok`.
async fn slack() -> MockServer {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/XYZ"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    slack
}

/// The `traceparent`s the vendor has received, once there are `count`.
async fn vendor_traceparents(slack: &MockServer, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let received = slack.received_requests().await.unwrap_or_default();
        if received.len() >= count {
            return received
                .iter()
                .map(|r| {
                    r.headers
                        .get("traceparent")
                        .unwrap_or_else(|| {
                            panic!("the vendor request carries a traceparent: {:?}", r.headers)
                        })
                        .to_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "the vendor got {} of {count} requests",
            received.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Trace id and parent span id of a `traceparent`.
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test]
async fn the_producers_trace_id_reaches_the_vendor_over_http_grpc_and_nats() {
    let slack = slack().await;
    let herald = Herald::start(&slack, &[]).await;

    herald
        .submit_http(&format!("00-{TRACE_ID}-{PRODUCER_SPAN}-01"))
        .await;
    let (trace, span) = ids(&vendor_traceparents(&slack, 1).await[0]);
    assert_eq!(trace, TRACE_ID);
    assert_ne!(span, PRODUCER_SPAN, "the worker's span, not the producer's");

    let grpc_trace = "0af7651916cd43dd8448eb211c80319c";
    herald
        .submit_grpc(&format!("00-{grpc_trace}-b7ad6b7169203331-01"))
        .await;
    let (trace, span) = ids(&vendor_traceparents(&slack, 2).await[1]);
    assert_eq!(trace, grpc_trace);
    assert_ne!(span, "b7ad6b7169203331");

    let nats_trace = "5c3d4e7f8a9b0c1d2e3f405162738495";
    herald
        .submit_nats(&format!("00-{nats_trace}-1122334455667788-01"))
        .await;
    let (trace, span) = ids(&vendor_traceparents(&slack, 3).await[2]);
    assert_eq!(trace, nats_trace);
    assert_ne!(span, "1122334455667788");
}

/// Spans received, as (service, name, trace id, span id, parent span id).
type Received = Arc<Mutex<Vec<(String, String, String, String, String)>>>;

struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mut received = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                    AnyValue::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                received.push((
                    service.clone(),
                    span.name,
                    hex(&span.trace_id),
                    hex(&span.span_id),
                    hex(&span.parent_span_id),
                ));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// An OTLP/gRPC trace collector on loopback.
async fn collector() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Received::default();
    let service = TraceServiceServer::new(Collector(received.clone()));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    (addr, received)
}

#[tokio::test]
async fn with_an_otlp_endpoint_ingest_and_worker_spans_arrive_under_the_producers_trace() {
    let (addr, received) = collector().await;
    let slack = slack().await;
    let herald = Herald::start(
        &slack,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ],
    )
    .await;
    herald
        .submit_http(&format!("00-{TRACE_ID}-{PRODUCER_SPAN}-01"))
        .await;
    let (_, vendor_parent) = ids(&vendor_traceparents(&slack, 1).await[0]);

    // (service, span name) -> (span id, parent span id), in our trace.
    let deadline = Instant::now() + Duration::from_secs(20);
    let spans = loop {
        let spans: HashMap<(String, String), (String, String)> = received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, trace, _, _)| trace == TRACE_ID)
            .map(|(service, name, _, span, parent)| {
                (
                    (service.clone(), name.clone()),
                    (span.clone(), parent.clone()),
                )
            })
            .collect();
        let wanted = [
            ("herald-ingest", "submit"),
            ("herald-registry", "registry call"),
            ("herald-chat-worker", "attempt"),
        ];
        if wanted
            .iter()
            .all(|(s, n)| spans.contains_key(&(s.to_string(), n.to_string())))
        {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "spans in the trace so far: {:?}",
            spans.keys()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let span = |service: &str, name: &str| spans[&(service.to_owned(), name.to_owned())].clone();
    let (submit, submit_parent) = span("herald-ingest", "submit");
    let (attempt, attempt_parent) = span("herald-chat-worker", "attempt");
    assert_eq!(
        submit_parent, PRODUCER_SPAN,
        "submit continues the producer"
    );
    assert_eq!(
        attempt_parent, submit,
        "the attempt continues the submit span"
    );
    assert_eq!(
        vendor_parent, attempt,
        "the vendor request names the attempt"
    );
}

/// `HERALD_LOG_FORMAT=json` writes one JSON object per line; a value that
/// is neither `text` nor `json` stops the binary with a message naming it.
#[tokio::test]
async fn json_logs_are_one_object_per_line_and_a_bad_format_is_refused() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let registry = |format: &str| {
        Command::new(binary("herald-registry"))
            .env("HERALD_LOG_FORMAT", format)
            .env("HERALD_LOG", "info")
            .env("HERALD_REGISTRY_ADDR", "127.0.0.1:0")
            // Not the default 8081, which another test may hold.
            .env("HERALD_REGISTRY_HTTP_ADDR", "127.0.0.1:0")
            .env(
                "HERALD_DATABASE_URL",
                format!("sqlite://{}/registry.db", dir.path().display()),
            )
            .env("HERALD_MASTER_KEY", MASTER_KEY)
            .env("HERALD_SERVICE_TOKEN", SERVICE_TOKEN)
            .env("HERALD_NATS_URL", nats.url())
            .env("HERALD_METRICS_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    let bad = registry("yaml").wait_with_output().unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("HERALD_LOG_FORMAT") && stderr.contains("yaml"),
        "{stderr}"
    );

    let mut child = registry("json");
    let stderr = child.stderr.take().unwrap();
    let _registry = Process(child);
    let mut serving = false;
    for line in BufReader::new(stderr).lines().take(20) {
        let line = line.unwrap();
        let object: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object: {line:?} ({e})"));
        assert!(object.is_object(), "{line}");
        assert!(
            object["level"].is_string() && object["fields"].is_object(),
            "{line}"
        );
        if object["fields"]["message"] == "herald-registry serving gRPC" {
            serving = true;
            break;
        }
    }
    assert!(serving, "the registry logged no JSON line saying it serves");
}
