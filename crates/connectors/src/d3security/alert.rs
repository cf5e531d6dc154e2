//! The default D3 SOAR event of an alert: `run` with the alert as the JSON
//! body (`status` `firing` or `resolved`), D3's high / medium / low from the
//! level, and the alert's name as the event type.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, document, object};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = match Level::of(alert) {
        Level::Critical | Level::Error => "high",
        Level::Warning => "medium",
        Level::Info | Level::Low => "low",
    };
    let event_type = alert
        .labels
        .get("alertname")
        .map_or(alert.title(), String::as_str);
    object(json!({"subAction": "run", "subActionParams": {
        "body": document(alert).to_string(),
        "severity": severity,
        "eventType": event_type,
    }}))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_and_resolved_events() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("d3security", &alert, &json!({}));
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "run", "subActionParams": {
                    "body": alert.to_value().to_string(), "severity": "high", "eventType": "HighErrorRate",
                }})
            );
            assert_valid("d3security", &params, &json!({}));
        }
    }
}
