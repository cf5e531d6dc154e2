//! Ingest's metrics, on the process's [`herald_metrics::Metrics`]: events by
//! transport and outcome, actions accepted by connector type, and events
//! dead-lettered from `herald.event`. Every series is resolved at start, so
//! counting an event is an atomic add.

use std::collections::HashMap;

use herald_metrics::{IntCounter, Metrics};

/// How an event reached ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    Grpc,
    Http,
    Nats,
}

impl Via {
    const ALL: [Via; 3] = [Via::Grpc, Via::Http, Via::Nats];

    pub fn name(self) -> &'static str {
        match self {
            Via::Grpc => "grpc",
            Via::Http => "http",
            Via::Nats => "nats",
        }
    }
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubmitOutcome {
    Accepted,
    /// Answered from the idempotency record; nothing published.
    Replayed,
    Invalid,
    Unavailable,
}

impl SubmitOutcome {
    const ALL: [SubmitOutcome; 4] = [
        SubmitOutcome::Accepted,
        SubmitOutcome::Replayed,
        SubmitOutcome::Invalid,
        SubmitOutcome::Unavailable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SubmitOutcome::Accepted => "accepted",
            SubmitOutcome::Replayed => "replayed",
            SubmitOutcome::Invalid => "invalid",
            SubmitOutcome::Unavailable => "unavailable",
        }
    }
}

pub struct IngestMetrics {
    /// By `Via as usize`, then `SubmitOutcome as usize`.
    events: [[IntCounter; 4]; 3],
    /// By catalog type id.
    accepted: HashMap<&'static str, IntCounter>,
    /// By catalog type id: recorded by an alert's lifecycle, not sent.
    suppressed: HashMap<&'static str, IntCounter>,
    /// Alert events by what they did: fired, repeated, resolved.
    alerts: [IntCounter; 3],
    dead_events: IntCounter,
}

impl IngestMetrics {
    pub fn new(metrics: &Metrics) -> IngestMetrics {
        let events = metrics.counter_vec(
            "herald_ingest_events_total",
            "Events received, by transport and outcome.",
            &["via", "outcome"],
        );
        let accepted = metrics.counter_vec(
            "herald_actions_accepted_total",
            "Action requests accepted and stored on JetStream, by connector type.",
            &["type"],
        );
        let suppressed = metrics.counter_vec(
            "herald_actions_suppressed_total",
            "Actions an alert's lifecycle recorded without sending (throttled or acknowledged repeats), by connector type.",
            &["type"],
        );
        let alerts = metrics.counter_vec(
            "herald_alert_events_total",
            "Events about an alert, by what they were: a new firing, a repeat, a resolve.",
            &["kind"],
        );
        IngestMetrics {
            suppressed: herald_connectors::catalog()
                .all()
                .iter()
                .map(|spec| (spec.id, suppressed.with_label_values(&[spec.id])))
                .collect(),
            alerts: ["fired", "repeated", "resolved"].map(|kind| alerts.with_label_values(&[kind])),
            events: Via::ALL.map(|via| {
                SubmitOutcome::ALL
                    .map(|outcome| events.with_label_values(&[via.name(), outcome.name()]))
            }),
            accepted: herald_connectors::catalog()
                .all()
                .iter()
                .map(|spec| (spec.id, accepted.with_label_values(&[spec.id])))
                .collect(),
            dead_events: metrics.counter(
                "herald_ingest_dead_events_total",
                "Events from the NATS subject that could not be accepted.",
            ),
        }
    }

    pub fn event(&self, via: Via, outcome: SubmitOutcome) {
        self.events[via as usize][outcome as usize].inc();
    }

    pub fn actions_accepted<'a>(&self, connector_types: impl IntoIterator<Item = &'a str>) {
        for t in connector_types {
            if let Some(counter) = self.accepted.get(t) {
                counter.inc();
            }
        }
    }

    pub fn actions_suppressed<'a>(&self, connector_types: impl IntoIterator<Item = &'a str>) {
        for t in connector_types {
            if let Some(counter) = self.suppressed.get(t) {
                counter.inc();
            }
        }
    }

    pub fn alert(&self, decision: &crate::lifecycle::Decision) {
        let kind = if decision.resolved {
            2
        } else if decision.new_cycle {
            0
        } else {
            1
        };
        self.alerts[kind].inc();
    }

    pub fn dead_event(&self) {
        self.dead_events.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let metrics = Metrics::default();
        let m = IngestMetrics::new(&metrics);
        m.event(Via::Http, SubmitOutcome::Accepted);
        m.event(Via::Http, SubmitOutcome::Accepted);
        m.event(Via::Nats, SubmitOutcome::Invalid);
        m.actions_accepted(["slack", "slack", "email"]);
        let text = metrics.render();
        for line in [
            "herald_ingest_events_total{outcome=\"accepted\",via=\"http\"} 2",
            "herald_ingest_events_total{outcome=\"invalid\",via=\"nats\"} 1",
            "herald_ingest_events_total{outcome=\"accepted\",via=\"grpc\"} 0",
            "herald_actions_accepted_total{type=\"slack\"} 2",
            "herald_actions_accepted_total{type=\"email\"} 1",
            "herald_actions_accepted_total{type=\"teams\"} 0",
            "herald_ingest_dead_events_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }
}
