//! The one way an event becomes action requests, shared by gRPC, HTTP and
//! NATS intake: look the accounts up in the registry, check the policy,
//! render each action's params and validate them against the catalog, and
//! only when every action passes, publish them all and wait until
//! JetStream has stored each one. Also reads an action's status back from
//! the status bucket the workers keep up to date.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Semaphore;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv::{CreateErrorKind, UpdateErrorKind};
use async_nats::jetstream::message::PublishMessage;
use herald_catalog::account::{AccountId, ID_RULE};
use herald_catalog::alert::AlertView;
use herald_catalog::{ConnectorSpec, Policy, Violations, echo, schema::join};
use herald_connectors::catalog;
use herald_messaging::{
    ActionId, Declared, Outgoing, Publisher, new_traceparent, queued_event_key,
};
use herald_proto::json::{json_to_struct, opt_struct_to_json};
use herald_proto::status::{ErrorCode, ServiceError};
use herald_proto::v1;
use herald_registry_client::{Account, LookupError, RegistryClient};
use herald_telemetry::TraceContext;
use herald_templates::{AlertAction, Budget, Spent};
use prost::Message;
use rand::RngCore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::event::Event;
use crate::lifecycle::{self, Step, TargetKey, Timing};
use crate::metrics::{IngestMetrics, SubmitOutcome, Via};
use crate::settings::Limits;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Every problem with the event, each at its field path.
    #[error("{0}")]
    Invalid(Violations),
    /// The event renders to more than a size limit allows (the event's
    /// rendered total, or one action's message over NATS's max payload).
    #[error("{0}")]
    TooLarge(Violations),
    /// The idempotency key was given before to a different event.
    #[error("{0}")]
    KeyReused(Violations),
    /// Holds the id as the caller sent it; shown cut short (see [`echo`]).
    #[error("action {} is not known (unknown id, or its status has expired)", echo(.0))]
    NotFound(String),
    /// The registry did not answer, or refused ingest's own credential: the
    /// event may be valid, so the caller should retry later.
    #[error("alert {} is not known (unknown key, or its record has expired)", echo(.0))]
    AlertNotFound(String),
    /// An ack for an alert that is not firing.
    #[error("alert {} is resolved: there is nothing to acknowledge", echo(.0))]
    AlertResolved(String),
    #[error("the registry is unavailable: {0}")]
    RegistryUnavailable(String),
    #[error("NATS JetStream is unavailable: {0}")]
    NatsUnavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError for IngestError {
    fn code(&self) -> ErrorCode {
        match self {
            IngestError::Invalid(_) => ErrorCode::InvalidArgument,
            IngestError::TooLarge(_) => ErrorCode::TooLarge,
            IngestError::KeyReused(_) => ErrorCode::AlreadyExists,
            IngestError::NotFound(_) | IngestError::AlertNotFound(_) => ErrorCode::NotFound,
            IngestError::AlertResolved(_) => ErrorCode::FailedPrecondition,
            IngestError::RegistryUnavailable(_) | IngestError::NatsUnavailable(_) => {
                ErrorCode::Unavailable
            }
            IngestError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl IngestError {
    fn invalid(path: impl Into<String>, message: impl Into<String>) -> IngestError {
        let mut v = Violations::new();
        v.push(path, message);
        IngestError::Invalid(v)
    }

    /// The path of the first violation, for HTTP's `field`.
    pub fn field(&self) -> Option<&str> {
        self.violations()
            .and_then(|v| v.iter().next())
            .map(|v| v.path.as_str())
    }

    /// What is wrong with the event itself, when that is why it was
    /// refused: sending it again as it is cannot succeed.
    pub fn violations(&self) -> Option<&Violations> {
        match self {
            IngestError::Invalid(v) | IngestError::TooLarge(v) | IngestError::KeyReused(v) => {
                Some(v)
            }
            _ => None,
        }
    }
}

/// Where an event came from, beyond its content.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The caller's W3C trace context (from its `traceparent`), parent of
    /// the event's `submit` span; a new trace starts when it is empty.
    /// Every action request carries the `submit` span's context.
    pub trace: TraceContext,
    /// Seeds the action ids of an event without an idempotency key. NATS
    /// intake sets it from the message's place in the stream, so that a
    /// redelivered message (its ack lost) gets the same ids and JetStream
    /// drops the second publish instead of delivering twice.
    pub implicit_key: Option<String>,
}

/// An event taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub response: v1::SubmitResponse,
    /// Answered from the idempotency record: nothing was published now.
    pub replayed: bool,
}

/// Validates and publishes events; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    inner: Arc<Inner>,
}

struct Inner {
    registry: RegistryClient,
    policy: Policy,
    limits: Limits,
    publisher: Publisher,
    declared: Declared,
    metrics: Arc<IngestMetrics>,
    /// Events being rendered at once. Rendering is CPU work (bounded by the
    /// budget, but up to a good fraction of a second for a hostile event),
    /// so it runs on tokio's blocking threads, away from the threads that
    /// answer `/healthz` and other requests; this keeps it to one event per
    /// core, so that a burst of such events queues here (asynchronously)
    /// instead of taking every core.
    rendering: Arc<Semaphore>,
}

/// One action that passed every check, encoded and ready to publish.
struct Prepared {
    id: String,
    account: Arc<Account>,
    spec: &'static ConnectorSpec,
    /// Empty for a suppressed action, which is recorded, not published.
    payload: bytes::Bytes,
    suppressed: bool,
}

/// What an event delivers to: its own actions, then the matching actions
/// of its route, each with the params it renders.
struct Target<'a> {
    account_id: &'a str,
    /// An event action's params templates.
    params: Cow<'a, Map<String, Value>>,
    /// A route action's templates, rendered as the registry renders them.
    route_action: Option<RouteTemplates>,
    /// Where its problems are reported: `actions[0]`, `route.actions[2]`.
    at: String,
}

/// A route action's params and resolved params, as JSON.
struct RouteTemplates {
    params: Map<String, Value>,
    resolved_params: Map<String, Value>,
}

