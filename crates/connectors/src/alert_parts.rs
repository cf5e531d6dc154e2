//! What the default renderings of an alert (each connector's `alert.rs`,
//! `Extras::alert_params`) share: one severity scale read from whatever
//! the producer sent, a vendor key derived from the alert key that fits a
//! vendor's length limit, and the plain-text wording of an alert.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value};

/// An alert's severity on one scale, from which each vendor's own is
/// mapped (PagerDuty's four words, Opsgenie's P1–P5, ServiceNow's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Critical,
    Error,
    Warning,
    Info,
    /// Below info: `debug`, `none`, `p5`.
    Low,
}

impl Level {
    /// The producer's severity, by the names Prometheus rules, Grafana and
    /// the vendors use. Empty or unknown is `Error`, as Alertmanager's own
    /// PagerDuty integration defaults to `error`: an alert nobody graded is
    /// still an alert.
    pub fn of(alert: &AlertView) -> Level {
        match alert.severity.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "fatal" | "emergency" | "emerg" | "alert" | "disaster"
            | "page" | "p1" | "sev1" | "1" => Level::Critical,
            "warning" | "warn" | "medium" | "minor" | "average" | "p3" | "sev3" | "3" => {
                Level::Warning
            }
            "info" | "informational" | "information" | "notice" | "low" | "p4" | "sev4" | "4" => {
                Level::Info
            }
            "debug" | "none" | "ok" | "p5" | "sev5" | "5" => Level::Low,
            _ => Level::Error,
        }
    }

    /// PagerDuty's `critical`, `error`, `warning`, `info`.
    pub fn word(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info | Level::Low => "info",
        }
    }
}

/// `key` itself when it has at most `max` characters, else `sha-` and its
/// SHA-256 in hex (68 characters), as Kibana's Opsgenie connector shortens
/// aliases: stable, so a resolve names what the firing opened.
pub fn bounded_key(key: &str, max: usize) -> String {
    if key.chars().count() <= max {
        return key.to_owned();
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha-{hex}")
}

/// `FIRING` or `RESOLVED`.
pub fn status_word(alert: &AlertView) -> &'static str {
    if alert.is_resolved() {
        "RESOLVED"
    } else {
        "FIRING"
    }
}

/// `[FIRING] <title>` or `[RESOLVED] <title>`.
pub fn headline(alert: &AlertView) -> String {
    format!("[{}] {}", status_word(alert), alert.title())
}

/// The alert as plain text: the headline, severity, description, labels,
/// annotations, the link back and the times. For vendors that show text
/// as it is (ServiceNow, Jira, server logs).
pub fn plain_text(alert: &AlertView) -> String {
    let mut text = headline(alert);
    text.push_str(&format!("\nSeverity: {}", shown_severity(alert)));
    if !alert.description.is_empty() {
        text.push_str(&format!("\n\n{}", alert.description));
    }
    if !alert.labels.is_empty() {
        text.push_str("\n\nLabels:");
        for (name, value) in &alert.labels {
            text.push_str(&format!("\n- {name}: {value}"));
        }
    }
    let annotations: Vec<_> = shown_annotations(alert).collect();
    if !annotations.is_empty() {
        text.push_str("\n\nAnnotations:");
        for (name, value) in annotations {
            text.push_str(&format!("\n- {name}: {value}"));
        }
    }
    text.push('\n');
    for (name, value) in times(alert) {
        text.push_str(&format!("\n{name}: {value}"));
    }
    if !alert.source_url.is_empty() {
        text.push_str(&format!("\nSource: {}", alert.source_url));
    }
    text
}

/// The severity as the producer wrote it, or the mapped word when it gave
/// none.
pub fn shown_severity(alert: &AlertView) -> &str {
    if alert.severity.trim().is_empty() {
        Level::of(alert).word()
    } else {
        &alert.severity
    }
}

/// The annotations other than the summary and description, which a
/// rendering shows on their own.
pub fn shown_annotations(alert: &AlertView) -> impl Iterator<Item = (&String, &String)> {
    alert
        .annotations
        .iter()
        .filter(|(name, value)| match name.as_str() {
            "summary" => *value != &alert.summary,
            "description" => *value != &alert.description,
            _ => true,
        })
}

/// `Started` and, once resolved, `Ended`, those that are known.
pub fn times(alert: &AlertView) -> Vec<(&'static str, &str)> {
    let mut times = Vec::new();
    if !alert.starts_at.is_empty() {
        times.push(("Started", alert.starts_at.as_str()));
    }
    if alert.is_resolved() && !alert.ends_at.is_empty() {
        times.push(("Ended", alert.ends_at.as_str()));
    }
    times
}

/// Labels, then annotations not already shown, as one string map (the
/// `details` of Opsgenie, PagerDuty's `custom_details`).
pub fn details(alert: &AlertView) -> Map<String, Value> {
    let mut details = Map::new();
    for (name, value) in &alert.labels {
        details.insert(name.clone(), value.clone().into());
    }
    for (name, value) in &alert.annotations {
        details
            .entry(name.clone())
            .or_insert_with(|| value.clone().into());
    }
    details
}

/// The alert as a JSON document, for the types whose params are a body
/// (webhook, Torq, Tines, D3, an index document): the `alert` template
/// variable, `status` included.
pub fn document(alert: &AlertView) -> Value {
    alert.to_value()
}

