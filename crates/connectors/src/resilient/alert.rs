//! The default IBM Resilient incident of an alert: `pushToService` with the
//! headline as name, the alert as plain text, and the severity code of
//! Resilient's default Low (4), Medium (5) and High (6). The follow-up
//! updates the incident the firing opened (its `incident_id` handle) with
//! a comment.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, headline, object, plain_text, push_to_opened};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = match Level::of(alert) {
        Level::Critical | Level::Error => 6,
        Level::Warning => 5,
        Level::Info | Level::Low => 4,
    };
    object(
        json!({"subAction": "pushToService", "subActionParams": {"incident": {
            "name": headline(alert),
            "description": plain_text(alert),
            "severityCode": severity,
        }}}),
    )
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    push_to_opened(params, alert, handles, "incident_id")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use super::follow_up;
    use crate::alert_parts::{assert_valid, plain_text, render};

    #[test]
    fn firing_and_resolved_incidents() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("resilient", &alert, &json!({}));
            let word = if alert.is_resolved() {
                "RESOLVED"
            } else {
                "FIRING"
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "name": format!("[{word}] Error rate above 5% on web-1"),
                    "description": plain_text(&alert), "severityCode": 6,
                }}})
            );
            assert_valid("resilient", &params, &json!({}));
        }
        let alert = AlertView::sample(AlertPhase::Resolved);
        let handles = BTreeMap::from([("incident_id".to_owned(), "2095".to_owned())]);
        let followed = follow_up(render("resilient", &alert, &json!({})), &alert, &handles);
        assert_eq!(
            followed["subActionParams"]["incident"]["externalId"],
            "2095"
        );
        assert_valid("resilient", &followed, &json!({}));
    }
}
