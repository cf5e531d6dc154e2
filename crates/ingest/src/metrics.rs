//! Counters served on `GET /metrics` in Prometheus' text format. A handful
//! of counters behind one mutex: an event costs registry lookups and
//! JetStream round trips, so a lock per event is noise.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// How an event reached ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    Grpc,
    Http,
    Nats,
}

impl Via {
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
pub enum Outcome {
    Accepted,
    /// Answered from the idempotency record; nothing published.
    Replayed,
    Invalid,
    Unavailable,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Replayed => "replayed",
            Outcome::Invalid => "invalid",
            Outcome::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    events: BTreeMap<(Via, Outcome), u64>,
    actions: BTreeMap<String, u64>,
    dead_events: u64,
}

impl Metrics {
    pub fn event(&self, via: Via, outcome: Outcome) {
        *self.lock().events.entry((via, outcome)).or_default() += 1;
    }

    pub fn actions_published<'a>(&self, connector_types: impl IntoIterator<Item = &'a str>) {
        let mut counters = self.lock();
        for t in connector_types {
            match counters.actions.get_mut(t) {
                Some(n) => *n += 1,
                None => {
                    counters.actions.insert(t.to_owned(), 1);
                }
            }
        }
    }

    pub fn dead_event(&self) {
        self.lock().dead_events += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let c = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP herald_ingest_events_total Events received, by transport and outcome.\n",
        );
        out.push_str("# TYPE herald_ingest_events_total counter\n");
        for ((via, outcome), n) in &c.events {
            let _ = writeln!(
                out,
                "herald_ingest_events_total{{via=\"{}\",outcome=\"{}\"}} {n}",
                via.name(),
                outcome.name()
            );
        }
        out.push_str(
            "# HELP herald_ingest_actions_published_total Action requests stored on JetStream, by connector type.\n",
        );
        out.push_str("# TYPE herald_ingest_actions_published_total counter\n");
        for (t, n) in &c.actions {
            let _ = writeln!(
                out,
                "herald_ingest_actions_published_total{{connector_type=\"{t}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP herald_ingest_dead_events_total Events from the NATS subject that could not be accepted.\n",
        );
        out.push_str("# TYPE herald_ingest_dead_events_total counter\n");
        let _ = writeln!(out, "herald_ingest_dead_events_total {}", c.dead_events);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.event(Via::Http, Outcome::Accepted);
        m.event(Via::Http, Outcome::Accepted);
        m.actions_published(["slack", "slack", "email"]);
        let text = m.render();
        assert!(text.contains("herald_ingest_events_total{via=\"http\",outcome=\"accepted\"} 2"));
        assert!(text.contains("herald_ingest_actions_published_total{connector_type=\"slack\"} 2"));
        assert!(text.contains("herald_ingest_dead_events_total 0"));
    }
}