/// An alert event's part in [`prepare`]: the alert, the route it came by,
/// and the lifecycle's step for each target.
#[derive(Clone)]
struct AlertPlan {
    alert: v1::Alert,
    route: Option<Arc<v1::Route>>,
    /// Indices of the route's actions whose matchers match the alert.
    matched: Vec<usize>,
    steps: Vec<Step>,
    /// Times the alert was received, this event included.
    count: u64,
}

/// Containers (objects, lists) nested in params or context at most, params
/// themselves being the first. Each JSON level costs up to three levels of
/// protobuf nesting in a `Struct` (Struct, map entry, Value), and prost
/// refuses to decode past 100; 32 keeps the action request, and the dead
/// letter that wraps it, decodable (a test round-trips both).
pub const MAX_NESTING: usize = 32;

/// NATS counts headers in the max payload; ours (`Nats-Msg-Id`,
/// `traceparent`) take about 150 bytes.
const HEADER_ALLOWANCE: usize = 512;

/// Compare-and-set attempts on an alert's record before the event is
/// answered 503 (each loses only to another event about the same alert).
const MAX_ALERT_WRITES: usize = 8;

/// An alert key's length at most, in bytes.
pub const MAX_ALERT_KEY_LEN: usize = 1024;

/// The stored answer for an idempotency key. Wire-compatible with the
/// `SubmitResponse` that earlier versions stored (field 1), with the hash
/// of the event that was accepted beside it.
#[derive(Clone, PartialEq, prost::Message)]
struct IdempotencyRecord {
    #[prost(message, repeated, tag = "1")]
    actions: Vec<v1::SubmittedAction>,
    /// [`event_hash`]; empty in records written before it was kept.
    #[prost(bytes = "vec", tag = "15")]
    event_hash: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// An accepted event's id, 32 hex digits. With a key: the start of
/// SHA-256(key), so the same key gives the same ids; without: random.
pub fn event_id(seed: Option<&str>) -> String {
    match seed {
        Some(seed) => hex(&Sha256::digest(seed.as_bytes())[..16]),
        None => {
            let mut b = [0u8; 16];
            rand::rng().fill_bytes(&mut b);
            hex(&b)
        }
    }
}

/// The idempotency bucket's key for an idempotency key: KV keys allow only
/// `[-/_=.a-zA-Z0-9]`, and a producer's key may hold anything.
fn idempotency_record_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn kv_subject(store: &async_nats::jetstream::kv::Store, key: &str) -> String {
    format!(
        "{}{key}",
        store.put_prefix.as_deref().unwrap_or(&store.prefix)
    )
}

fn nats_error(e: impl std::fmt::Display) -> IngestError {
    IngestError::NatsUnavailable(e.to_string())
}

impl Ingestor {
    pub fn new(
        registry: RegistryClient,
        policy: Policy,
        limits: Limits,
        declared: Declared,
        metrics: Arc<IngestMetrics>,
    ) -> Ingestor {
        Ingestor {
            inner: Arc::new(Inner {
                registry,
                policy,
                limits,
                publisher: Publisher::new(declared.jetstream.clone()),
                declared,
                metrics,
                rendering: Arc::new(Semaphore::new(
                    std::thread::available_parallelism().map_or(2, usize::from),
                )),
            }),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn metrics(&self) -> &Arc<IngestMetrics> {
        &self.inner.metrics
    }

    pub fn declared(&self) -> &Declared {
        &self.inner.declared
    }

    /// Validates the whole event and publishes one action request per action,
    /// or nothing. Returns once JetStream has stored every request.
    pub async fn submit(&self, event: &Event, origin: &Origin) -> Result<Accepted, IngestError> {
        let span = tracing::info_span!(
            "submit",
            otel.kind = "server",
            event.id = tracing::field::Empty,
            actions = event.actions.len(),
        );
        herald_telemetry::set_parent(&span, origin.trace.clone());
        self.submit_traced(event, origin).instrument(span).await
    }

    async fn submit_traced(&self, event: &Event, origin: &Origin) -> Result<Accepted, IngestError> {
        self.check_shape(event)?;

        let key = (!event.idempotency_key.is_empty()).then_some(event.idempotency_key.as_str());
        let hash = event_hash(event);
        // Answered from the record without rendering anything when the
        // key is known; claimed (below) only once the event is valid.
        if let Some(key) = key
            && let Some(record) = self.recorded(key).await?
            && let Some(accepted) = answer_from(record, &hash)?
        {
            return Ok(accepted);
        }
        let route = self.route_of(event).await?;
        let matched = match (&event.alert, &route) {
            (Some(alert), Some(route)) => matching_actions(route, alert)?,
            _ => Vec::new(),
        };
        let accounts = self
            .lookup_accounts(event, route.as_deref(), &matched)
            .await?;
        let accepted_at = prost_types::Timestamp::from(SystemTime::now());
        let Some(alert) = &event.alert else {
            let event_id = event_id(key.or(origin.implicit_key.as_deref()));
            tracing::Span::current().record("event.id", event_id.as_str());
            let prepared = self
                .prepare_off_thread(event, None, accounts, &event_id, accepted_at)
                .await?;
            if let Some(key) = key
                && let Some(accepted) = self.claim(key, &hash).await?
            {
                return Ok(accepted);
            }
            self.publish(&event_id, &prepared, &accepted_at, origin, "")
                .await?;
            return self.answer(key, &hash, &prepared).await;
        };

        // An alert: decided from its record, written back by compare-and-set.
        let targets = target_keys(event, route.as_deref(), &matched, &accounts);
        let timing = route.as_deref().map(Timing::of_route).unwrap_or_default();
        let record_key = lifecycle::record_key(&alert.key);
        let mut claimed = false;
        for _ in 0..MAX_ALERT_WRITES {
            let (record, revision) = self.alert_record(&record_key).await?;
            let now = SystemTime::now();
            let decision = lifecycle::decide(record.as_ref(), alert, &targets, timing, now);
            let seed = lifecycle::event_seed(&alert.key, revision);
            let event_id = event_id(Some(key.unwrap_or(&seed)));
            tracing::Span::current().record("event.id", event_id.as_str());
            let plan = AlertPlan {
                alert: alert.clone(),
                route: route.clone(),
                matched: matched.clone(),
                steps: decision.steps.clone(),
                count: record.as_ref().map_or(0, |r| r.received) + 1,
            };
            let prepared = self
                .prepare_off_thread(event, Some(plan), accounts.clone(), &event_id, accepted_at)
                .await?;
            if let Some(key) = key
                && !claimed
            {
                if let Some(accepted) = self.claim(key, &hash).await? {
                    return Ok(accepted);
                }
                claimed = true;
            }
            // Published before the record is written: a replica that loses
            // the write published the same ids (the same revision gives the
            // same event id), so JetStream keeps one of each.
            self.publish(&event_id, &prepared, &accepted_at, origin, &alert.key)
                .await?;
            let ids: Vec<String> = prepared.iter().map(|p| p.id.clone()).collect();
            let route_id = route.as_deref().map_or("", |r| r.id.as_str());
            let updated = lifecycle::apply(record, alert, route_id, &targets, &decision, &ids, now);
            if self.write_alert(&record_key, &updated, revision).await? {
                self.inner.metrics.alert(&decision);
                return self.answer(key, &hash, &prepared).await;
            }
        }
        Err(IngestError::NatsUnavailable(format!(
            "the record of alert {} changed {MAX_ALERT_WRITES} times while this event was decided; try again",
            alert.key
        )))
    }

    /// The response, and the idempotency record when the event has a key.
    async fn answer(
        &self,
        key: Option<&str>,
        hash: &[u8; 32],
        prepared: &[Prepared],
    ) -> Result<Accepted, IngestError> {
        let this = &*self.inner;
        this.metrics
            .actions_accepted(prepared.iter().filter(|p| !p.suppressed).map(|p| p.spec.id));
        this.metrics
            .actions_suppressed(prepared.iter().filter(|p| p.suppressed).map(|p| p.spec.id));
        let response = v1::SubmitResponse {
            actions: prepared
                .iter()
                .map(|p| v1::SubmittedAction {
                    action_id: p.id.clone(),
                    account_id: p.account.id.clone(),
                    connector_type: p.spec.id.to_owned(),
                    state: if p.suppressed {
                        v1::ActionState::Suppressed
                    } else {
                        v1::ActionState::Queued
                    } as i32,
                })
                .collect(),
        };
        if let Some(key) = key {
            // Failing here reports the event as not accepted although its
            // actions are stored: the producer retries, the retry falls in
            // the duplicate window (same ids, so JetStream drops the
            // copies) and writes the record. Reporting success instead
            // would let a resubmission after the window deliver twice.
            let record = IdempotencyRecord {
                actions: response.actions.clone(),
                event_hash: hash.to_vec(),
            };
            this.declared
                .idempotency
                .put(idempotency_record_key(key), record.encode_to_vec().into())
                .await
                .map_err(nats_error)?;
        }
        Ok(Accepted {
            response,
            replayed: false,
        })
    }

    /// The event's route, when it names one.
    async fn route_of(&self, event: &Event) -> Result<Option<Arc<v1::Route>>, IngestError> {
        if event.route.is_empty() {
            return Ok(None);
        }
        self.route(&event.route).await.map(Some)
    }

    /// A route from the registry (cached); unknown is bad input at `route`.
    pub async fn route(&self, id: &str) -> Result<Arc<v1::Route>, IngestError> {
        match self.inner.registry.route(id).await {
            Ok(route) => Ok(route),
            Err(LookupError::NotFound(_)) => Err(IngestError::invalid(
                "route",
                format!("route {} does not exist", echo(id)),
            )),
            Err(error) => Err(registry_error(error)),
        }
    }

    /// The alert's record and its revision (0 when there is none yet).
    async fn alert_record(&self, key: &str) -> Result<(Option<v1::AlertRecord>, u64), IngestError> {
        let entry = self
            .inner
            .declared
            .alerts
            .entry(key)
            .await
            .map_err(nats_error)?;
        let Some(entry) = entry else {
            return Ok((None, 0));
        };
        match v1::AlertRecord::decode(entry.value) {
            Ok(record) => Ok((Some(record), entry.revision)),
            // An unreadable record is replaced, not a wedge on the alert.
            Err(error) => {
                tracing::error!(key, %error, "unreadable alert record replaced");
                Ok((None, entry.revision))
            }
        }
    }

    /// Writes `record` if the stored one is still at `revision`; `false`
    /// when another replica wrote first.
    async fn write_alert(
        &self,
        key: &str,
        record: &v1::AlertRecord,
        revision: u64,
    ) -> Result<bool, IngestError> {
        match self
            .inner
            .declared
            .alerts
            .update(key, record.encode_to_vec().into(), revision)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(nats_error(e)),
        }
    }

    /// [`prepare`] on a blocking thread, one event per core at a time (see
    /// [`Inner::rendering`]).
    async fn prepare_off_thread(
        &self,
        event: &Event,
        plan: Option<AlertPlan>,
        accounts: HashMap<AccountId, Arc<Account>>,
        event_id: &str,
        accepted_at: prost_types::Timestamp,
    ) -> Result<Vec<Prepared>, IngestError> {
        let permit = Arc::clone(&self.inner.rendering)
            .acquire_owned()
            .await
            .map_err(|_| IngestError::Internal("the rendering semaphore is closed".into()))?;
        let inner = Arc::clone(&self.inner);
        let event = event.clone();
        let event_id = event_id.to_owned();
        let max_payload = inner.declared.jetstream.client().max_payload();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| {
                prepare(
                    &inner,
                    &event,
                    plan.as_ref(),
                    &accounts,
                    &event_id,
                    accepted_at,
                    max_payload,
                )
            })
        })
        .await
        .map_err(|e| IngestError::Internal(format!("rendering an event failed: {e}")))?
    }

    fn check_shape(&self, event: &Event) -> Result<(), IngestError> {
        let limits = &self.inner.limits;
        let mut v = Violations::new();
        if event.idempotency_key.chars().count() > limits.max_idempotency_key_len {
            v.push(
                "idempotency_key",
                format!("at most {} characters", limits.max_idempotency_key_len),
            );
        }
        if !event.route.is_empty() && event.alert.is_none() {
            v.push("alert", "required with a route: a route delivers alerts");
        }
        if let Some(alert) = &event.alert {
            if alert.key.is_empty() {
                v.push(
                    "alert.key",
                    "required: it names the alert across its events",
                );
            } else if alert.key.len() > MAX_ALERT_KEY_LEN {
                v.push("alert.key", format!("at most {MAX_ALERT_KEY_LEN} bytes"));
            }
        }
        if event.actions.is_empty() && event.route.is_empty() {
            v.push("actions", "at least one action (or a route) is required");
        } else if event.actions.len() > limits.max_actions {
            v.push(
                "actions",
                format!(
                    "at most {} actions per event, got {}",
                    limits.max_actions,
                    event.actions.len()
                ),
            );
        }
        nesting(&event.context, "context", 1, &mut v);
        for (index, action) in event.actions.iter().enumerate() {
            nesting(
                &action.params,
                &format!("actions[{index}].params"),
                1,
                &mut v,
            );
        }
        if v.is_empty() {
            Ok(())
        } else {
            Err(IngestError::Invalid(v))
        }
    }

    /// Claims `key` for this event before anything is published, so that
    /// of two different events submitted at once with one key, one is
    /// refused instead of both answered with the same ids. The claim is a
    /// pending record (the hash, no actions) that the accepted event's
    /// record replaces; if publishing fails, it keeps the key for a retry
    /// of this same event. Returns the answer when another submission
    /// already holds the key.
    async fn claim(&self, key: &str, hash: &[u8; 32]) -> Result<Option<Accepted>, IngestError> {
        let pending = IdempotencyRecord {
            actions: Vec::new(),
            event_hash: hash.to_vec(),
        };
        match self
            .inner
            .declared
            .idempotency
            .create(idempotency_record_key(key), pending.encode_to_vec().into())
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {
                match self.recorded(key).await? {
                    Some(record) => answer_from(record, hash),
                    // Unreadable: ignored, as it always was.
                    None => Ok(None),
                }
            }
            Err(e) => Err(nats_error(e)),
        }
    }

    /// The record stored for an idempotency key, if any.
    async fn recorded(&self, key: &str) -> Result<Option<IdempotencyRecord>, IngestError> {
        let stored = self
            .inner
            .declared
            .idempotency
            .get(idempotency_record_key(key))
            .await
            .map_err(nats_error)?;
        Ok(
            stored.and_then(|bytes| match IdempotencyRecord::decode(bytes) {
                Ok(record) => Some(record),
                Err(error) => {
                    tracing::warn!(%error, "unreadable idempotency record ignored");
                    None
                }
            }),
        )
    }

    /// Looks up every distinct, well-formed account id at once. A missing
    /// account is left out of the map (reported per action); a registry
    /// that does not answer fails the whole event.
    async fn lookup_accounts(
        &self,
        event: &Event,
        route: Option<&v1::Route>,
        matched: &[usize],
    ) -> Result<HashMap<AccountId, Arc<Account>>, IngestError> {
        let from_route = route
            .into_iter()
            .flat_map(|r| matched.iter().map(|&i| r.actions[i].account_id.as_str()));
        let ids: BTreeSet<AccountId> = event
            .actions
            .iter()
            .map(|a| a.account_id.as_str())
            .chain(from_route)
            .filter_map(|id| AccountId::parse(id).ok())
            .collect();
        let registry = &self.inner.registry;
        let results = futures::future::join_all(ids.iter().map(|id| registry.account(id))).await;
        let mut accounts = HashMap::with_capacity(ids.len());
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(account) => {
                    accounts.insert(id, account);
                }
                Err(LookupError::NotFound(_)) => {}
                Err(error) => return Err(registry_error(error)),
            }
        }
        Ok(accounts)
    }

    /// Pipelined: the event's `queued` status record first, then the
    /// action requests, all sent before any ack is awaited.
    async fn publish(
        &self,
        event_id: &str,
        prepared: &[Prepared],
        accepted_at: &prost_types::Timestamp,
        origin: &Origin,
        alert_key: &str,
    ) -> Result<(), IngestError> {
        let this = &*self.inner;
        // The submit span's context; without the OpenTelemetry layer
        // (library use) spans have none, and the caller's is passed on.
        let traceparent = herald_telemetry::traceparent(&tracing::Span::current())
            .or_else(|| herald_telemetry::traceparent_of(&origin.trace))
            .unwrap_or_else(new_traceparent);
        let queued = v1::QueuedEvent {
            accepted_at: Some(*accepted_at),
            actions: prepared
                .iter()
                .map(|p| v1::QueuedAction {
                    account_id: p.account.id.clone(),
                    connector_type: p.spec.id.to_owned(),
                    state: if p.suppressed {
                        v1::ActionState::Suppressed as i32
                    } else {
                        0
                    },
                    alert_key: alert_key.to_owned(),
                })
                .collect(),
        };
        // Only when the event has no record yet: a resubmission keeps the
        // first acceptance time.
        let put = PublishMessage::build()
            .payload(queued.encode_to_vec().into())
            .expected_last_subject_sequence(0);
        let queued_ack = this
            .declared
            .jetstream
            .send_publish(
                kv_subject(&this.declared.status, &queued_event_key(event_id)),
                put,
            )
            .await
            .map_err(nats_error)?;
        let subjects = &this.declared.settings.subjects;
        let requests = prepared
            .iter()
            .filter(|p| !p.suppressed)
            .map(|p| Outgoing {
                subject: subjects.action(p.spec.id),
                msg_id: p.id.clone(),
                payload: p.payload.clone(),
            })
            .collect();
        this.publisher
            .publish_all(requests, Some(&traceparent))
            .await
            .map_err(nats_error)?;
        match queued_ack.await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(()),
            Err(e) => Err(nats_error(e)),
        }
    }

    /// The action's latest state from the status bucket: its own record
    /// once a worker made an attempt, else its event's `queued` record.
    pub async fn status(&self, action_id: &str) -> Result<v1::ActionStatus, IngestError> {
        if action_id.is_empty() {
            return Err(IngestError::invalid("action_id", "required"));
        }
        // Longer than any action id: bad input rather than an unknown id.
        if action_id.len() > ActionId::MAX_LEN {
            return Err(IngestError::invalid(
                "action_id",
                format!("must be at most {} characters", ActionId::MAX_LEN),
            ));
        }
        let not_found = || IngestError::NotFound(action_id.to_owned());
        let id = ActionId::parse(action_id).ok_or_else(not_found)?;
        let bucket = &self.inner.declared.status;
        let unreadable = |e: prost::DecodeError| {
            tracing::error!(action_id, error = %e, "unreadable status record");
            IngestError::Internal(format!("status record of {action_id} is unreadable"))
        };
        if let Some(stored) = bucket.get(id.as_str()).await.map_err(nats_error)? {
            let r = v1::ActionStatusRecord::decode(stored).map_err(unreadable)?;
            return Ok(v1::ActionStatus {
                action_id: r.action_id,
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
                account_id: r.account_id,
                connector_type: r.connector_type,
                last_error_kind: r.last_error_kind,
                accepted_at: r.accepted_at,
                updated_at: r.updated_at,
                handles: r.handles,
                history: r.history,
            });
        }
        let (event_id, index) = id.parts().ok_or_else(not_found)?;
        let stored = bucket
            .get(queued_event_key(event_id))
            .await
            .map_err(nats_error)?
            .ok_or_else(not_found)?;
        let event = v1::QueuedEvent::decode(stored).map_err(unreadable)?;
        let action = event.actions.get(index).ok_or_else(not_found)?;
        let state = match action.state() {
            v1::ActionState::Suppressed => v1::ActionState::Suppressed,
            _ => v1::ActionState::Queued,
        };
        Ok(v1::ActionStatus {
            action_id: action_id.to_owned(),
            state: state as i32,
            account_id: action.account_id.clone(),
            connector_type: action.connector_type.clone(),
            accepted_at: event.accepted_at,
            updated_at: event.accepted_at,
            ..Default::default()
        })
    }
}

