//! Herald's Prometheus metrics and the small listener every binary serves:
//! `/metrics` (text format 0.0.4), `/healthz` (the process is alive) and
//! `/readyz` (what it depends on answers). The registry, ingest, the worker
//! runtime and the registry client define their metrics here, on one
//! [`Metrics`] per process, so `heraldctl up` shows them all in one place.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::BoxFuture;
use prometheus::core::Collector;
use prometheus::{Encoder, HistogramOpts, Opts, TextEncoder};
use tokio::net::TcpListener;

pub use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec};

/// Seconds, for calls that take milliseconds (gRPC, database).
pub const CALL_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Seconds, for an action from acceptance to delivery: milliseconds when
/// the vendor answers at once, minutes or hours through retries.
pub const DELIVERY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// A process's metric families. Cheap to clone; clones share the families.
///
/// Asking twice for a family of the same name returns the same family, so
/// parts that share a process (ingest's and a worker's registry clients
/// under `heraldctl up`, a registry restarted in a test) add to one series
/// instead of failing to register.
#[derive(Clone, Default)]
pub struct Metrics {
    registry: prometheus::Registry,
    families: Arc<Mutex<HashMap<&'static str, Box<dyn Any + Send + Sync>>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn counter_vec(&self, name: &'static str, help: &str, labels: &[&str]) -> IntCounterVec {
        self.family(name, || IntCounterVec::new(Opts::new(name, help), labels))
    }

    pub fn counter(&self, name: &'static str, help: &str) -> IntCounter {
        self.family(name, || IntCounter::new(name, help))
    }

    pub fn gauge_vec(&self, name: &'static str, help: &str, labels: &[&str]) -> IntGaugeVec {
        self.family(name, || IntGaugeVec::new(Opts::new(name, help), labels))
    }

    pub fn histogram_vec(
        &self,
        name: &'static str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> HistogramVec {
        self.family(name, || {
            HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                labels,
            )
        })
    }

    /// Metric names and labels are constants of this code base, so a bad
    /// one (or one name used for two kinds) is a bug: it panics at start-up,
    /// where every family is created.
    fn family<C>(&self, name: &'static str, make: impl FnOnce() -> prometheus::Result<C>) -> C
    where
        C: Collector + Clone + Send + Sync + 'static,
    {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = families.get(name) {
            return existing
                .downcast_ref::<C>()
                .unwrap_or_else(|| panic!("metric {name} is defined twice, with different kinds"))
                .clone();
        }
        let family = make().unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.registry
            .register(Box::new(family.clone()))
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        families.insert(name, Box::new(family.clone()));
        family
    }

    /// Every family in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("the text encoder writes to memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What `/readyz` asks: named checks, each `Err` with a short reason.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
}

/// How long a check may take before it counts as not answering.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

impl Readiness {
    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Readiness
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((
            name,
            Arc::new(move || Box::pin(check()) as BoxFuture<'_, _>),
        ));
        self
    }

    /// Ready while `client` is connected to NATS.
    pub fn nats(self, client: async_nats::Client) -> Readiness {
        self.check("nats", move || {
            let state = client.connection_state();
            async move {
                match state {
                    async_nats::connection::State::Connected => Ok(()),
                    other => Err(format!(
                        "not connected ({})",
                        format!("{other:?}").to_lowercase()
                    )),
                }
            }
        })
    }

    /// Runs every check at once.
    pub async fn report(&self) -> Report {
        let parts = futures::future::join_all(self.checks.iter().map(|(name, check)| async move {
            let result = tokio::time::timeout(CHECK_TIMEOUT, check())
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")));
            (*name, result)
        }))
        .await;
        Report { parts }
    }
}

/// The checks' results, in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub parts: Vec<(&'static str, Result<(), String>)>,
}

impl Report {
    pub fn ready(&self) -> bool {
        self.parts.iter().all(|(_, r)| r.is_ok())
    }

    /// One line per check: `nats: ok`, `registry: <why not>`.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .map(|(name, result)| match result {
                Ok(()) => format!("{name}: ok\n"),
                Err(why) => format!("{name}: {why}\n"),
            })
            .collect()
    }
}

/// `/metrics`, `/healthz` and `/readyz`, open (no token): Prometheus and
/// the orchestrator's probes call them.
pub fn router(metrics: Metrics, readiness: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state((metrics, readiness))
}

async fn render(State((metrics, _)): State<(Metrics, Readiness)>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        metrics.render(),
    )
        .into_response()
}

async fn ready(State((_, readiness)): State<(Metrics, Readiness)>) -> Response {
    let report = readiness.report().await;
    let status = if report.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, report.text()).into_response()
}

const ADDR_VAR: &str = "HERALD_METRICS_ADDR";

/// The address a setting names cannot be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} ({var})")]
pub struct ListenError {
    pub addr: SocketAddr,
    pub var: &'static str,
    #[source]
    pub source: std::io::Error,
}

impl ListenError {
    /// A listener on `addr`, which the setting `var` names, and the
    /// address it got (`:0` picks a port).
    pub async fn listen(
        addr: SocketAddr,
        var: &'static str,
    ) -> Result<(TcpListener, SocketAddr), ListenError> {
        let error = |source| ListenError { addr, var, source };
        let listener = TcpListener::bind(addr).await.map_err(error)?;
        let bound = listener.local_addr().map_err(error)?;
        Ok((listener, bound))
    }
}

/// Binds the metrics listener when an address is set; the error names
/// `HERALD_METRICS_ADDR`.
pub async fn bind(addr: Option<SocketAddr>) -> Result<Option<TcpListener>, ListenError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let (listener, _) = ListenError::listen(addr, ADDR_VAR).await?;
    Ok(Some(listener))
}

/// Serves [`router`] on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    readiness: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(metrics, readiness))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests;
