//! The one way an event becomes action requests, shared by gRPC, HTTP and
//! NATS intake: look the accounts up in the registry, check the policy,
//! render each action's params and validate them against the catalog, and
//! only when every action passes, publish them all and wait until
//! JetStream has stored each one. Also reads an action's status back from
//! the status bucket the workers keep up to date.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use herald_catalog::{ConnectorSpec, Policy, Violations, catalog, schema::join};
use herald_messaging::{Declared, Outgoing, Publisher, new_traceparent};
use herald_proto::json::json_to_struct;
use herald_proto::status::{ErrorCode, ServiceError};
use herald_proto::v1;
use herald_registry_client::{Account, LookupError, RegistryClient};
use herald_telemetry::TraceContext;
use prost::Message;
use rand::RngCore;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::event::Event;
use crate::metrics::{IngestMetrics, Outcome, Via};
use crate::settings::Limits;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Every problem with the event, each at its field path.
    #[error("{0}")]
    Invalid(Violations),
    #[error("action {0} is not known (unknown id, or its status has expired)")]
    NotFound(String),
    /// The registry did not answer, or refused ingest's own credential: the
    /// event may be valid, so the caller should retry later.
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
            IngestError::NotFound(_) => ErrorCode::NotFound,
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
        match self {
            IngestError::Invalid(v) => v.iter().next().map(|v| v.path.as_str()),
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
}

/// One action that passed every check, ready to publish.
struct Prepared<'a> {
    id: String,
    index: usize,
    account: Arc<Account>,
    spec: &'a ConnectorSpec,
    params: Map<String, Value>,
}

