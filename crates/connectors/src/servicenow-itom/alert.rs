//! The default Event Management event of an alert: `addEvent` with the
//! alert key as `message_key` (ServiceNow groups events by it into one
//! alert), ITOM's severity 1 (critical) to 5 (info) from its level, and
//! resolved the same event with severity 0, which clears that alert: no
//! handle is needed, so this type has no follow-up.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, bounded_key, details, object, plain_text};

/// The `message_key` column holds 1024 characters.
const MAX_MESSAGE_KEY: usize = 1024;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = if alert.is_resolved() {
        "0"
    } else {
        match Level::of(alert) {
            Level::Critical => "1",
            Level::Error => "2",
            Level::Warning => "4",
            Level::Info | Level::Low => "5",
        }
    };
    let name = alert
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| alert.title().to_owned());
    let mut event = object(json!({
        "source": "Herald",
        "event_class": if alert.source.is_empty() { "herald" } else { alert.source.as_str() },
        "metric_name": name,
        "type": name,
        "severity": severity,
        "description": plain_text(alert),
        "message_key": bounded_key(&alert.key, MAX_MESSAGE_KEY),
        "additional_info": Value::Object(details(alert)).to_string(),
    }));
    if let Some(instance) = alert.labels.get("instance").filter(|i| !i.is_empty()) {
        event.insert("resource".into(), instance.clone().into());
        let node = instance
            .rsplit_once(':')
            .map_or(instance.as_str(), |(host, _)| host);
        event.insert("node".into(), node.into());
    }
    let at = if alert.is_resolved() {
        &alert.ends_at
    } else {
        &alert.starts_at
    };
    if let Some(time) = event_time(at) {
        event.insert("time_of_event".into(), time.into());
    }
    object(json!({"subAction": "addEvent", "subActionParams": event}))
}

/// ITOM's `yyyy-MM-dd HH:mm:ss` (UTC) from RFC 3339 in UTC; other forms
/// are left out (ServiceNow then takes the time it receives the event).
fn event_time(rfc3339: &str) -> Option<String> {
    let (date, time) = rfc3339.strip_suffix('Z')?.split_once('T')?;
    let time = time.get(..8)?;
    let shaped = date.len() == 10 && time.len() == 8 && time.as_bytes()[2] == b':';
    shaped.then(|| format!("{date} {time}"))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, plain_text, render};

    fn config() -> Value {
        json!({"apiUrl": "https://acme.service-now.com/"})
    }

    #[test]
    fn firing_raises_and_resolved_clears_the_same_message_key() {
        let alert = AlertView::sample(AlertPhase::Firing);
        let firing = render("servicenow-itom", &alert, &config());
        let info = "{\"alertname\":\"HighErrorRate\",\"description\":\"5xx responses were 7.2% of all over 5 minutes.\",\"instance\":\"web-1:9090\",\"job\":\"web\",\"severity\":\"critical\",\"summary\":\"Error rate above 5% on web-1\"}";
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"subAction": "addEvent", "subActionParams": {
                "source": "Herald", "event_class": "herald",
                "metric_name": "HighErrorRate", "type": "HighErrorRate",
                "severity": "1",
                "description": plain_text(&alert),
                "message_key": "sample-alert",
                "additional_info": info,
                "resource": "web-1:9090", "node": "web-1",
                "time_of_event": "2026-01-01 00:00:00",
            }})
        );
        assert_valid("servicenow-itom", &firing, &config());
        let resolved = render(
            "servicenow-itom",
            &AlertView::sample(AlertPhase::Resolved),
            &config(),
        );
        assert_eq!(resolved["subActionParams"]["severity"], "0");
        assert_eq!(resolved["subActionParams"]["message_key"], "sample-alert");
        assert_eq!(
            resolved["subActionParams"]["time_of_event"],
            "2026-01-01 00:10:00"
        );
        assert_valid("servicenow-itom", &resolved, &config());
    }
}