impl Ingestor {
    /// An alert's record, with the handles of what each target opened.
    pub async fn alert(&self, key: &str) -> Result<v1::AlertState, IngestError> {
        if key.is_empty() {
            return Err(IngestError::invalid("key", "required"));
        }
        let (record, _) = self.alert_record(&lifecycle::record_key(key)).await?;
        let record = record.ok_or_else(|| IngestError::AlertNotFound(key.to_owned()))?;
        self.alert_state(record).await
    }

    /// Every alert the bucket holds (firing ones only when `open_only`),
    /// most recently received first, at most `limit`.
    pub async fn alerts(
        &self,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<v1::AlertState>, IngestError> {
        use futures::TryStreamExt;
        let bucket = &self.inner.declared.alerts;
        let keys: Vec<String> = match bucket.keys().await {
            Ok(keys) => keys.try_collect().await.map_err(nats_error)?,
            Err(e) => return Err(nats_error(e)),
        };
        let mut records = Vec::new();
        for key in keys {
            let (Some(record), _) = self.alert_record(&key).await? else {
                continue;
            };
            let open = record
                .alert
                .as_ref()
                .is_some_and(|a| a.status != v1::AlertStatus::Resolved as i32);
            if open || !open_only {
                records.push(record);
            }
        }
        let received =
            |r: &v1::AlertRecord| r.last_received_at.map_or((0, 0), |t| (t.seconds, t.nanos));
        records.sort_by_key(|r| std::cmp::Reverse(received(r)));
        records.truncate(limit);
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(self.alert_state(record).await?);
        }
        Ok(out)
    }

