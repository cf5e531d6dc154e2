//! The default TheHive case of an alert: `pushToService` with the headline
//! as title, the alert as plain text, severity 1 (low) to 4 (critical),
//! amber TLP and the labels as tags. The follow-up updates the case the
//! firing opened (its `case_id` handle) with a comment.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, headline, object, plain_text, push_to_opened, tags};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = match Level::of(alert) {
        Level::Critical => 4,
        Level::Error => 3,
        Level::Warning => 2,
        Level::Info | Level::Low => 1,
    };
    object(
        json!({"subAction": "pushToService", "subActionParams": {"incident": {
            "title": headline(alert),
            "description": plain_text(alert),
            "severity": severity,
            "tlp": 2,
            "tags": tags(alert, 50, 128),
        }}}),
    )
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    push_to_opened(params, alert, handles, "case_id")
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
            let params = render("thehive", &alert, &json!({}));
            let word = if alert.is_resolved() {
                "RESOLVED"
            } else {
                "FIRING"
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "title": format!("[{word}] Error rate above 5% on web-1"),
                    "description": plain_text(&alert), "severity": 4, "tlp": 2,
                    "tags": ["alertname:HighErrorRate", "instance:web-1:9090", "job:web", "severity:critical"],
                }}})
            );
            assert_valid("thehive", &params, &json!({}));
        }
        let alert = AlertView::sample(AlertPhase::Resolved);
        let handles = BTreeMap::from([("case_id".to_owned(), "~4200".to_owned())]);
        let followed = follow_up(render("thehive", &alert, &json!({})), &alert, &handles);
        assert_eq!(
            followed["subActionParams"]["incident"]["externalId"],
            "~4200"
        );
        assert_valid("thehive", &followed, &json!({}));
    }
}
