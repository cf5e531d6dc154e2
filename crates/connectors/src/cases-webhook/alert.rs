//! The default case of a case-management webhook: `pushToService` with the
//! headline as title, the alert as plain text, Kibana's case severity words
//! (low, medium, high, critical), the alert status as `status` and the
//! labels as tags. The follow-up updates the case the firing created (its
//! `external_id` handle, through the account's update URL) with a comment.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, headline, object, plain_text, push_to_opened, tags};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = match Level::of(alert) {
        Level::Critical => "critical",
        Level::Error => "high",
        Level::Warning => "medium",
        Level::Info | Level::Low => "low",
    };
    object(
        json!({"subAction": "pushToService", "subActionParams": {"incident": {
            "title": headline(alert),
            "description": plain_text(alert),
            "severity": severity,
            "status": if alert.is_resolved() { "resolved" } else { "firing" },
            "tags": tags(alert, 50, 256),
        }}}),
    )
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    push_to_opened(params, alert, handles, "external_id")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use super::follow_up;
    use crate::alert_parts::{assert_valid, plain_text, render};

    #[test]
    fn firing_and_resolved_cases() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("cases-webhook", &alert, &json!({}));
            let (word, status) = if alert.is_resolved() {
                ("RESOLVED", "resolved")
            } else {
                ("FIRING", "firing")
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "title": format!("[{word}] Error rate above 5% on web-1"),
                    "description": plain_text(&alert), "severity": "critical", "status": status,
                    "tags": ["alertname:HighErrorRate", "instance:web-1:9090", "job:web", "severity:critical"],
                }}})
            );
            assert_valid("cases-webhook", &params, &json!({}));
        }
        let alert = AlertView::sample(AlertPhase::Resolved);
        let handles = BTreeMap::from([("external_id".to_owned(), "77".to_owned())]);
        let followed = follow_up(
            render("cases-webhook", &alert, &json!({})),
            &alert,
            &handles,
        );
        assert_eq!(followed["subActionParams"]["incident"]["externalId"], "77");
        assert_valid("cases-webhook", &followed, &json!({}));
    }
}
