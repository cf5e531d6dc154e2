//! The default ITSM incident of an alert: `pushToService` with the headline
//! as short description, the alert as plain text, severity, urgency and
//! impact from its level, and the alert key as `correlation_id`; resolved,
//! `closeIncident` by that correlation id, as Kibana's connector closes
//! (the newest incident with it). The follow-up names the firing's
//! incident by its `sys_id` handle: a resolve closes exactly it, a repeat
//! updates it with a work note instead of opening another.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, bounded_key, cut, headline, object, plain_text};

/// ServiceNow's `correlation_id` column holds 100 characters.
pub(crate) const MAX_CORRELATION_ID: usize = 100;
/// `short_description` holds 160.
pub(crate) const MAX_SHORT_DESCRIPTION: usize = 160;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let correlation_id = bounded_key(&alert.key, MAX_CORRELATION_ID);
    if alert.is_resolved() {
        return object(json!({
            "subAction": "closeIncident",
            "subActionParams": {"incident": {"correlation_id": correlation_id}},
        }));
    }
    // 1 high, 2 medium, 3 low, for each of the three.
    let grade = match Level::of(alert) {
        Level::Critical => "1",
        Level::Error => "2",
        Level::Warning | Level::Info | Level::Low => "3",
    };
    object(json!({
        "subAction": "pushToService",
        "subActionParams": {"incident": incident_columns(alert, &correlation_id, &[
            ("severity", grade), ("urgency", grade), ("impact", grade),
        ])},
    }))
}

/// The columns ITSM and SIR incidents share, then `more`.
pub(crate) fn incident_columns(
    alert: &AlertView,
    correlation_id: &str,
    more: &[(&str, &str)],
) -> Value {
    let mut incident = object(json!({
        "short_description": cut(&headline(alert), MAX_SHORT_DESCRIPTION),
        "description": plain_text(alert),
        "correlation_id": correlation_id,
        "correlation_display": "Herald",
    }));
    for (column, value) in more {
        incident.insert((*column).to_owned(), (*value).into());
    }
    Value::Object(incident)
}

pub fn follow_up(
    params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    by_sys_id(params, alert, handles)
}

/// ITSM's and SIR's follow-up: the firing's record by its `sys_id`, for a
/// close or a push (a push also gets a work note saying what happened).
pub(crate) fn by_sys_id(
    mut params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let Some(sys_id) = handles.get("sys_id").filter(|id| !id.is_empty()) else {
        return params;
    };
    let sub_action = params
        .get("subAction")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(Value::Object(sub)) = params.get_mut("subActionParams") else {
        return params;
    };
    let Some(Value::Object(incident)) = sub.get_mut("incident") else {
        return params;
    };
    match sub_action.as_deref() {
        Some("closeIncident") => {
            incident.insert("externalId".into(), sys_id.clone().into());
        }
        Some("pushToService") => {
            incident.insert("externalId".into(), sys_id.clone().into());
            let note = if alert.is_resolved() {
                format!("Resolved.\n\n{}", plain_text(alert))
            } else {
                format!("{}.", crate::alert_parts::still_firing(alert))
            };
            let comments = sub.entry("comments").or_insert_with(|| json!([]));
            if !comments.is_array() {
                *comments = json!([]);
            }
            if let Value::Array(comments) = comments {
                comments.push(json!({"commentId": "herald", "comment": note}));
            }
        }
        _ => {}
    }
    params
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
    fn firing_pushes_an_incident_and_resolved_closes_it_by_correlation_id() {
        let alert = AlertView::sample(AlertPhase::Firing);
        let firing = render("servicenow", &alert, &config());
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"subAction": "pushToService", "subActionParams": {"incident": {
                "short_description": "[FIRING] Error rate above 5% on web-1",
                "description": plain_text(&alert),
                "correlation_id": "sample-alert",
                "correlation_display": "Herald",
                "severity": "1", "urgency": "1", "impact": "1",
            }}})
        );
        assert_valid("servicenow", &firing, &config());
        let resolved = render(
            "servicenow",
            &AlertView::sample(AlertPhase::Resolved),
            &config(),
        );
        assert_eq!(
            Value::Object(resolved.clone()),
            json!({"subAction": "closeIncident", "subActionParams": {"incident": {"correlation_id": "sample-alert"}}})
        );
        assert_valid("servicenow", &resolved, &config());
    }

    #[test]
    fn the_follow_up_names_the_firing_incident_by_sys_id() {
        let handles = BTreeMap::from([("sys_id".to_owned(), "abc123".to_owned())]);
        let resolved = AlertView::sample(AlertPhase::Resolved);
        let close = follow_up(
            render("servicenow", &resolved, &config()),
            &resolved,
            &handles,
        );
        assert_eq!(
            close["subActionParams"]["incident"],
            json!({"correlation_id": "sample-alert", "externalId": "abc123"})
        );
        assert_valid("servicenow", &close, &config());
        let mut repeat = AlertView::sample(AlertPhase::Firing);
        repeat.repeat = true;
        repeat.count = 3;
        let update = follow_up(render("servicenow", &repeat, &config()), &repeat, &handles);
        assert_eq!(
            update["subActionParams"]["incident"]["externalId"],
            "abc123"
        );
        assert_eq!(
            update["subActionParams"]["comments"],
            json!([{"commentId": "herald", "comment": "Still firing (received 3 times)."}])
        );
        assert_valid("servicenow", &update, &config());
    }
}
