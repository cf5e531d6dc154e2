//! The alert an action is about, as templates and the default renderings
//! see it (`{{alert.summary}}`, `{{alert.labels.instance}}`): one shape for
//! every producer, whether the alert came in a native event, an
//! Alertmanager webhook or a Grafana one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertPhase {
    #[default]
    Firing,
    Resolved,
}

/// The template variable `alert`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    /// The alert's thread: the same key is the same alert.
    pub key: String,
    pub status: AlertPhase,
    /// `critical`, `error`, `warning`, `info`, or as the producer gave it.
    pub severity: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// One line: the producer's summary, else its `alertname`, else the key
    /// (see [`AlertView::title`]).
    pub summary: String,
    pub description: String,
    /// A link back to the alert in its source; empty when there is none.
    pub source_url: String,
    /// RFC 3339, or empty.
    pub starts_at: String,
    pub ends_at: String,
    /// `alertmanager`, `grafana`, or the producer's own name.
    pub source: String,
    /// The route the action came from; empty for an event's own actions.
    pub route: String,
    /// True when this is a repeat of an alert still firing (an update).
    pub repeat: bool,
    /// Times the alert was received in this firing cycle, this one included.
    pub count: u64,
}

impl AlertView {
    /// What a notification's title says: the summary, else the
    /// `alertname` label, else the key.
    pub fn title(&self) -> &str {
        if !self.summary.is_empty() {
            &self.summary
        } else if let Some(name) = self.labels.get("alertname").filter(|n| !n.is_empty()) {
            name
        } else {
            &self.key
        }
    }

    pub fn is_resolved(&self) -> bool {
        self.status == AlertPhase::Resolved
    }

    /// The alert as a template variable.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// An alert with every field set, for checking that a route's params
    /// templates render (the registry renders them on save).
    pub fn sample(phase: AlertPhase) -> AlertView {
        let labels: BTreeMap<String, String> = [
            ("alertname", "HighErrorRate"),
            ("severity", "critical"),
            ("instance", "web-1:9090"),
            ("job", "web"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let annotations = [
            ("summary", "Error rate above 5% on web-1"),
            (
                "description",
                "5xx responses were 7.2% of all over 5 minutes.",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        AlertView {
            key: "sample-alert".into(),
            status: phase,
            severity: "critical".into(),
            labels,
            annotations,
            summary: "Error rate above 5% on web-1".into(),
            description: "5xx responses were 7.2% of all over 5 minutes.".into(),
            source_url: "https://prometheus.example.com/graph?g0.expr=errors".into(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            ends_at: if phase == AlertPhase::Resolved {
                "2026-01-01T00:10:00Z".into()
            } else {
                String::new()
            },
            source: "herald".into(),
            route: "sample-route".into(),
            repeat: false,
            count: 1,
        }
    }
}

/// A connector type's default rendering of an alert into its params, in the
/// vendor's idiom (a Block Kit message, a PagerDuty event with a mapped
/// severity, ...): `(alert, account config) -> params`. Firing and resolved
/// are both rendered by it, from `alert.status`.
pub type AlertParams = fn(&AlertView, &Map<String, Value>) -> Map<String, Value>;

/// Rewrites an action's params so that it updates or resolves the vendor
/// object its alert's first delivery opened, from that delivery's handles
/// (`ts` and `channel` of a Slack message, a Jira issue id, an e-mail's
/// Message-ID): `(params, the alert, the opener's handles) -> params`.
/// Called by the worker just before delivering an action that `follows`
/// another.
pub type FollowUp =
    fn(Map<String, Value>, &AlertView, &BTreeMap<String, String>) -> Map<String, Value>;
