//! The runtime's metrics, per connector type, on the process's
//! [`herald_metrics::Metrics`]. The series of each type this worker serves
//! are resolved when it starts, so the delivery path only does atomic adds
//! (no label search, no allocation); only failures, a small fixed set of
//! reasons, look their series up.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use herald_metrics::{Histogram, IntCounter, IntCounterVec, IntGauge, Metrics};
use herald_proto::v1::ErrorKind;

use crate::admission::Deferral;

/// One connector type's series.
pub(crate) struct TypeMetrics {
    connector_type: &'static str,
    delivered: IntCounter,
    attempts_delivered: IntCounter,
    attempts_retry: IntCounter,
    attempts_failed: IntCounter,
    latency: Histogram,
    in_flight: IntGauge,
    dead_letters: IntCounter,
    deferred_rate_limit: IntCounter,
    deferred_account_busy: IntCounter,
    deferred_opener: IntCounter,
    pub(crate) pending: IntGauge,
}

pub(crate) struct WorkerMetrics {
    types: HashMap<&'static str, TypeMetrics>,
    failed: IntCounterVec,
}

impl WorkerMetrics {
    pub(crate) fn new(metrics: &Metrics, types: &[&'static str]) -> WorkerMetrics {
        let delivered = metrics.counter_vec(
            "herald_actions_delivered_total",
            "Actions delivered, by connector type.",
            &["type"],
        );
        let attempts = metrics.counter_vec(
            "herald_delivery_attempts_total",
            "Delivery attempts that ended, by connector type and outcome (delivered, retry, failed).",
            &["type", "outcome"],
        );
        let latency = metrics.histogram_vec(
            "herald_delivery_latency_seconds",
            "Time from acceptance by ingest to delivery, retries included, by connector type.",
            &["type"],
            herald_metrics::DELIVERY_BUCKETS,
        );
        let in_flight = metrics.gauge_vec(
            "herald_actions_in_flight",
            "Actions being worked on by this process, by connector type.",
            &["type"],
        );
        let dead_letters = metrics.counter_vec(
            "herald_dead_letters_total",
            "Actions dead-lettered on herald.dead.<type>, by connector type.",
            &["type"],
        );
        let pending = metrics.gauge_vec(
            "herald_consumer_pending",
            "Actions waiting in the JetStream consumer (pending plus unacknowledged), by connector type.",
            &["type"],
        );
        let deferred = metrics.counter_vec(
            "herald_deliveries_deferred_total",
            "Messages sent back to JetStream without an attempt, by connector type and reason (rate_limit: the account's turn is later; account_busy: the account has delivery.max_in_flight_per_account in flight).",
            &["type", "reason"],
        );
        let failed = metrics.counter_vec(
            "herald_actions_failed_total",
            "Actions failed for good, by connector type and reason (the error kind).",
            &["type", "reason"],
        );
        let types = types
            .iter()
            .map(|&t| {
                let attempts = |outcome: &str| attempts.with_label_values(&[t, outcome]);
                let metrics = TypeMetrics {
                    connector_type: t,
                    delivered: delivered.with_label_values(&[t]),
                    attempts_delivered: attempts("delivered"),
                    attempts_retry: attempts("retry"),
                    attempts_failed: attempts("failed"),
                    latency: latency.with_label_values(&[t]),
                    in_flight: in_flight.with_label_values(&[t]),
                    dead_letters: dead_letters.with_label_values(&[t]),
                    deferred_rate_limit: deferred.with_label_values(&[t, "rate_limit"]),
                    deferred_account_busy: deferred.with_label_values(&[t, "account_busy"]),
                    deferred_opener: deferred.with_label_values(&[t, "opener"]),
                    pending: pending.with_label_values(&[t]),
                };
                (t, metrics)
            })
            .collect();
        WorkerMetrics { types, failed }
    }

    /// The series of a type this worker serves; `None` for any other.
    pub(crate) fn of(&self, connector_type: &str) -> Option<&TypeMetrics> {
        self.types.get(connector_type)
    }

    pub(crate) fn delivered(&self, connector_type: &str, accepted_at: Option<SystemTime>) {
        if let Some(t) = self.of(connector_type) {
            t.delivered.inc();
            t.attempts_delivered.inc();
            if let Some(latency) = accepted_at.and_then(|at| at.elapsed().ok()) {
                t.latency.observe(latency.as_secs_f64());
            }
        }
    }

    pub(crate) fn retry(&self, connector_type: &str) {
        if let Some(t) = self.of(connector_type) {
            t.attempts_retry.inc();
        }
    }

    pub(crate) fn deferred(&self, connector_type: &str, why: Deferral) {
        if let Some(t) = self.of(connector_type) {
            match why {
                Deferral::RateLimit => t.deferred_rate_limit.inc(),
                Deferral::AccountBusy => t.deferred_account_busy.inc(),
                Deferral::Opener => t.deferred_opener.inc(),
            }
        }
    }

    /// Failed for good, and dead-lettered.
    pub(crate) fn failed(&self, connector_type: &str, kind: ErrorKind) {
        if let Some(t) = self.of(connector_type) {
            t.attempts_failed.inc();
            t.dead_letters.inc();
            self.failed
                .with_label_values(&[t.connector_type, reason(kind)])
                .inc();
        }
    }
}

/// Counts the message in flight until dropped.
pub(crate) struct InFlight<'a>(Option<&'a TypeMetrics>);

