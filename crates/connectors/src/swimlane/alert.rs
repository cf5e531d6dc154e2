//! The default Swimlane record of an alert: `pushToService` with the alert
//! key as `alertId`, its name as `ruleName`, its severity and the alert as
//! plain text. The follow-up updates the record the firing opened (its
//! `record_id` handle) with a comment, instead of opening another.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, headline, object, plain_text, push_to_opened};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    object(
        json!({"subAction": "pushToService", "subActionParams": {"incident": {
            "alertId": alert.key,
            "ruleName": alert.labels.get("alertname").map_or(alert.title(), String::as_str),
            "caseName": headline(alert),
            "severity": Level::of(alert).word(),
            "description": plain_text(alert),
        }}}),
    )
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    push_to_opened(params, alert, handles, "record_id")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use super::follow_up;
    use crate::alert_parts::{assert_valid, plain_text, render};

    #[test]
    fn firing_and_resolved_records() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("swimlane", &alert, &json!({}));
            let word = if alert.is_resolved() {
                "RESOLVED"
            } else {
                "FIRING"
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "alertId": "sample-alert", "ruleName": "HighErrorRate",
                    "caseName": format!("[{word}] Error rate above 5% on web-1"),
                    "severity": "critical", "description": plain_text(&alert),
                }}})
            );
            assert_valid("swimlane", &params, &json!({}));
        }
        let alert = AlertView::sample(AlertPhase::Resolved);
        let handles = BTreeMap::from([("record_id".to_owned(), "aXb".to_owned())]);
        let followed = follow_up(render("swimlane", &alert, &json!({})), &alert, &handles);
        assert_eq!(followed["subActionParams"]["incident"]["externalId"], "aXb");
        assert_eq!(
            followed["subActionParams"]["comments"],
            json!([{"commentId": "herald", "comment": "Resolved: Error rate above 5% on web-1"}])
        );
        assert_valid("swimlane", &followed, &json!({}));
    }
}
