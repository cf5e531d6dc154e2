//! The default security incident of an alert: as ITSM's (`servicenow`'s
//! `alert.rs`), with a priority 1–5 from its level. SIR has no close
//! operation, so a resolve is a push: with the firing's `sys_id` handle
//! (the follow-up) it updates that incident with the resolved text and a
//! work note; without one it records the resolve under the same
//! `correlation_id`.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, bounded_key, object};
use crate::servicenow::alert::{MAX_CORRELATION_ID, by_sys_id, incident_columns};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let priority = match Level::of(alert) {
        Level::Critical => "1",
        Level::Error => "2",
        Level::Warning => "3",
        Level::Info => "4",
        Level::Low => "5",
    };
    let correlation_id = bounded_key(&alert.key, MAX_CORRELATION_ID);
    object(json!({
        "subAction": "pushToService",
        "subActionParams": {"incident": incident_columns(alert, &correlation_id, &[("priority", priority)])},
    }))
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    by_sys_id(params, alert, handles)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use super::follow_up;
    use crate::alert_parts::{assert_valid, plain_text, render};

    fn config() -> Value {
        json!({"apiUrl": "https://acme.service-now.com/"})
    }

    #[test]
    fn firing_and_resolved_push_the_same_correlation_id() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("servicenow-sir", &alert, &config());
            let word = if alert.is_resolved() {
                "RESOLVED"
            } else {
                "FIRING"
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "short_description": format!("[{word}] Error rate above 5% on web-1"),
                    "description": plain_text(&alert),
                    "correlation_id": "sample-alert",
                    "correlation_display": "Herald",
                    "priority": "1",
                }}})
            );
            assert_valid("servicenow-sir", &params, &config());
        }
    }

    #[test]
    fn a_resolve_updates_the_firing_incident() {
        let alert = AlertView::sample(AlertPhase::Resolved);
        let handles = BTreeMap::from([("sys_id".to_owned(), "abc123".to_owned())]);
        let params = follow_up(
            render("servicenow-sir", &alert, &config()),
            &alert,
            &handles,
        );
        assert_eq!(
            params["subActionParams"]["incident"]["externalId"],
            "abc123"
        );
        assert_eq!(
            params["subActionParams"]["comments"],
            json!([{"commentId": "herald", "comment": format!("Resolved.\n\n{}", plain_text(&alert))}])
        );
        assert_valid("servicenow-sir", &params, &config());
    }
}
