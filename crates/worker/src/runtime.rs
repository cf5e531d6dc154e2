//! The consume loop: one durable pull consumer per connector type, shared
//! by every replica of the worker (JetStream splits the messages between
//! them); explicit acks; a bounded number of deliveries in flight, of which
//! one account takes at most its share; every attempt ending in an ack, a
//! delayed NAK or a dead letter plus TERM, with its result published and
//! the action's status updated first. A message that must wait (its rate
//! limit turn is later, its account is busy) goes back to JetStream with a
//! delay instead of waiting here, and that is not counted as an attempt.
//!
//! Fetching, the permits, the acks and the shutdown drain are
//! `herald_messaging::consume`'s, shared with ingest's intake; what an
//! attempt's outcome means is `retry::decide`'s.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use herald_connectors::catalog;
use herald_messaging::consume::{self, Handler, Settle, Settlement};
use herald_messaging::{
    ActionId, DeadLetter, Declared, MessagingError, Outgoing, Publisher, headers,
};
use herald_metrics::{Metrics, Readiness};
use herald_proto::json::struct_to_json;
use herald_proto::v1::{
    ActionRequest, ActionResult, ActionState, ActionStatusRecord, Attempt, ErrorKind,
    VendorResponse,
};
use herald_registry_client::{ClientError, LookupError, RegistryClient};
use prost::Message as _;
use tokio::sync::watch;

use crate::admission::{self, AccountSlots, Deferral};
use crate::http::{Outbound, OutboundError};
use crate::metrics::{InFlight, PENDING_REFRESH, WorkerMetrics};
use crate::rate_limit::RateLimiter;
use crate::retry::{Decision, RetryPolicy, decide};
use crate::settings::WorkerSettings;
use crate::{Connector, Delivery, Outcome};

/// How the runtime disposed of one message; returned by [`Worker::process_one`].
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    Delivered,
    /// NAKed; JetStream redelivers after the delay.
    Retry(Duration),
    /// Dead-lettered and terminated.
    Failed(String),
    /// Not processed (shutdown): NAKed for another replica or a restart.
    Released,
    /// Not attempted, and not counted as an attempt: NAKed to come back
    /// `after`, when its rate-limit turn comes or its account may have room.
    Deferred {
        after: Duration,
        why: Deferral,
    },
}

impl Settle for Disposition {
    fn settlement(&self) -> Settlement {
        match self {
            Disposition::Delivered => Settlement::Ack,
            Disposition::Retry(delay) => Settlement::Nak(*delay),
            Disposition::Failed(_) => Settlement::Term,
            Disposition::Released => Settlement::Release,
            Disposition::Deferred { after, .. } => Settlement::Nak(*after),
        }
    }
}

/// How long a message whose dead letter could not be stored waits before
/// it is tried again.
const DEAD_LETTER_RETRY: Duration = Duration::from_secs(5);

/// How often an `INTERNAL` answer from the registry (a secret no key
/// opens, a broken row) is asked again within one attempt before the
/// attempt ends with it.
const REGISTRY_FAULT_TRIES: u32 = 4;

pub struct Worker {
    connectors: HashMap<&'static str, Arc<dyn Connector>>,
    declared: Declared,
    publisher: Publisher,
    registry: RegistryClient,
    http: Outbound,
    limiter: RateLimiter,
    /// Each account's share of the deliveries in flight.
    slots: AccountSlots,
    settings: WorkerSettings,
    metrics: WorkerMetrics,
    readiness: Readiness,
    /// Flips to true when in-flight deliveries must give up (shutdown deadline).
    abandon: watch::Sender<bool>,
}

