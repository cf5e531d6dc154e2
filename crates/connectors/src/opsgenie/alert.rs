//! The default Opsgenie alert: `createAlert` with the alert key as alias
//! (hashed past Opsgenie's 512 characters, as the worker would), P1–P5
//! from the severity, the labels as tags and details; resolved, a
//! `closeAlert` by the same alias. Opsgenie deduplicates and closes by the
//! alias, so a repeat or a resolve reaches the first alert without any
//! handle: this type needs no follow-up.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, bounded_key, cut, details, headline, object, plain_text, tags};

/// Opsgenie's limits, as the params schema has them.
const MAX_ALIAS: usize = 512;
const MAX_MESSAGE: usize = 130;
const MAX_DESCRIPTION: usize = 15_000;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let alias = bounded_key(&alert.key, MAX_ALIAS);
    if alert.is_resolved() {
        return object(json!({
            "subAction": "closeAlert",
            "subActionParams": {"alias": alias, "source": "Herald", "note": cut(&headline(alert), 25_000)},
        }));
    }
    let priority = match Level::of(alert) {
        Level::Critical => "P1",
        Level::Error => "P2",
        Level::Warning => "P3",
        Level::Info => "P4",
        Level::Low => "P5",
    };
    let mut create = object(json!({
        "message": cut(alert.title(), MAX_MESSAGE),
        "alias": alias,
        "description": cut(&plain_text(alert), MAX_DESCRIPTION),
        "priority": priority,
        "tags": tags(alert, 20, 50),
        "details": details(alert),
        "source": "Herald",
    }));
    if let Some(instance) = alert.labels.get("instance").filter(|i| !i.is_empty()) {
        create.insert("entity".into(), cut(instance, 512).into());
    }
    object(json!({"subAction": "createAlert", "subActionParams": create}))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, plain_text, render};

    #[test]
    fn firing_creates_by_alias_and_resolved_closes_it() {
        let alert = AlertView::sample(AlertPhase::Firing);
        let firing = render("opsgenie", &alert, &json!({}));
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"subAction": "createAlert", "subActionParams": {
                "message": "Error rate above 5% on web-1",
                "alias": "sample-alert",
                "description": plain_text(&alert),
                "priority": "P1",
                "tags": ["alertname:HighErrorRate", "instance:web-1:9090", "job:web", "severity:critical"],
                "details": {
                    "alertname": "HighErrorRate", "instance": "web-1:9090", "job": "web",
                    "severity": "critical",
                    "summary": "Error rate above 5% on web-1",
                    "description": "5xx responses were 7.2% of all over 5 minutes.",
                },
                "source": "Herald",
                "entity": "web-1:9090",
            }})
        );
        assert_valid("opsgenie", &firing, &json!({}));
        let resolved = render(
            "opsgenie",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        assert_eq!(
            Value::Object(resolved.clone()),
            json!({"subAction": "closeAlert", "subActionParams": {
                "alias": "sample-alert", "source": "Herald",
                "note": "[RESOLVED] Error rate above 5% on web-1",
            }})
        );
        assert_valid("opsgenie", &resolved, &json!({}));
    }

    #[test]
    fn priorities_follow_the_severity() {
        for (severity, priority) in [
            ("critical", "P1"),
            ("error", "P2"),
            ("warning", "P3"),
            ("info", "P4"),
            ("debug", "P5"),
        ] {
            let mut alert = AlertView::sample(AlertPhase::Firing);
            alert.severity = severity.into();
            let params = render("opsgenie", &alert, &json!({}));
            assert_eq!(
                params["subActionParams"]["priority"], priority,
                "{severity}"
            );
        }
    }
}