    /// Acknowledges a firing alert: its repeats stop until it resolves.
    pub async fn ack(&self, key: &str, by: &str) -> Result<v1::AlertState, IngestError> {
        if key.is_empty() {
            return Err(IngestError::invalid("key", "required"));
        }
        if by.chars().count() > 256 {
            return Err(IngestError::invalid("by", "at most 256 characters"));
        }
        let record_key = lifecycle::record_key(key);
        for _ in 0..MAX_ALERT_WRITES {
            let (record, revision) = self.alert_record(&record_key).await?;
            let mut record = record.ok_or_else(|| IngestError::AlertNotFound(key.to_owned()))?;
            if !lifecycle::ack(&mut record, by, SystemTime::now()) {
                return Err(IngestError::AlertResolved(key.to_owned()));
            }
            if self.write_alert(&record_key, &record, revision).await? {
                return self.alert_state(record).await;
            }
        }
        Err(IngestError::NatsUnavailable(format!(
            "the record of alert {key} changed {MAX_ALERT_WRITES} times during the ack; try again"
        )))
    }

    async fn alert_state(&self, record: v1::AlertRecord) -> Result<v1::AlertState, IngestError> {
        let mut handles = Vec::new();
        for (index, target) in record.targets.iter().enumerate() {
            if target.opener_action_id.is_empty() {
                continue;
            }
            let status = match self.status(&target.opener_action_id).await {
                Ok(status) => status,
                // Expired from the status bucket: the record still names it.
                Err(IngestError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            handles.push(v1::TargetHandles {
                target: index as u32,
                action_id: target.opener_action_id.clone(),
                handles: status.handles,
            });
        }
        Ok(v1::AlertState {
            record: Some(record),
            handles,
        })
    }
}

/// Counts the outcome and logs a refused event once, here: the fields at
/// fault but never their values (params may hold anything), and never a
/// token.
pub fn report(metrics: &IngestMetrics, via: Via, result: &Result<Accepted, IngestError>) {
    let outcome = match result {
        Ok(Accepted { replayed: true, .. }) => SubmitOutcome::Replayed,
        Ok(_) => SubmitOutcome::Accepted,
        Err(error) if error.violations().is_some() => {
            let violations = error.violations().expect("checked");
            let fields: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
            tracing::info!(via = via.name(), ?fields, "event refused: invalid");
            SubmitOutcome::Invalid
        }
        Err(error) => {
            tracing::warn!(via = via.name(), %error, "event not accepted");
            SubmitOutcome::Unavailable
        }
    };
    metrics.event(via, outcome);
}

/// What the record stored for a key means for an event of hash `hash`:
/// its answer (the same event, accepted before), a refusal (another
/// event), or nothing (the same event claimed the key and is not accepted
/// yet: publishing it again is harmless, as its ids are the same).
fn answer_from(
    record: IdempotencyRecord,
    hash: &[u8; 32],
) -> Result<Option<Accepted>, IngestError> {
    // Records written before the hash was kept have none: they are taken
    // as the same event, as they always were.
    if !record.event_hash.is_empty() && record.event_hash != hash {
        return Err(IngestError::KeyReused(violation(
            "idempotency_key",
            "already used for a different event (other context, accounts or params); \
             use a new key for a new event",
        )));
    }
    if record.actions.is_empty() {
        return Ok(None);
    }
    Ok(Some(Accepted {
        response: v1::SubmitResponse {
            actions: record.actions,
        },
        replayed: true,
    }))
}

fn violation(path: impl Into<String>, message: impl Into<String>) -> Violations {
    let mut v = Violations::new();
    v.push(path, message);
    v
}

/// Renders, validates and encodes every action of the event, within one
/// [`Budget`] for the whole event; every action is checked whatever the
/// others hold, so that the producer sees every problem in one answer.
/// CPU-bound: called on a blocking thread. Publishes nothing, so a refused
/// event leaves no trace.
fn prepare(
    this: &Inner,
    event: &Event,
    plan: Option<&AlertPlan>,
    accounts: &HashMap<AccountId, Arc<Account>>,
    event_id: &str,
    accepted_at: prost_types::Timestamp,
    max_payload: usize,
) -> Result<Vec<Prepared>, IngestError> {
    let limits = &this.limits;
    let mut budget = Budget::new(limits.max_rendered_bytes, limits.max_render_steps);
    let mut violations = Violations::new();
    let targets = targets(event, plan);
    let mut prepared = Vec::with_capacity(targets.len());
    let mut vars = Map::new();
    vars.insert("context".into(), Value::Object(event.context.clone()));
    // Kibana's `{{date}}`: when the event was accepted, RFC 3339.
    vars.insert("date".into(), accepted_at.to_string().into());
    let mut vars = Value::Object(vars);
    let route_id = plan
        .and_then(|p| p.route.as_deref())
        .map_or("", |r| r.id.as_str());
    // The `alert` variable, first as sent, then as a repeat.
    let views = plan.map(|p| {
        [false, true].map(|repeat| herald_proto::alert::view(&p.alert, route_id, repeat, p.count))
    });
    for (index, target) in targets.iter().enumerate() {
        let at = &target.at;
        let Some(account) = accounts.get(target.account_id) else {
            let message = if target.account_id.is_empty() {
                "required".to_owned()
            } else if AccountId::parse(target.account_id).is_ok() {
                format!("account {} does not exist", target.account_id)
            } else {
                format!("is not an account id ({ID_RULE})")
            };
            violations.push(format!("{at}.account_id"), message);
            continue;
        };
        let Some(spec) = catalog().get(&account.connector_type) else {
            violations.push(
                format!("{at}.account_id"),
                format!("connector type {} is unknown", account.connector_type),
            );
            continue;
        };
        if !this.policy.type_enabled(spec.id) {
            violations.push(
                format!("{at}.account_id"),
                format!("connector type {} is disabled by policy", spec.id),
            );
            continue;
        }
        let id = ActionId::new(event_id, index).into_string();
        let (follows, repeat) = match plan.map(|p| &p.steps[index]) {
            Some(Step::Suppress(_)) => {
                // Recorded with its id, never rendered or sent.
                prepared.push(Prepared {
                    id,
                    account: account.clone(),
                    spec,
                    payload: bytes::Bytes::new(),
                    suppressed: true,
                });
                continue;
            }
            Some(Step::Send { follows, repeat }) => (follows.clone(), *repeat),
            None => (None, false),
        };
        let view = views.as_ref().map(|v| &v[usize::from(repeat)]);
        let object = vars.as_object_mut().expect("vars is an object");
        object.insert("action".into(), json!({"id": id, "index": index}));
        object.insert(
            "account".into(),
            json!({"id": account.id, "name": account.name, "type": spec.id}),
        );
        if let Some(view) = view {
            object.insert("alert".into(), view.to_value());
        }
        let checked = match (&target.route_action, view) {
            // Rendered as the registry rendered it on save.
            (Some(action), Some(view)) => herald_templates::render_alert_action_within(
                &AlertAction {
                    spec,
                    account_config: &account.config,
                    params: &action.params,
                    resolved_params: &action.resolved_params,
                },
                view,
                &mut vars,
                &this.policy,
                at,
                &mut budget,
            ),
            _ => render_event_action(this, spec, account, target, view, &vars, &mut budget),
        };
        let params = match checked {
            Ok(params) => params,
            Err(errors) => {
                if budget.spent() == Some(Spent::Output) {
                    // Over the event's size: 413, however else it is wrong.
                    return Err(IngestError::TooLarge(errors));
                }
                violations.0.extend(errors.0);
                continue;
            }
        };
        let payload = v1::ActionRequest {
            action_id: id.clone(),
            account_id: account.id.clone(),
            connector_type: spec.id.to_owned(),
            params: Some(json_to_struct(&params)),
            account_version: account.version,
            idempotency_key: event.idempotency_key.clone(),
            action_index: index as u32,
            accepted_at: Some(accepted_at),
            max_attempts: 0,
            alert: plan.map(|p| p.alert.clone()),
            follows: follows.unwrap_or_default(),
            route: route_id.to_owned(),
            attempts_before: 0,
        }
        .encode_to_vec();
        prepared.push(Prepared {
            id,
            account: account.clone(),
            spec,
            payload: payload.into(),
            suppressed: false,
        });
    }
    if !violations.is_empty() {
        return Err(IngestError::Invalid(violations));
    }
    check_sizes(&prepared, limits.max_rendered_bytes, max_payload)?;
    Ok(prepared)
}

/// An event's own action: its params rendered (or, left empty, built by the
/// type from the event or the alert), then checked against the type's
/// schema, rules and policy.
fn render_event_action(
    this: &Inner,
    spec: &'static ConnectorSpec,
    account: &Account,
    target: &Target<'_>,
    view: Option<&AlertView>,
    vars: &Value,
    budget: &mut Budget,
) -> Result<Map<String, Value>, Violations> {
    let prefix = join(&target.at, "params");
    // Built from the variables' values, so they are not templates: a `{{`
    // in a producer's context stays text.
    let defaulted = match (
        spec.extras.params_from_event,
        spec.extras.alert_params,
        view,
    ) {
        _ if !target.params.is_empty() => None,
        (_, Some(render), Some(view)) => Some(render(view, &account.config)),
        (Some(build), _, _) => build(&account.config, vars),
        _ => None,
    };
    let rendered = match defaulted {
        Some(params) => params,
        None => herald_templates::render_connector_params_within(
            spec,
            &target.params,
            vars,
            &prefix,
            budget,
        )?,
    };
    let rendered = Value::Object(rendered);
    spec.validate_params(&rendered, &prefix, &this.policy)?;
    let Value::Object(params) = rendered else {
        unreachable!("rendered params are an object")
    };
    let mut errors = Violations::new();
    (spec.action_rules)(&params, &account.config, &prefix, &mut errors);
    errors.into_result().map(|()| params)
}

/// The event's own actions, then its route's actions that match the alert.
fn targets<'a>(event: &'a Event, plan: Option<&'a AlertPlan>) -> Vec<Target<'a>> {
    let mut out: Vec<Target<'a>> = event
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| Target {
            account_id: &action.account_id,
            params: Cow::Borrowed(&action.params),
            route_action: None,
            at: format!("actions[{index}]"),
        })
        .collect();
    if let Some(plan) = plan
        && let Some(route) = plan.route.as_deref()
    {
        for &index in &plan.matched {
            let action = &route.actions[index];
            out.push(Target {
                account_id: &action.account_id,
                params: Cow::Owned(Map::new()),
                route_action: Some(RouteTemplates {
                    params: opt_struct_to_json(action.params.as_ref()),
                    resolved_params: opt_struct_to_json(action.resolved_params.as_ref()),
                }),
                at: format!("route.actions[{index}]"),
            });
        }
    }
    out
}

/// The lifecycle's names for the targets of [`targets`], in the same order.
fn target_keys(
    event: &Event,
    route: Option<&v1::Route>,
    matched: &[usize],
    accounts: &HashMap<AccountId, Arc<Account>>,
) -> Vec<TargetKey> {
    let type_of = |id: &str| {
        accounts
            .get(id)
            .map_or(String::new(), |a| a.connector_type.clone())
    };
    let ids = event.actions.iter().map(|a| a.account_id.clone()).chain(
        route
            .into_iter()
            .flat_map(|r| matched.iter().map(|&i| r.actions[i].account_id.clone())),
    );
    let pairs: Vec<(String, String)> = ids
        .map(|id| (type_of(&id), id))
        .map(|(t, id)| (id, t))
        .collect();
    TargetKey::list(pairs.iter().map(|(id, t)| (id.as_str(), t.as_str())))
}

/// Indices of the route's actions whose label matchers all match the
/// alert's labels (a missing label matches as the empty string).
fn matching_actions(route: &v1::Route, alert: &v1::Alert) -> Result<Vec<usize>, IngestError> {
    let mut matched = Vec::new();
    for (index, action) in route.actions.iter().enumerate() {
        let mut all = true;
        for (label, pattern) in &action.r#match {
            let value = alert.labels.get(label).map_or("", String::as_str);
            match lifecycle::label_matches(pattern, value) {
                Ok(true) => {}
                Ok(false) => {
                    all = false;
                    break;
                }
                Err(error) => {
                    return Err(IngestError::Internal(format!(
                        "route {}: actions[{index}].match.{label}: {error}",
                        route.id
                    )));
                }
            }
        }
        if all {
            matched.push(index);
        }
    }
    Ok(matched)
}