/// Why a worker cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Declare(#[from] MessagingError),
    #[error(transparent)]
    Registry(#[from] ClientError),
    #[error("cannot watch account changes")]
    WatchAccounts(#[source] async_nats::SubscribeError),
    #[error(transparent)]
    Outbound(#[from] OutboundError),
    #[error("consumer for {connector_type}")]
    Consumer {
        connector_type: String,
        #[source]
        source: async_nats::jetstream::stream::ConsumerError,
    },
}

impl Worker {
    /// Declares the streams, and readies the registry client, the outbound
    /// HTTP client and the rate limiter. Counts into `metrics`.
    pub async fn new(
        settings: WorkerSettings,
        nats: async_nats::Client,
        connectors: Vec<Arc<dyn Connector>>,
        metrics: &Metrics,
    ) -> Result<Worker, WorkerError> {
        let declared = herald_messaging::declare(nats.clone(), &settings.messaging).await?;
        let registry = RegistryClient::new(
            &settings.registry_url,
            settings.service_token.expose(),
            herald_registry_client::Lookup::WithSecrets,
            &settings.registry_tls,
        )?
        .with_ttl(settings.account_ttl)
        .with_metrics(metrics);
        registry
            .drop_changed(&nats, settings.messaging.subjects.account_changed())
            .await
            .map_err(WorkerError::WatchAccounts)?;
        let http = Outbound::new(settings.outbound.clone(), settings.config.policy.clone())?;
        let limiter = RateLimiter::new(&settings.config.delivery.rate_limits);
        let per_account = match settings.config.delivery.max_in_flight_per_account {
            Some(n) => n as usize,
            None => (settings.concurrency / 4).max(1),
        };
        let slots = AccountSlots::new(per_account);
        let (abandon, _) = watch::channel(false);
        let types: Vec<&'static str> = connectors.iter().map(|c| c.connector_type()).collect();
        let readiness = Readiness::default().nats(nats).check("registry", {
            let registry = registry.clone();
            move || {
                let registry = registry.clone();
                async move { registry.probe().await }
            }
        });
        Ok(Worker {
            connectors: connectors
                .into_iter()
                .map(|c| (c.connector_type(), c))
                .collect(),
            metrics: WorkerMetrics::new(metrics, &types),
            readiness,
            publisher: Publisher::new(declared.jetstream.clone()),
            declared,
            registry,
            http,
            limiter,
            slots,
            settings,
            abandon,
        })
    }

    /// Consumes until `shutdown` resolves; then stops fetching, gives
    /// in-flight deliveries `shutdown_grace` to finish, and NAKs the rest
    /// so another replica (or this one, restarted) takes them at once.
    pub async fn run(
        self: Arc<Self>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), WorkerError> {
        let mut consumers = Vec::new();
        let mut gauges = Vec::new();
        for connector_type in self.connectors.keys() {
            let consumer = self.consumer(connector_type).await?;
            gauges.push(tokio::spawn(
                self.clone().watch_pending(connector_type, consumer.clone()),
            ));
            consumers.push(consumer);
        }
        tracing::info!(worker = %self.settings.name, types = ?self.connectors.keys().collect::<Vec<_>>(), "consuming");
        // One bound on deliveries in flight across all types: each holds a
        // connection, a registry entry and memory; beyond this the vendor or
        // the machine is the bottleneck and more only adds latency.
        let limits = consume::Limits {
            concurrency: self.settings.concurrency,
            grace: Some(self.settings.shutdown_grace),
        };
        consume::run(consumers, self, limits, shutdown).await;
        for gauge in gauges {
            gauge.abort();
        }
        Ok(())
    }

    /// What `/readyz` checks: NATS is connected and the registry answers.
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Keeps `herald_consumer_pending` current for one type until aborted.
    async fn watch_pending(
        self: Arc<Self>,
        connector_type: &'static str,
        mut consumer: jetstream::consumer::PullConsumer,
    ) {
        let Some(gauge) = self.metrics.of(connector_type).map(|m| m.pending.clone()) else {
            return;
        };
        let mut tick = tokio::time::interval(PENDING_REFRESH);
        loop {
            tick.tick().await;
            match consumer.info().await {
                Ok(info) => gauge.set((info.num_pending + info.num_ack_pending as u64) as i64),
                Err(error) => tracing::debug!(%error, connector_type, "consumer info not read"),
            }
        }
    }

    async fn consumer(
        &self,
        connector_type: &str,
    ) -> Result<jetstream::consumer::PullConsumer, WorkerError> {
        let subjects = &self.settings.messaging.subjects;
        let config = pull::Config {
            durable_name: Some(subjects.consumer(connector_type)),
            description: Some(format!(
                "{} deliveries of {connector_type}",
                self.settings.name
            )),
            filter_subject: subjects.action(connector_type),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            // Attempts are counted and ended by the runtime (max_attempts),
            // so the server must never give up on a message by itself.
            max_deliver: -1,
            // Shared by every replica: room for all of them to be busy.
            max_ack_pending: 20_000,
            ..Default::default()
        };
        self.declared
            .actions
            .create_consumer(config)
            .await
            .map_err(|source| WorkerError::Consumer {
                connector_type: connector_type.to_owned(),
                source,
            })
    }

    /// One message, start to finish: decode, take a slot of its account and
    /// its rate-limit turn (or go back to JetStream until then), count the
    /// attempt, resolve the account, check policy, deliver, record, and
    /// ack / NAK / terminate. Public so tests drive the runtime one step at
    /// a time.
    ///
    /// The attempt is a span whose parent is the action message's trace
    /// context, so the registry lookup, the vendor request (its
    /// `traceparent`) and the result published all continue the event's
    /// trace. Each redelivery is a sibling attempt under the same parent.
    pub async fn process_one(&self, message: jetstream::Message) -> Disposition {
        consume::process(self, &message).await
    }

    async fn process_traced(&self, message: &jetstream::Message) -> Disposition {
        // The attempt span's context; without the OpenTelemetry layer
        // (library tests) the message's own is passed on.
        let traceparent = herald_telemetry::traceparent(&tracing::Span::current()).or_else(|| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(headers::TRACEPARENT))
                .map(|v| v.as_str().to_owned())
        });
        let request = match ActionRequest::decode(message.payload.clone()) {
            Ok(r)
                if !r.action_id.is_empty()
                    && message.subject.as_str()
                        == self.settings.messaging.subjects.action(&r.connector_type) =>
            {
                tracing::Span::current().record("action.id", r.action_id.as_str());
                r
            }
            Ok(_) => {
                return self
                    .dead_malformed(
                        message,
                        traceparent.as_deref(),
                        "the action request does not match its subject or has no action_id",
                    )
                    .await;
            }
            Err(e) => {
                return self
                    .dead_malformed(
                        message,
                        traceparent.as_deref(),
                        &format!("the action request cannot be decoded: {e}"),
                    )
                    .await;
            }
        };
        let (delivered, stream_sequence) = message
            .info()
            .map(|i| (i.delivered.max(1) as u64, i.stream_sequence))
            .unwrap_or((1, 0));
        // An alert's repeat or resolve goes after the delivery that opened
        // its vendor object, with that one's handles; until it has ended it
        // waits in JetStream like a busy account, holding no permit.
        let handles = match self.opener_handles(&request, delivered).await {
            Ok(handles) => handles,
            Err(after) => return self.defer(&request, Deferral::Opener, after),
        };
        // Neither a busy account nor a rate-limit turn holds one of the
        // worker's permits while it waits: the message goes back to
        // JetStream and this permit serves another account.
        let Some(slot) = self.slots.try_take(&request.account_id) else {
            let after = admission::busy_delay(delivered);
            return self.defer(&request, Deferral::AccountBusy, after);
        };
        let turn = self.limiter.reserve(
            &request.connector_type,
            &request.account_id,
            stream_sequence,
        );
        if !turn.is_zero() {
            slot.unused();
            return self.defer(&request, Deferral::RateLimit, turn);
        }
        let attempt = self.attempt_number(&request, delivered).await;
        tracing::Span::current().record("attempt", attempt);
        let started = SystemTime::now();
        let outcome = match self
            .with_progress(message, self.attempt(&request, attempt, handles.as_ref()))
            .await
        {
            Some(outcome) => outcome,
            // Abandoned at shutdown: NAKed for another replica at once.
            None => return Disposition::Released,
        };
        let disposition = self
            .finish(
                message,
                &request,
                attempt,
                started,
                outcome,
                traceparent.as_deref(),
            )
            .await;
        drop(slot);
        disposition
    }

    /// Sends the message back to JetStream for `after` (NAKed by its
    /// disposition), without an attempt: nothing is recorded, so the status
    /// and the attempt count stay as they are.
    fn defer(&self, request: &ActionRequest, why: Deferral, after: Duration) -> Disposition {
        self.metrics.deferred(&request.connector_type, why);
        tracing::debug!(action.id = %request.action_id, ?why, ?after, "deferred");
        Disposition::Deferred { after, why }
    }

    /// The handles of the action `request` follows, once it has been
    /// delivered; `Ok(None)` for an action that follows none, or whose
    /// opener will open nothing (failed for good, unknown), or after
    /// `opener_wait`: it is then delivered as it is, and why is logged.
    /// `Err(after)` while the opener is queued or retrying.
    async fn opener_handles(
        &self,
        request: &ActionRequest,
        delivered: u64,
    ) -> Result<Option<BTreeMap<String, String>>, Duration> {
        if request.follows.is_empty() {
            return Ok(None);
        }
        // Boxed, as a rarer path (see `herald_messaging::consume`).
        let opener = Box::pin(crate::follow::opener(
            &self.declared.status,
            &request.follows,
        ))
        .await;
        let why = match opener {
            Ok(crate::follow::Opener::Delivered(handles)) => return Ok(Some(handles)),
            Ok(crate::follow::Opener::Gone(why)) => {
                tracing::info!(action.id = %request.action_id, follows = %request.follows, reason = why, "delivered without the opener's handles");
                return Ok(None);
            }
            Ok(crate::follow::Opener::Pending) => "it has not ended",
            Err(error) => {
                tracing::warn!(%error, action.id = %request.action_id, "the opener's status not read");
                "its status could not be read"
            }
        };
        let waited = request
            .accepted_at
            .and_then(|t| SystemTime::try_from(t).ok())
            .and_then(|at| at.elapsed().ok())
            .unwrap_or_default();
        if waited >= self.settings.opener_wait {
            tracing::warn!(
                action.id = %request.action_id,
                follows = %request.follows,
                waited = ?waited,
                "delivered without the opener's handles: {why} within the opener wait (HERALD_WORKER_OPENER_WAIT)"
            );
            return Ok(None);
        }
        Err(crate::follow::wait_delay(delivered))
    }

    /// Which attempt this is. A first delivery is attempt 1 without a
    /// lookup (the hot path); a redelivery reads the status record, which
    /// holds the attempts that ended (see `admission::attempt_number`).
    async fn attempt_number(&self, request: &ActionRequest, delivered: u64) -> u32 {
        if delivered <= 1 {
            return request.attempts_before.saturating_add(1);
        }
        // Boxed, as a rarer path (see `herald_messaging::consume`).
        let recorded = match Box::pin(self.declared.status.get(&request.action_id)).await {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => ActionStatusRecord::decode(bytes).map(Some).map_err(|error| {
                tracing::warn!(%error, action.id = %request.action_id, "unreadable status record; counting deliveries instead");
            }),
            Err(error) => {
                tracing::warn!(%error, action.id = %request.action_id, "status not read; counting deliveries instead");
                Err(())
            }
        };
        admission::attempt_number(
            request.attempts_before,
            delivered,
            recorded.as_ref().map(Option::as_ref).map_err(|_| ()),
        )
    }

    /// Resolves the account, checks policy, waits for the rate limit and
    /// delivers.
    async fn attempt(
        &self,
        request: &ActionRequest,
        attempt: u32,
        opener: Option<&BTreeMap<String, String>>,
    ) -> Outcome {
        let Some(connector) = self.connectors.get(request.connector_type.as_str()) else {
            return Outcome::permanent(
                ErrorKind::InvalidConfig,
                format!("this worker does not deliver {}", request.connector_type),
            );
        };
        let account = match self.resolve(&request.account_id).await {
            Ok(account) => account,
            Err(outcome) => return outcome,
        };
        if account.connector_type != request.connector_type {
            return Outcome::permanent(
                ErrorKind::InvalidConfig,
                format!(
                    "account {} is now of type {}, not {}",
                    account.id, account.connector_type, request.connector_type
                ),
            );
        }
        // The policy may have changed since the account was saved.
        let policy = &self.settings.config.policy;
        if !policy.type_enabled(&request.connector_type) {
            return Outcome::permanent(
                ErrorKind::Policy,
                format!("{} is disabled by policy", request.connector_type),
            );
        }
        let spec = catalog().get(&request.connector_type);
        if let Some(spec) = spec {
            let (config, secrets) = (
                serde_json::Value::Object(account.config.clone()),
                serde_json::Value::Object(account.secrets.0.clone()),
            );
            if let Err(violations) = spec.check_policy(&config, &secrets, policy) {
                return Outcome::permanent(ErrorKind::Policy, violations.to_string());
            }
        }
        let mut params = request
            .params
            .as_ref()
            .map(struct_to_json)
            .unwrap_or_default();
        // Rewritten to reach what the opener created (its `ts`, issue id,
        // Message-ID), by the type's own follow-up.
        let follow_up = spec.and_then(|spec| spec.extras.follow_up);
        if let (Some(follow_up), Some(handles), Some(alert)) =
            (follow_up, opener, request.alert.as_ref())
        {
            // A firing that follows another is a repeat; the count is the
            // lifecycle's, which the request does not carry.
            let repeat = alert.status != herald_proto::v1::AlertStatus::Resolved as i32;
            let view = herald_proto::alert::view(alert, &request.route, repeat, 0);
            params = follow_up(params, &view, handles);
        }
        let delivery = Delivery {
            action_id: request.action_id.clone(),
            attempt,
            params,
            account,
        };
        connector.deliver(&delivery, &self.http).await
    }

    /// Resolves the account, waiting while the registry is unreachable: a
    /// registry outage delays deliveries, it must not fail them. A registry
    /// that answers but fails this lookup (`INTERNAL`) is asked a few times
    /// and then ends the attempt (see `lookup_verdict`).
    async fn resolve(&self, id: &str) -> Result<Arc<crate::Account>, Outcome> {
        let mut wait = Duration::from_millis(200);
        let mut faults = 0;
        loop {
            let error = match self.registry.account(id).await {
                Ok(account) => return Ok(account),
                Err(error) => error,
            };
            if matches!(error, LookupError::Internal(_)) {
                faults += 1;
            }
            if let Some(outcome) = lookup_verdict(id, &error, faults) {
                return Err(outcome);
            }
            tracing::warn!(account.id = %id, %error, "waiting for the registry");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// Runs `work`, telling JetStream the message is still being worked on
    /// (`+WPI`) every third of the ack wait, so a slow vendor does not cause
    /// a redelivery; gives up (`None`) when shutdown abandons deliveries.
    async fn with_progress<T>(
        &self,
        message: &jetstream::Message,
        work: impl Future<Output = T>,
    ) -> Option<T> {
        let abandoned = abandoned(self.abandon.subscribe());
        tokio::pin!(abandoned);
        let mut tick = tokio::time::interval(self.settings.ack_wait / 3);
        tick.tick().await;
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return Some(result),
                _ = tick.tick() => {
                    // Boxed: rare, and its future would otherwise make every
                    // delivery's task larger (see `herald_messaging::consume`).
                    let _ = Box::pin(message.ack_with(AckKind::Progress)).await;
                }
                _ = &mut abandoned => return None,
            }
        }
    }

    /// Records the attempt's end as `retry::decide` has it, storing the
    /// dead letter first when the action fails for good; the loop then
    /// acks, NAKs or terminates the message by the disposition.
    async fn finish(
        &self,
        message: &jetstream::Message,
        request: &ActionRequest,
        attempt: u32,
        started: SystemTime,
        outcome: Outcome,
        traceparent: Option<&str>,
    ) -> Disposition {
        let policy = RetryPolicy::of_action(request.max_attempts, &self.settings.config.delivery);
        let mut result = ActionResult {
            action_id: request.action_id.clone(),
            account_id: request.account_id.clone(),
            connector_type: request.connector_type.clone(),
            attempt,
            alert_key: request
                .alert
                .as_ref()
                .map(|a| a.key.clone())
                .unwrap_or_default(),
            started_at: Some(started.into()),
            finished_at: Some(SystemTime::now().into()),
            ..Default::default()
        };
        // A replay's retry budget counts its own attempts only.
        let tries = attempt.saturating_sub(request.attempts_before).max(1);
        let disposition = match decide(outcome, tries, &policy) {
            Decision::Delivered { handles, response } => {
                result.state = ActionState::Delivered as i32;
                result.handles = handles.into_iter().collect();
                result.vendor_response = response;
                let accepted_at = request
                    .accepted_at
                    .and_then(|t| SystemTime::try_from(t).ok());
                self.metrics.delivered(&request.connector_type, accepted_at);
                Disposition::Delivered
            }
            Decision::Retry {
                kind,
                reason,
                response,
                wait,
            } => {
                let delay = wait.draw();
                tracing::info!(action.id = %request.action_id, attempt, error = %reason, retry_in = ?delay, "attempt failed; will retry");
                result.state = ActionState::Retrying as i32;
                result.error_kind = kind as i32;
                result.error = reason;
                result.vendor_response = response;
                result.retry_after_ms = delay.as_millis() as u64;
                self.metrics.retry(&request.connector_type);
                Disposition::Retry(delay)
            }
            Decision::Fail {
                kind,
                reason,
                response,
            } => {
                tracing::warn!(action.id = %request.action_id, attempt, error = %reason, "action failed for good");
                let dead = herald_proto::v1::DeadLetter {
                    request: Some(request.clone()),
                    raw: Vec::new(),
                    subject: message.subject.to_string(),
                    error_kind: kind as i32,
                    reason: reason.clone(),
                    attempts: attempt,
                    dead_at: Some(SystemTime::now().into()),
                    vendor_response: response.clone(),
                };
                let letter = DeadLetter::action(
                    &self.settings.messaging.subjects,
                    &request.connector_type,
                    &request.action_id,
                    sequence(message),
                    dead.encode_to_vec().into(),
                );
                // Boxed, as a rare path (see `herald_messaging::consume`).
                if let Err(retry) =
                    Box::pin(self.dead_letter(letter, &request.connector_type, traceparent)).await
                {
                    return retry;
                }
                self.metrics.failed(&request.connector_type, kind);
                result.state = ActionState::Failed as i32;
                result.error_kind = kind as i32;
                result.error = reason.clone();
                result.vendor_response = response;
                Disposition::Failed(reason)
            }
        };
        self.record(request, &result, sequence(message), traceparent)
            .await;
        disposition
    }

    /// Stores a dead letter; when it cannot be, the message comes back
    /// later (`Err`, a retry), as it must not be let go without one.
    async fn dead_letter(
        &self,
        letter: DeadLetter,
        connector_type: &str,
        traceparent: Option<&str>,
    ) -> Result<(), Disposition> {
        match self.publisher.dead_letter(letter, traceparent).await {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::error!(error = %herald_telemetry::chain(&error), "dead letter not stored; retrying later");
                self.metrics.retry(connector_type);
                Err(Disposition::Retry(DEAD_LETTER_RETRY))
            }
        }
    }

    /// Publishes the attempt's result and moves the status. A failure here
    /// is logged, not fatal: the delivery itself already happened.
    async fn record(
        &self,
        request: &ActionRequest,
        result: &ActionResult,
        sequence: u64,
        traceparent: Option<&str>,
    ) {
        let status = ActionStatusRecord {
            action_id: result.action_id.clone(),
            account_id: result.account_id.clone(),
            connector_type: result.connector_type.clone(),
            state: result.state,
            attempts: result.attempt,
            last_error: result.error.clone(),
            last_error_kind: result.error_kind,
            accepted_at: request.accepted_at,
            updated_at: result.finished_at,
            handles: result.handles.clone(),
            // The attempt that just ended, with the vendor's answer, so
            // that a status read shows it; earlier attempts are in
            // herald.result.<type> (a read-modify-write here would cost a
            // round trip per attempt).
            history: vec![Attempt {
                number: result.attempt,
                state: result.state,
                error_kind: result.error_kind,
                error: result.error.clone(),
                started_at: result.started_at,
                finished_at: result.finished_at,
                vendor_response: result.vendor_response.clone(),
            }],
            alert_key: result.alert_key.clone(),
        };
        let published = Outgoing {
            subject: self
                .settings
                .messaging
                .subjects
                .result(&result.connector_type),
            msg_id: format!("{}:{sequence}:{}", result.action_id, result.attempt),
            payload: result.encode_to_vec().into(),
        };
        let (published, stored) = tokio::join!(
            self.publisher.publish(published, traceparent),
            self.declared
                .status
                .put(&result.action_id, status.encode_to_vec().into())
        );
        if let Err(error) = published {
            tracing::error!(%error, action.id = %result.action_id, "result not published");
        }
        if let Err(error) = stored {
            tracing::error!(%error, action.id = %result.action_id, "status not stored");
        }
    }

    async fn dead_malformed(
        &self,
        message: &jetstream::Message,
        traceparent: Option<&str>,
        reason: &str,
    ) -> Disposition {
        tracing::warn!(subject = %message.subject, %reason, "malformed action request dead-lettered");
        let sequence = sequence(message);
        let connector_type = subject_type(&message.subject);
        let dead = herald_proto::v1::DeadLetter {
            request: None,
            raw: message.payload.to_vec(),
            subject: message.subject.to_string(),
            error_kind: ErrorKind::Malformed as i32,
            reason: reason.to_owned(),
            attempts: 1,
            dead_at: Some(SystemTime::now().into()),
            vendor_response: None::<VendorResponse>,
        };
        let letter = DeadLetter::malformed(
            &self.settings.messaging.subjects,
            connector_type,
            &message.subject,
            sequence,
            dead.encode_to_vec().into(),
        );
        if let Err(retry) = self.dead_letter(letter, connector_type, traceparent).await {
            return retry;
        }
        self.metrics.failed(connector_type, ErrorKind::Malformed);
        // The action's status must not stay `queued` for ever: ingest
        // published it with its action id as Nats-Msg-Id.
        if let Some(action_id) = malformed_action_id(message) {
            let now = SystemTime::now();
            let request = ActionRequest {
                action_id: action_id.to_string(),
                connector_type: connector_type.to_owned(),
                ..Default::default()
            };
            let result = ActionResult {
                action_id: action_id.to_string(),
                connector_type: connector_type.to_owned(),
                attempt: 1,
                state: ActionState::Failed as i32,
                error_kind: ErrorKind::Malformed as i32,
                error: reason.to_owned(),
                started_at: Some(now.into()),
                finished_at: Some(now.into()),
                ..Default::default()
            };
            Box::pin(self.record(&request, &result, sequence, traceparent)).await;
        }
        Disposition::Failed(reason.to_owned())
    }
}

