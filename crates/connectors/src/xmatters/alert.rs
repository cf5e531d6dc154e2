//! The default xMatters Flow trigger of an alert: Kibana's fields, with
//! the alert key as `signalId` (a flow can match a resolve to its firing by
//! it), `alertActionGroupName` `Firing` or `Resolved`, xMatters' severity
//! words from the level and the labels as comma-separated tags.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, object, tags};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let severity = match Level::of(alert) {
        Level::Critical => "Critical",
        Level::Error => "High",
        Level::Warning => "Medium",
        Level::Info => "Low",
        Level::Low => "Minimal",
    };
    let (group, date) = if alert.is_resolved() {
        ("Resolved", &alert.ends_at)
    } else {
        ("Firing", &alert.starts_at)
    };
    let mut params = object(json!({
        "alertActionGroupName": group,
        "signalId": alert.key,
        "ruleName": alert.title(),
        "severity": severity,
        "tags": tags(alert, usize::MAX, usize::MAX).join(","),
    }));
    if !date.is_empty() {
        params.insert("date".into(), date.clone().into());
    }
    params
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_and_resolved_triggers() {
        let firing = render(
            "xmatters",
            &AlertView::sample(AlertPhase::Firing),
            &json!({}),
        );
        assert_eq!(
            Value::Object(firing.clone()),
            json!({
                "alertActionGroupName": "Firing", "signalId": "sample-alert",
                "ruleName": "Error rate above 5% on web-1", "severity": "Critical",
                "tags": "alertname:HighErrorRate,instance:web-1:9090,job:web,severity:critical",
                "date": "2026-01-01T00:00:00Z",
            })
        );
        let config = json!({"configUrl": "https://acme.xmatters.com/api/integration/1/functions/x/triggers", "usesBasic": true});
        assert_valid("xmatters", &firing, &config);
        let resolved = render(
            "xmatters",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        assert_eq!(resolved["alertActionGroupName"], "Resolved");
        assert_eq!(resolved["date"], "2026-01-01T00:10:00Z");
        assert_eq!(resolved["signalId"], "sample-alert");
        assert_valid("xmatters", &resolved, &config);
    }
}