fn registry_error(error: LookupError) -> IngestError {
    match error {
        // A lookup the registry failed is, to the producer, the same as a
        // registry away: try again later.
        LookupError::Unavailable(reason) | LookupError::Internal(reason) => {
            IngestError::RegistryUnavailable(reason)
        }
        LookupError::Refused(reason) => {
            tracing::error!(
                %reason,
                "the registry refused ingest's lookup: check HERALD_SERVICE_TOKEN"
            );
            IngestError::RegistryUnavailable("the registry refused ingest's credential".into())
        }
        LookupError::NotFound(what) => IngestError::NotFound(what),
    }
}

/// Every action's message must fit in one NATS message, and all of them
/// together in the event's budget; checked before anything is published,
/// so that a refused event publishes nothing.
fn check_sizes(
    prepared: &[Prepared],
    max_rendered_bytes: usize,
    max_payload: usize,
) -> Result<(), IngestError> {
    let mut v = Violations::new();
    let room = max_payload.saturating_sub(HEADER_ALLOWANCE);
    for (index, p) in prepared.iter().enumerate() {
        if p.payload.len() > room {
            v.push(
                format!("actions[{index}]"),
                format!(
                    "the rendered action is {} bytes, more than the {room} bytes a message may hold (the NATS server's max_payload less headers)",
                    p.payload.len()
                ),
            );
        }
    }
    let total: usize = prepared.iter().map(|p| p.payload.len()).sum();
    if v.is_empty() && total > max_rendered_bytes {
        v.push(
            "actions",
            format!(
                "the {} rendered actions are {total} bytes, more than the limit of {max_rendered_bytes} bytes per event (HERALD_INGEST_MAX_RENDERED_BYTES)",
                prepared.len()
            ),
        );
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(IngestError::TooLarge(v))
    }
}