impl Handler for Worker {
    type Disposition = Disposition;

    /// The attempt is a span whose parent is the action message's trace
    /// context (see `process_one`).
    fn span(&self, message: &jetstream::Message) -> tracing::Span {
        let span = tracing::info_span!(
            "attempt",
            otel.kind = "consumer",
            action.id = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        herald_telemetry::set_parent(
            &span,
            herald_telemetry::extract_nats(message.headers.as_ref()),
        );
        span
    }

    async fn handle(&self, message: &jetstream::Message) -> Disposition {
        let _in_flight = InFlight::start(self.metrics.of(subject_type(&message.subject)));
        self.process_traced(message).await
    }

    /// Deliveries still running at the end of the shutdown grace give up
    /// and are released (`with_progress`).
    fn abandon(&self) {
        self.abandon.send_replace(true);
    }
}

/// Resolves once shutdown gives up on in-flight deliveries.
async fn abandoned(mut abandon: watch::Receiver<bool>) {
    // The guard wait_for returns must not live across an await.
    let _ = abandon.wait_for(|a| *a).await.is_ok();
}

/// What one failed account lookup means for the attempt: `None` is keep
/// waiting (the registry is unreachable or refuses this worker's token:
/// both are outages an operator fixes, and failing every action meanwhile
/// would lose them), `Some` ends the attempt.
///
/// `faults` counts the `INTERNAL` answers so far. After
/// `REGISTRY_FAULT_TRIES` of them the attempt ends as a retry (not for
/// good): `INTERNAL` is sometimes passing (a database hiccup, an HTTP/2
/// error that gRPC reports so), and an admin can fix a secret no key opens
/// by saving it again; the retry's backoff frees the permit meanwhile, and
/// `max_attempts` ends the action with this reason if it does not heal.
fn lookup_verdict(id: &str, error: &LookupError, faults: u32) -> Option<Outcome> {
    match error {
        LookupError::NotFound(_) => Some(Outcome::permanent(
            ErrorKind::AccountMissing,
            format!("account {id} no longer exists"),
        )),
        LookupError::Internal(reason) if faults >= REGISTRY_FAULT_TRIES => Some(Outcome::retry(
            ErrorKind::Internal,
            format!(
                "the registry failed to resolve account {id} {faults} times in a row: {reason}"
            ),
        )),
        LookupError::Internal(_) | LookupError::Unavailable(_) | LookupError::Refused(_) => None,
    }
}

/// The action id of a message that could not be used, from its
/// `Nats-Msg-Id` (ingest sets it to the action id); `None` unless it has an
/// action id's shape, so nothing else is written into the status bucket.
fn malformed_action_id(message: &jetstream::Message) -> Option<ActionId> {
    let id = message
        .headers
        .as_ref()?
        .get(headers::NATS_MESSAGE_ID)?
        .as_str();
    ActionId::parse(id)
}

/// The connector type an action subject names: its last token.
fn subject_type(subject: &str) -> &str {
    subject.rsplit('.').next().unwrap_or_default()
}

/// The action message's sequence in its stream: the same for every
/// redelivery of that message, new for a replay of the action.
fn sequence(message: &jetstream::Message) -> u64 {
    message.info().map(|i| i.stream_sequence).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_registry_answers_end_the_attempt_after_a_few_tries_and_outages_never() {
        let internal =
            LookupError::Internal("Internal: internal error; see the service log".into());
        for faults in 1..REGISTRY_FAULT_TRIES {
            assert_eq!(lookup_verdict("ops", &internal, faults), None);
        }
        let Some(Outcome::Retry { kind, reason, .. }) =
            lookup_verdict("ops", &internal, REGISTRY_FAULT_TRIES)
        else {
            panic!("the attempt must end");
        };
        assert_eq!(kind, ErrorKind::Internal);
        assert!(
            reason.contains("account ops") && reason.contains("internal error"),
            "{reason}"
        );
        for waiting in [
            LookupError::Unavailable("Unavailable: connection refused".into()),
            LookupError::Refused("bad token".into()),
        ] {
            assert_eq!(lookup_verdict("ops", &waiting, 1_000), None, "{waiting}");
        }
        assert!(matches!(
            lookup_verdict("ops", &LookupError::NotFound("ops".into()), 0),
            Some(Outcome::Permanent {
                kind: ErrorKind::AccountMissing,
                ..
            })
        ));
    }
}
