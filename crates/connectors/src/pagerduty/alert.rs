//! The default PagerDuty event of an alert: a `trigger` with the severity
//! mapped onto PagerDuty's four, the labels and annotations as custom
//! details and a link back; a `resolve` of the same `dedupKey`. The key is
//! the alert key (hashed when over PagerDuty's 255 characters), so a
//! resolve closes the incident its firing opened without any handle: this
//! type needs no follow-up.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, bounded_key, cut, details, object};

/// PagerDuty's limits, as the params schema has them.
const MAX_DEDUP_KEY: usize = 255;
const MAX_SUMMARY: usize = 1024;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let dedup_key = bounded_key(&alert.key, MAX_DEDUP_KEY);
    if alert.is_resolved() {
        return object(json!({"eventAction": "resolve", "dedupKey": dedup_key}));
    }
    let source = alert
        .labels
        .get("instance")
        .filter(|instance| !instance.is_empty())
        .cloned()
        .unwrap_or_else(|| {
            if alert.source.is_empty() {
                "herald".to_owned()
            } else {
                alert.source.clone()
            }
        });
    let mut params = object(json!({
        "eventAction": "trigger",
        "dedupKey": dedup_key,
        "summary": cut(alert.title(), MAX_SUMMARY),
        "severity": Level::of(alert).word(),
        "source": source,
        "customDetails": details(alert),
    }));
    for (field, label) in [
        ("component", "job"),
        ("group", "cluster"),
        ("class", "alertname"),
    ] {
        if let Some(value) = alert.labels.get(label).filter(|v| !v.is_empty()) {
            params.insert(field.into(), value.clone().into());
        }
    }
    if !alert.starts_at.is_empty() {
        params.insert("timestamp".into(), alert.starts_at.clone().into());
    }
    if !alert.source_url.is_empty() {
        params.insert(
            "links".into(),
            json!([{"href": alert.source_url, "text": "Source"}]),
        );
    }
    params
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_is_a_trigger_and_resolved_a_resolve_of_the_same_key() {
        let firing = render(
            "pagerduty",
            &AlertView::sample(AlertPhase::Firing),
            &json!({}),
        );
        assert_eq!(
            Value::Object(firing.clone()),
            json!({
                "eventAction": "trigger",
                "dedupKey": "sample-alert",
                "summary": "Error rate above 5% on web-1",
                "severity": "critical",
                "source": "web-1:9090",
                "component": "web",
                "class": "HighErrorRate",
                "timestamp": "2026-01-01T00:00:00Z",
                "customDetails": {
                    "alertname": "HighErrorRate", "instance": "web-1:9090", "job": "web",
                    "severity": "critical",
                    "summary": "Error rate above 5% on web-1",
                    "description": "5xx responses were 7.2% of all over 5 minutes.",
                },
                "links": [{"href": "https://prometheus.example.com/graph?g0.expr=errors", "text": "Source"}],
            })
        );
        assert_valid("pagerduty", &firing, &json!({}));
        let resolved = render(
            "pagerduty",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        assert_eq!(
            Value::Object(resolved.clone()),
            json!({"eventAction": "resolve", "dedupKey": "sample-alert"})
        );
        assert_valid("pagerduty", &resolved, &json!({}));
    }

    #[test]
    fn a_long_key_is_hashed_alike_in_trigger_and_resolve() {
        let mut alert = AlertView::sample(AlertPhase::Firing);
        alert.key = "{}:{alertname=\"x\"}".repeat(40);
        let firing = render("pagerduty", &alert, &json!({}));
        alert.status = AlertPhase::Resolved;
        let resolved = render("pagerduty", &alert, &json!({}));
        assert_eq!(firing["dedupKey"], resolved["dedupKey"]);
        assert!(firing["dedupKey"].as_str().unwrap().len() <= 255);
        assert_valid("pagerduty", &firing, &json!({}));
    }
}
