//! Fuzz targets for ingest's two producer-facing inputs, through a running
//! ingest (real nats-server, real registry): the HTTP event JSON of
//! `POST /v1/events` and the protobuf `SubmitRequest` of gRPC `Submit`.
//! Valid events are mutated (wrong types, huge numbers, deep nesting, odd
//! unicode, missing and unknown fields), bodies and encodings are cut and
//! spliced, and random bytes are sent as they are. Whatever comes in, the
//! answer is an acceptance or a refusal of the caller's input, never a
//! server error, and ingest stays healthy.
//!
//! One stack per target, cases run one after another. Run longer with
//! `PROPTEST_CASES=100000 cargo nextest run -p herald-ingest fuzz`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use herald_proto::json::json_to_struct;
use herald_proto::v1;
use herald_test_support::grpc::unary_raw;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use prost::Message;
use serde_json::{Number, Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::*;

fn valid_event() -> Value {
    json!({
        "idempotency_key": "disk-db1",
        "context": {"host": "db1", "value": 97.5, "tags": ["disk", "prod"], "ok": false},
        "actions": [
            {"account_id": "ops-slack", "params": {"message": "Disk {{context.value}}% on {{context.host}}"}},
            {"account_id": "ops-pd", "params": {"eventAction": "trigger", "summary": "disk on {{context.host}}", "severity": "critical"}},
        ],
    })
}

/// Strings a producer's values or keys may hold that are not plain text.
const ODD: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\r\n",
    "\u{202e}evil\u{202c}",
    "\u{200b}\u{feff}",
    "e\u{301}\u{301}\u{301}",
    "🚨🧨",
    "\u{10ffff}",
    "{{",
    "{{context}}",
    "{{#context.tags}}{{.}}{{/context.tags}}",
    "{{{context.host}}}",
    "{{> partial}}",
    "{{=<% %>=}}",
    "ops-slack",
    "OPS-SLACK",
    "ops-slack\n",
    "../../etc/passwd",
];

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ODD).prop_map(str::to_owned),
        any::<String>(),
        (prop::sample::select(ODD), 1..300usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(f64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        odd_string().prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((odd_string(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// `depth` levels of objects or arrays around a string.
fn nested(depth: usize, arrays: bool) -> Value {
    let mut v = json!("deep");
    for _ in 0..depth {
        v = if arrays {
            json!([v])
        } else {
            json!({ "k": v })
        };
    }
    v
}

/// One change to a JSON document, at the node that `at` picks.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Nest(usize, usize, bool),
    Remove(usize),
    AddKey(usize, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any_json()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        (any::<usize>(), 1..200usize, any::<bool>())
            .prop_map(|(at, d, a)| Mutation::Nest(at, d, a)),
        any::<usize>().prop_map(Mutation::Remove),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(vec![
                    "idempotency_key",
                    "idempotencyKey",
                    "context",
                    "actions",
                    "account_id",
                    "accountId",
                    "params",
                    "route",
                    "alert",
                    "unknown",
                ])
                .prop_map(str::to_owned),
                odd_string(),
            ],
            any_json()
        )
            .prop_map(|(at, k, v)| Mutation::AddKey(at, k, v)),
    ]
}

/// Every node of `v`, depth first, as a pointer path.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn mutate(mut doc: Value, mutations: &[Mutation]) -> Value {
    for m in mutations {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pick = |at: &usize| all[at % all.len()].clone();
        match m {
            Mutation::Replace(at, v) => {
                if let Some(node) = doc.pointer_mut(&pick(at)) {
                    *node = v.clone();
                }
            }
            Mutation::Nest(at, depth, arrays) => {
                if let Some(node) = doc.pointer_mut(&pick(at)) {
                    *node = nested(*depth, *arrays);
                }
            }
            Mutation::Remove(at) => {
                let at = pick(at);
                if let Some((parent, key)) = at.rsplit_once('/') {
                    let key = key.replace("~1", "/").replace("~0", "~");
                    match doc.pointer_mut(parent) {
                        Some(Value::Object(map)) => {
                            map.remove(&key);
                        }
                        Some(Value::Array(items)) => {
                            if let Ok(i) = key.parse::<usize>() {
                                items.remove(i);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Mutation::AddKey(at, key, v) => {
                if let Some(Value::Object(map)) = doc.pointer_mut(&pick(at)) {
                    map.insert(key.clone(), v.clone());
                }
            }
        }
    }
    doc
}

/// A byte-level edit of an encoded body or message.
#[derive(Debug, Clone)]
enum Splice {
    Cut(usize, usize),
    Insert(usize, Vec<u8>),
    Flip(usize, u8),
    Repeat(usize, usize),
}

fn splices(inserts: Vec<&'static [u8]>) -> impl Strategy<Value = Vec<Splice>> {
    let splice = prop_oneof![
        (any::<usize>(), 1..32usize).prop_map(|(at, n)| Splice::Cut(at, n)),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(inserts).prop_map(<[u8]>::to_vec),
                prop::collection::vec(any::<u8>(), 1..16),
            ]
        )
            .prop_map(|(at, b)| Splice::Insert(at, b)),
        (any::<usize>(), 1..=255u8).prop_map(|(at, x)| Splice::Flip(at, x)),
        (any::<usize>(), 1..64usize).prop_map(|(at, n)| Splice::Repeat(at, n)),
    ];
    prop::collection::vec(splice, 1..5)
}

fn splice(mut bytes: Vec<u8>, edits: &[Splice]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Splice::Cut(at, n) => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Splice::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Splice::Flip(at, x) => {
                if !bytes.is_empty() {
                    bytes[at % len] ^= x;
                }
            }
            Splice::Repeat(at, n) => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
    bytes
}

/// Runs `strategy` through `check` on a runtime that `app` lives on.
fn run<S: Strategy, F: Future<Output = Result<(), TestCaseError>>>(
    rt: &tokio::runtime::Runtime,
    strategy: S,
    check: impl Fn(S::Value) -> F,
) {
    // Config::default() reads PROPTEST_CASES; shrinking a failure through a
    // running stack is slow and rarely needed, so it is bounded.
    let config = Config {
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |input| rt.block_on(check(input))) {
        panic!("{e}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// How many cases were accepted and refused: a target whose inputs are
/// all refused (or all accepted) explores too little.
#[derive(Default)]
struct Tally {
    accepted: AtomicUsize,
    refused: AtomicUsize,
}

impl Tally {
    fn count(&self, accepted: bool) {
        let n = if accepted {
            &self.accepted
        } else {
            &self.refused
        };
        n.fetch_add(1, Ordering::Relaxed);
    }

    fn assert_both(&self) {
        let (a, r) = (
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
        );
        assert!(
            a > 0 && r > 0,
            "{a} accepted, {r} refused: the generator is too narrow"
        );
    }
}

/// An acceptance, or a refusal of the caller's input in the contract's
/// error body that published nothing.
async fn check_http(app: &TestApp, tally: &Tally, body: Vec<u8>) -> Result<(), TestCaseError> {
    let before = app.action_count().await;
    let response = app.post_raw(Some(PRODUCER), body).await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    prop_assert!(
        status.is_success() || status.is_client_error(),
        "answered {status}: {text}"
    );
    tally.count(status.is_success());
    if status.is_client_error() {
        prop_assert_eq!(
            app.action_count().await,
            before,
            "refused with {}, yet published",
            status
        );
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            TestCaseError::fail(format!(
                "{status} with a body that is not JSON ({e}): {text}"
            ))
        })?;
        let error = &body["error"];
        for key in ["code", "message", "field"] {
            prop_assert!(
                error[key].is_string(),
                "{status} without error.{key}: {text}"
            );
        }
        if status == 400 {
            prop_assert_eq!(&error["code"], "invalid_argument", "{}", text);
        }
        // Caller input is quoted short, however long it was.
        prop_assert!(
            text.len() < 8 * 1024,
            "{status} with a body of {} bytes",
            text.len()
        );
    }
    Ok(())
}

async fn still_healthy(app: &TestApp) {
    let health = app.http.get(app.http_url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let mut event = valid_event();
    event["idempotency_key"] = json!("after-the-fuzz");
    let response = app.post_event(Some(PRODUCER), &event).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}

#[test]
fn fuzz_http_event_json() {
    let rt = runtime();
    let app = rt.block_on(TestApp::start());
    let mutated = (any::<bool>(), prop::collection::vec(mutation(), 1..4)).prop_map(|(key, m)| {
        let mut event = valid_event();
        // Without a key most accepted events are published, not replayed.
        if !key {
            event.as_object_mut().unwrap().remove("idempotency_key");
        }
        serde_json::to_vec(&mutate(event, &m)).unwrap()
    });
    let spliced = splices(vec![
        b"\"",
        b"\\",
        b"\\ud800",
        b"\\u0000",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"1e400",
        b"-0",
        b"null",
        b"\xff",
        b"\xc3",
        b"\xed\xa0\x80",
    ])
    .prop_map(|edits| splice(serde_json::to_vec(&valid_event()).unwrap(), &edits));
    let raw = prop::collection::vec(any::<u8>(), 0..256);
    let bodies = prop_oneof![4 => mutated, 3 => spliced, 1 => raw];
    let tally = Tally::default();
    run(&rt, bodies, |body| check_http(&app, &tally, body));
    tally.assert_both();
    rt.block_on(still_healthy(&app));
}

/// A code that blames the request, never the server.
async fn check_grpc(channel: &Channel, tally: &Tally, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let answer = unary_raw(channel.clone(), "/herald.v1.Ingest/Submit", PRODUCER, bytes).await;
    tally.count(answer.is_ok());
    match answer {
        Ok(answer) => {
            prop_assert!(v1::SubmitResponse::decode(&answer[..]).is_ok());
        }
        Err(status) => prop_assert!(
            matches!(
                status.code(),
                // AlreadyExists: a mutated event that kept the valid
                // event's idempotency key.
                Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists
            ),
            "answered {:?}: {}",
            status.code(),
            status.message()
        ),
    }
    Ok(())
}

fn struct_of(v: Value) -> Option<prost_types::Struct> {
    match v {
        Value::Object(map) => Some(json_to_struct(&map)),
        _ => None,
    }
}

/// Well-formed `SubmitRequest`s with anything in them.
fn submit_request() -> impl Strategy<Value = v1::SubmitRequest> {
    let account_id = prop_oneof![
        prop::sample::select(vec!["ops-slack", "ops-pd", "nobody", ""]).prop_map(str::to_owned),
        odd_string(),
    ];
    let params = prop_oneof![
        Just(json!({"message": "disk on {{context.host}}"})),
        Just(json!({"eventAction": "trigger", "summary": "s"})),
        any_json(),
        (any::<usize>(), any::<bool>())
            .prop_map(|(d, a)| json!({"message": "x", "deep": nested(d % 40, a)})),
    ];
    let action = (account_id, params).prop_map(|(account_id, params)| v1::ActionSpec {
        account_id,
        params: struct_of(params),
    });
    (
        prop_oneof![Just(String::new()), odd_string()],
        any_json(),
        prop::collection::vec(action, 0..4),
    )
        .prop_map(|(idempotency_key, context, actions)| v1::SubmitRequest {
            idempotency_key,
            context: struct_of(context),
            actions,
            ..Default::default()
        })
}

#[test]
fn fuzz_grpc_submit_request() {
    let rt = runtime();
    let app = rt.block_on(TestApp::start());
    let channel = rt.block_on(async {
        Channel::from_shared(app.ingest.grpc_url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    });
    let valid = request(&valid_event()).encode_to_vec();
    let mutated = splices(vec![
        b"\x0a",
        b"\x12",
        b"\x1a",
        b"\x08",
        b"\xff\xff\xff\xff\x0f",
        b"\x80",
    ])
    .prop_map(move |edits| splice(valid.clone(), &edits));
    let raw = prop::collection::vec(any::<u8>(), 0..512);
    let well_formed = submit_request().prop_map(|r| r.encode_to_vec());
    let messages = prop_oneof![2 => mutated, 1 => raw, 2 => well_formed];
    let tally = Tally::default();
    run(&rt, messages, |bytes| check_grpc(&channel, &tally, bytes));
    tally.assert_both();
    rt.block_on(still_healthy(&app));
}