/// The labels as tags `name:value`, at most `max` of them, each at most
/// `max_len` characters (Opsgenie's and TheHive's tag limits).
pub fn tags(alert: &AlertView, max: usize, max_len: usize) -> Vec<String> {
    alert
        .labels
        .iter()
        .map(|(name, value)| {
            let tag = format!("{name}:{value}");
            cut(&tag, max_len)
        })
        .take(max)
        .collect()
}

/// The follow-up of the `pushToService` types that update a record by its
/// id (`externalId`): with the opener's `handle`, the push updates that
/// record and adds a comment saying what happened, instead of opening a
/// second one. Other params, or no handle, are left as they are.
pub fn push_to_opened(
    mut params: Map<String, Value>,
    alert: &AlertView,
    handles: &std::collections::BTreeMap<String, String>,
    handle: &str,
) -> Map<String, Value> {
    let Some(id) = handles.get(handle).filter(|id| !id.is_empty()) else {
        return params;
    };
    if params.get("subAction").and_then(Value::as_str) != Some("pushToService") {
        return params;
    }
    let Some(Value::Object(push)) = params.get_mut("subActionParams") else {
        return params;
    };
    let Some(Value::Object(incident)) = push.get_mut("incident") else {
        return params;
    };
    incident.insert("externalId".into(), id.clone().into());
    let comment = if alert.is_resolved() {
        format!("Resolved: {}", alert.title())
    } else {
        format!("{}: {}", still_firing(alert), alert.title())
    };
    let comments = push
        .entry("comments")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !comments.is_array() {
        *comments = Value::Array(Vec::new());
    }
    if let Value::Array(comments) = comments {
        comments.push(serde_json::json!({"commentId": "herald", "comment": comment}));
    }
    params
}

/// `Still firing`, with how many times it was received when known.
pub fn still_firing(alert: &AlertView) -> String {
    if alert.count > 1 {
        format!("Still firing (received {} times)", alert.count)
    } else {
        "Still firing".to_owned()
    }
}

/// `text`'s first `max` characters.
pub fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Builds a params map from `json!`: the renderings write their params as
/// JSON literals.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("renderings build objects"),
    }
}

/// For the renderings' tests: `params` pass the type's schema, params
/// rules and action rules against `config`, as ingest checks them.
#[cfg(test)]
pub fn assert_valid(connector_type: &str, params: &Map<String, Value>, config: &Value) {
    let spec = crate::catalog().get(connector_type).expect("a known type");
    let value = Value::Object(params.clone());
    spec.validate_params(&value, "params", &herald_catalog::Policy::default())
        .unwrap_or_else(|v| panic!("{connector_type}: {v}\n{value:#}"));
    let mut out = herald_catalog::Violations::new();
    let empty = Map::new();
    (spec.action_rules)(
        params,
        config.as_object().unwrap_or(&empty),
        "params",
        &mut out,
    );
    assert!(out.is_empty(), "{connector_type}: {out}");
}

/// The type's registered rendering of `alert`.
#[cfg(test)]
pub fn render(connector_type: &str, alert: &AlertView, config: &Value) -> Map<String, Value> {
    let spec = crate::catalog().get(connector_type).expect("a known type");
    let render = spec.extras.alert_params.expect("a rendering");
    let empty = Map::new();
    render(alert, config.as_object().unwrap_or(&empty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_catalog::alert::AlertPhase;

    #[test]
    fn severities_map_onto_one_scale() {
        let level = |severity: &str| {
            Level::of(&AlertView {
                severity: severity.into(),
                ..AlertView::default()
            })
        };
        assert_eq!(level("critical"), Level::Critical);
        assert_eq!(level(" P1 "), Level::Critical);
        assert_eq!(level("error"), Level::Error);
        assert_eq!(level("high"), Level::Error);
        assert_eq!(level(""), Level::Error);
        assert_eq!(level("whatever"), Level::Error);
        assert_eq!(level("Warning"), Level::Warning);
        assert_eq!(level("info"), Level::Info);
        assert_eq!(level("none"), Level::Low);
        assert_eq!(Level::Low.word(), "info");
    }

    #[test]
    fn long_keys_are_hashed_short_ones_kept() {
        assert_eq!(bounded_key("web-1", 255), "web-1");
        let long = "k".repeat(256);
        let hashed = bounded_key(&long, 255);
        assert_eq!(hashed.len(), 68);
        assert!(hashed.starts_with("sha-"));
        assert_eq!(hashed, bounded_key(&long, 255), "stable");
        assert_eq!(bounded_key(&"k".repeat(255), 255), "k".repeat(255));
    }

    #[test]
    fn plain_text_shows_every_part() {
        let text = plain_text(&AlertView::sample(AlertPhase::Resolved));
        assert_eq!(
            text,
            "[RESOLVED] Error rate above 5% on web-1\nSeverity: critical\n\n\
             5xx responses were 7.2% of all over 5 minutes.\n\nLabels:\n\
             - alertname: HighErrorRate\n- instance: web-1:9090\n- job: web\n- severity: critical\n\n\
             Started: 2026-01-01T00:00:00Z\nEnded: 2026-01-01T00:10:00Z\n\
             Source: https://prometheus.example.com/graph?g0.expr=errors"
        );
    }
}