/// Reports the first place where `map` (at nesting `level`, at `path`)
/// holds containers nested deeper than [`MAX_NESTING`].
fn nesting(map: &Map<String, Value>, path: &str, level: usize, out: &mut Violations) -> bool {
    if level > MAX_NESTING {
        out.push(
            path,
            format!("nested more than {MAX_NESTING} levels deep (objects and lists)"),
        );
        return true;
    }
    map.iter()
        .any(|(key, value)| nesting_of(value, &join(path, key), level, out))
}

fn nesting_of(value: &Value, path: &str, level: usize, out: &mut Violations) -> bool {
    match value {
        Value::Object(map) => nesting(map, path, level + 1, out),
        Value::Array(items) => {
            if level + 1 > MAX_NESTING {
                out.push(
                    path,
                    format!("nested more than {MAX_NESTING} levels deep (objects and lists)"),
                );
                return true;
            }
            items
                .iter()
                .enumerate()
                .any(|(index, item)| nesting_of(item, &format!("{path}[{index}]"), level + 1, out))
        }
        _ => false,
    }
}

/// SHA-256 of what determines the actions an event publishes: its context
/// and each action's account and params, in order. Canonical: object keys
/// sorted, numbers as the f64 that both JSON and protobuf's `Struct` can
/// hold (so `1` over HTTP and `1.0` over gRPC are the same event).
fn event_hash(event: &Event) -> [u8; 32] {
    fn bytes(h: &mut Sha256, tag: u8, data: &[u8]) {
        h.update([tag]);
        h.update((data.len() as u64).to_le_bytes());
        h.update(data);
    }
    fn object(h: &mut Sha256, map: &Map<String, Value>) {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        h.update([b'{']);
        h.update((entries.len() as u64).to_le_bytes());
        for (key, value) in entries {
            bytes(h, b'k', key.as_bytes());
            feed(h, value);
        }
    }
    fn feed(h: &mut Sha256, value: &Value) {
        match value {
            Value::Null => h.update([b'n']),
            Value::Bool(flag) => h.update([if *flag { b't' } else { b'f' }]),
            Value::Number(number) => {
                let float = number.as_f64().unwrap_or(f64::NAN);
                bytes(h, b'#', &float.to_bits().to_le_bytes());
            }
            Value::String(text) => bytes(h, b's', text.as_bytes()),
            Value::Array(items) => {
                h.update([b'[']);
                h.update((items.len() as u64).to_le_bytes());
                items.iter().for_each(|item| feed(h, item));
            }
            Value::Object(map) => object(h, map),
        }
    }
    let mut h = Sha256::new();
    object(&mut h, &event.context);
    h.update((event.actions.len() as u64).to_le_bytes());
    for action in &event.actions {
        bytes(&mut h, b'a', action.account_id.as_bytes());
        object(&mut h, &action.params);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids() {
        let e = event_id(Some("key-1"));
        assert_eq!(e, event_id(Some("key-1")));
        assert_ne!(e, event_id(Some("key-2")));
        assert_ne!(event_id(None), event_id(None));
        let a = ActionId::new(&e, 3);
        assert_eq!(ActionId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.parts(), Some((e.as_str(), 3)));
    }

    fn event(json: serde_json::Value) -> Event {
        Event::from_json(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn the_event_hash_is_canonical_and_sees_every_part() {
        let base = event(json!({"context": {"a": 1, "b": [true, null]},
            "actions": [{"account_id": "x", "params": {"m": "hi", "n": {"k": 2}}}]}));
        let reordered = event(json!({"actions": [{"params": {"n": {"k": 2.0}, "m": "hi"},
            "account_id": "x"}], "context": {"b": [true, null], "a": 1.0}}));
        assert_eq!(event_hash(&base), event_hash(&reordered));
        let mut keyed = base.clone();
        keyed.idempotency_key = "k".into();
        assert_eq!(event_hash(&base), event_hash(&keyed));
        for other in [
            json!({"context": {"a": 2, "b": [true, null]},
                "actions": [{"account_id": "x", "params": {"m": "hi", "n": {"k": 2}}}]}),
            json!({"context": {"a": 1, "b": [null, true]},
                "actions": [{"account_id": "x", "params": {"m": "hi", "n": {"k": 2}}}]}),
            json!({"context": {"a": 1, "b": [true, null]},
                "actions": [{"account_id": "y", "params": {"m": "hi", "n": {"k": 2}}}]}),
            json!({"context": {"a": 1, "b": [true, null]},
                "actions": [{"account_id": "x", "params": {"m": "hi", "n": {"k": "2"}}}]}),
            // The same strings split differently between key and value.
            json!({"context": {"a": 1, "b": [true, null]},
                "actions": [{"account_id": "x", "params": {"mh": "i", "n": {"k": 2}}}]}),
        ] {
            assert_ne!(
                event_hash(&base),
                event_hash(&event(other.clone())),
                "{other}"
            );
        }
    }

    #[test]
    fn nesting_names_the_first_place_too_deep() {
        let mut value = json!("x");
        for _ in 0..MAX_NESTING {
            value = json!({"k": value});
        }
        let mut v = Violations::new();
        assert!(!nesting(value.as_object().unwrap(), "p", 1, &mut v));
        let deeper = json!({"ok": 1, "k": value});
        assert!(nesting(deeper.as_object().unwrap(), "p", 1, &mut v));
        let path = v.iter().next().unwrap().path.clone();
        assert_eq!(path, format!("p{}", ".k".repeat(MAX_NESTING)));
    }

    #[test]
    fn encoded_actions_must_fit_a_message_each_and_the_budget_together() {
        let account = Arc::new(Account {
            id: "ops".into(),
            connector_type: "slack".into(),
            name: "ops".into(),
            version: 1,
            config: Map::new(),
            secrets: Default::default(),
        });
        let spec = catalog().get("slack").unwrap();
        let action = |bytes: usize| Prepared {
            id: "e-0".into(),
            account: account.clone(),
            spec,
            payload: vec![0u8; bytes].into(),
            suppressed: false,
        };
        let refused = |prepared: &[Prepared], budget: usize, max_payload: usize| match check_sizes(
            prepared,
            budget,
            max_payload,
        ) {
            Ok(()) => None,
            Err(IngestError::TooLarge(v)) => Some(v.iter().next().unwrap().path.clone()),
            Err(other) => panic!("{other}"),
        };
        let room = 4096 - HEADER_ALLOWANCE;
        assert_eq!(refused(&[action(room), action(room)], 2 * room, 4096), None);
        assert_eq!(
            refused(&[action(10), action(room + 1)], 1 << 20, 4096).as_deref(),
            Some("actions[1]")
        );
        assert_eq!(
            refused(&[action(room), action(room)], 2 * room - 1, 4096).as_deref(),
            Some("actions")
        );
    }

    #[test]
    fn ids_and_keys_shapes() {
        let is_account_id = |id: &str| AccountId::parse(id).is_ok();
        assert!(
            is_account_id("ops-slack") && is_account_id("0.a_b-c") && is_account_id("My-Slack")
        );
        assert!(!is_account_id("_Ops") && !is_account_id("-a") && !is_account_id(""));
        assert!(!is_account_id(&"a".repeat(129)));
        let k = idempotency_record_key("any thing / at all");
        assert_eq!(k.len(), 64);
    }
}