/// An account id the registry could hold (`[a-z0-9][a-z0-9._-]{0,62}`).
fn is_account_id(id: &str) -> bool {
    let b = id.as_bytes();
    (1..=63).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

/// An action id ingest could have made, and so a valid status key.
fn is_action_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
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

/// The id of the event's `index`-th action: `<event id>-<index>`.
pub fn action_id(event_id: &str, index: usize) -> String {
    format!("{event_id}-{index}")
}

/// The event id and index an action id was made of.
fn split_action_id(id: &str) -> Option<(&str, usize)> {
    let (event, index) = id.rsplit_once('-')?;
    let index = index.parse().ok()?;
    (event.len() == 32 && event.bytes().all(|c| c.is_ascii_hexdigit())).then_some((event, index))
}

/// The status bucket's key for an event's `queued` record.
fn queued_event_key(event_id: &str) -> String {
    format!("event.{event_id}")
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
        let this = &*self.inner;
        self.check_shape(event)?;

        let key = (!event.idempotency_key.is_empty()).then_some(event.idempotency_key.as_str());
        if let Some(key) = key
            && let Some(response) = self.recorded(key).await?
        {
            return Ok(Accepted {
                response,
                replayed: true,
            });
        }
        let event_id = event_id(key.or(origin.implicit_key.as_deref()));
        tracing::Span::current().record("event.id", event_id.as_str());

        let accounts = self.lookup_accounts(event).await?;
        let accepted_at = prost_types::Timestamp::from(SystemTime::now());

        // Every action is checked, whatever the others hold, so that the
        // producer sees every problem in one answer.
        let mut violations = Violations::new();
        let mut prepared = Vec::with_capacity(event.actions.len());
        let mut vars = Map::new();
        vars.insert("context".into(), Value::Object(event.context.clone()));
        let mut vars = Value::Object(vars);
        for (index, action) in event.actions.iter().enumerate() {
            let at = format!("actions[{index}]");
            let Some(account) = accounts.get(&action.account_id) else {
                let message = if action.account_id.is_empty() {
                    "required".to_owned()
                } else if is_account_id(&action.account_id) {
                    format!("account {} does not exist", action.account_id)
                } else {
                    "is not an account id ([a-z0-9][a-z0-9._-]{0,62})".to_owned()
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
            let id = action_id(&event_id, index);
            let object = vars.as_object_mut().expect("vars is an object");
            object.insert("action".into(), json!({"id": id, "index": index}));
            object.insert(
                "account".into(),
                json!({"id": account.id, "name": account.name, "type": spec.id}),
            );
            let prefix = join(&at, "params");
            let rendered = match herald_templates::render_connector_params(
                spec,
                &action.params,
                &vars,
                &prefix,
            ) {
                Ok(rendered) => Value::Object(rendered),
                Err(errors) => {
                    violations.0.extend(errors.0);
                    continue;
                }
            };
            if let Err(errors) = spec.validate_params(&rendered, &prefix, &this.policy) {
                violations.0.extend(errors.0);
                continue;
            }
            let Value::Object(params) = rendered else {
                unreachable!("rendered params are an object")
            };
            prepared.push(Prepared {
                id,
                index,
                account: account.clone(),
                spec,
                params,
            });
        }
        if !violations.is_empty() {
            return Err(IngestError::Invalid(violations));
        }

        // The submit span's context; without the OpenTelemetry layer
        // (library use) spans have none, and the caller's is passed on.
        let traceparent = herald_telemetry::traceparent(&tracing::Span::current())
            .or_else(|| herald_telemetry::traceparent_of(&origin.trace))
            .unwrap_or_else(new_traceparent);
        self.publish(&event_id, &prepared, event, &accepted_at, &traceparent)
            .await?;
        this.metrics
            .actions_accepted(prepared.iter().map(|p| p.spec.id));

        let response = v1::SubmitResponse {
            actions: prepared
                .iter()
                .map(|p| v1::SubmittedAction {
                    action_id: p.id.clone(),
                    account_id: p.account.id.clone(),
                    connector_type: p.spec.id.to_owned(),
                })
                .collect(),
        };
        if let Some(key) = key {
            // Failing here reports the event as not accepted although its
            // actions are stored: the producer retries, the retry falls in
            // the duplicate window (same ids, so JetStream drops the
            // copies) and writes the record. Reporting success instead
            // would let a resubmission after the window deliver twice.
            this.declared
                .idempotency
                .put(idempotency_record_key(key), response.encode_to_vec().into())
                .await
                .map_err(nats_error)?;
        }
        Ok(Accepted {
            response,
            replayed: false,
        })
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
        if event.actions.is_empty() {
            v.push("actions", "at least one action is required");
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
        if v.is_empty() {
            Ok(())
        } else {
            Err(IngestError::Invalid(v))
        }
    }

    /// The response stored for an idempotency key, if any.
    async fn recorded(&self, key: &str) -> Result<Option<v1::SubmitResponse>, IngestError> {
        let stored = self
            .inner
            .declared
            .idempotency
            .get(idempotency_record_key(key))
            .await
            .map_err(nats_error)?;
        Ok(
            stored.and_then(|bytes| match v1::SubmitResponse::decode(bytes) {
                Ok(response) => Some(response),
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
    ) -> Result<HashMap<String, Arc<Account>>, IngestError> {
        let ids: BTreeSet<&str> = event
            .actions
            .iter()
            .map(|a| a.account_id.as_str())
            .filter(|id| is_account_id(id))
            .collect();
        let registry = &self.inner.registry;
        let results = futures::future::join_all(ids.iter().map(|id| registry.account(id))).await;
        let mut accounts = HashMap::with_capacity(ids.len());
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(account) => {
                    accounts.insert(id.to_owned(), account);
                }
                Err(LookupError::NotFound(_)) => {}
                // A lookup the registry failed is, to the producer, the
                // same as a registry away: try again later.
                Err(LookupError::Unavailable(reason) | LookupError::Internal(reason)) => {
                    return Err(IngestError::RegistryUnavailable(reason));
                }
                Err(LookupError::Refused(reason)) => {
                    tracing::error!(
                        %reason,
                        "the registry refused ingest's lookup: check HERALD_SERVICE_TOKEN"
                    );
                    return Err(IngestError::RegistryUnavailable(
                        "the registry refused ingest's credential".into(),
                    ));
                }
            }
        }
        Ok(accounts)
    }

    /// Pipelined: the event's `queued` status record first, then the
    /// action requests, all sent before any ack is awaited.
    async fn publish(
        &self,
        event_id: &str,
        prepared: &[Prepared<'_>],
        event: &Event,
        accepted_at: &prost_types::Timestamp,
        traceparent: &str,
    ) -> Result<(), IngestError> {
        let this = &*self.inner;
        let queued = v1::QueuedEvent {
            accepted_at: Some(*accepted_at),
            actions: prepared
                .iter()
                .map(|p| v1::QueuedAction {
                    account_id: p.account.id.clone(),
                    connector_type: p.spec.id.to_owned(),
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
            .map(|p| Outgoing {
                subject: subjects.action(p.spec.id),
                msg_id: p.id.clone(),
                payload: v1::ActionRequest {
                    action_id: p.id.clone(),
                    account_id: p.account.id.clone(),
                    connector_type: p.spec.id.to_owned(),
                    params: Some(json_to_struct(&p.params)),
                    account_version: p.account.version,
                    idempotency_key: event.idempotency_key.clone(),
                    action_index: p.index as u32,
                    accepted_at: Some(*accepted_at),
                    max_attempts: 0,
                }
                .encode_to_vec()
                .into(),
            })
            .collect();
        this.publisher
            .publish_all(requests, Some(traceparent))
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
        let not_found = || IngestError::NotFound(action_id.to_owned());
        if !is_action_id(action_id) {
            return Err(not_found());
        }
        let bucket = &self.inner.declared.status;
        let unreadable = |e: prost::DecodeError| {
            tracing::error!(action_id, error = %e, "unreadable status record");
            IngestError::Internal(format!("status record of {action_id} is unreadable"))
        };
        if let Some(stored) = bucket.get(action_id).await.map_err(nats_error)? {
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
        let (event_id, index) = split_action_id(action_id).ok_or_else(not_found)?;
        let stored = bucket
            .get(queued_event_key(event_id))
            .await
            .map_err(nats_error)?
            .ok_or_else(not_found)?;
        let event = v1::QueuedEvent::decode(stored).map_err(unreadable)?;
        let action = event.actions.get(index).ok_or_else(not_found)?;
        Ok(v1::ActionStatus {
            action_id: action_id.to_owned(),
            state: v1::ActionState::Queued as i32,
            account_id: action.account_id.clone(),
            connector_type: action.connector_type.clone(),
            accepted_at: event.accepted_at,
            updated_at: event.accepted_at,
            ..Default::default()
        })
    }
}

/// Counts the outcome and logs a refused event once, here: the fields at
/// fault but never their values (params may hold anything), and never a
/// token.
pub fn report(metrics: &IngestMetrics, via: Via, result: &Result<Accepted, IngestError>) {
    let outcome = match result {
        Ok(Accepted { replayed: true, .. }) => Outcome::Replayed,
        Ok(_) => Outcome::Accepted,
        Err(IngestError::Invalid(violations)) => {
            let fields: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
            tracing::info!(via = via.name(), ?fields, "event refused: invalid");
            Outcome::Invalid
        }
        Err(error) => {
            tracing::warn!(via = via.name(), %error, "event not accepted");
            Outcome::Unavailable
        }
    };
    metrics.event(via, outcome);
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
        let a = action_id(&e, 3);
        assert!(is_action_id(&a));
        assert_eq!(split_action_id(&a), Some((e.as_str(), 3)));
        assert_eq!(split_action_id("abc-1"), None);
        assert_eq!(split_action_id(&format!("{e}-x")), None);
        assert!(!is_action_id("a.b") && !is_action_id("") && !is_action_id("a b"));
    }

    #[test]
    fn ids_and_keys_shapes() {
        assert!(is_account_id("ops-slack") && is_account_id("0.a_b-c"));
        assert!(!is_account_id("Ops") && !is_account_id("-a") && !is_account_id(""));
        assert!(!is_account_id(&"a".repeat(64)));
        let k = idempotency_record_key("any thing / at all");
        assert_eq!(k.len(), 64);
    }
}