impl<'a> InFlight<'a> {
    pub(crate) fn start(t: Option<&'a TypeMetrics>) -> InFlight<'a> {
        if let Some(t) = t {
            t.in_flight.inc();
        }
        InFlight(t)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.0 {
            t.in_flight.dec();
        }
    }
}

/// The `reason` label: the error kind's name, a fixed set (never the
/// error's text, which may hold anything a vendor answered).
fn reason(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unspecified => "unspecified",
        ErrorKind::Network => "network",
        ErrorKind::Throttled => "throttled",
        ErrorKind::VendorTemporary => "vendor_temporary",
        ErrorKind::VendorRejected => "vendor_rejected",
        ErrorKind::Auth => "auth",
        ErrorKind::InvalidConfig => "invalid_config",
        ErrorKind::InvalidParams => "invalid_params",
        ErrorKind::Malformed => "malformed",
        ErrorKind::Policy => "policy",
        ErrorKind::AccountMissing => "account_missing",
        ErrorKind::RegistryUnavailable => "registry_unavailable",
        ErrorKind::AttemptsExhausted => "attempts_exhausted",
        ErrorKind::Internal => "internal",
    }
}

/// How often each consumer's backlog is read into `herald_consumer_pending`.
pub(crate) const PENDING_REFRESH: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_type_and_reason() {
        let metrics = Metrics::default();
        let m = WorkerMetrics::new(&metrics, &["slack", "teams"]);
        assert!(m.of("email").is_none());
        m.delivered("slack", Some(SystemTime::now() - Duration::from_millis(30)));
        m.retry("slack");
        m.failed("slack", ErrorKind::VendorRejected);
        m.failed("email", ErrorKind::VendorRejected);
        m.deferred("slack", Deferral::RateLimit);
        m.deferred("slack", Deferral::RateLimit);
        m.deferred("teams", Deferral::AccountBusy);
        {
            let _in_flight = InFlight::start(m.of("slack"));
            assert!(
                metrics
                    .render()
                    .contains("herald_actions_in_flight{type=\"slack\"} 1")
            );
        }
        let text = metrics.render();
        for line in [
            "herald_actions_delivered_total{type=\"slack\"} 1",
            "herald_actions_delivered_total{type=\"teams\"} 0",
            "herald_delivery_attempts_total{outcome=\"delivered\",type=\"slack\"} 1",
            "herald_delivery_attempts_total{outcome=\"retry\",type=\"slack\"} 1",
            "herald_delivery_attempts_total{outcome=\"failed\",type=\"slack\"} 1",
            "herald_actions_failed_total{reason=\"vendor_rejected\",type=\"slack\"} 1",
            "herald_dead_letters_total{type=\"slack\"} 1",
            "herald_delivery_latency_seconds_bucket{type=\"slack\",le=\"0.025\"} 0",
            "herald_delivery_latency_seconds_bucket{type=\"slack\",le=\"0.05\"} 1",
            "herald_delivery_latency_seconds_count{type=\"slack\"} 1",
            "herald_actions_in_flight{type=\"slack\"} 0",
            "herald_consumer_pending{type=\"teams\"} 0",
            "herald_deliveries_deferred_total{reason=\"rate_limit\",type=\"slack\"} 2",
            "herald_deliveries_deferred_total{reason=\"account_busy\",type=\"teams\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }
}
