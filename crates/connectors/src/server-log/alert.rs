//! The default log line of an alert: one line with the headline, severity,
//! labels and link back, at `error` for a critical or error alert, `warn`
//! for a warning, `info` otherwise and once resolved.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{Level, headline, object, shown_severity};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let level = match (alert.is_resolved(), Level::of(alert)) {
        (true, _) => "info",
        (false, Level::Critical | Level::Error) => "error",
        (false, Level::Warning) => "warn",
        (false, Level::Info | Level::Low) => "info",
    };
    let labels: Vec<String> = alert
        .labels
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let mut message = format!(
        "{} (key {}, severity {}; {})",
        headline(alert),
        alert.key,
        shown_severity(alert),
        labels.join(", ")
    );
    if !alert.source_url.is_empty() {
        message.push_str(&format!(" {}", alert.source_url));
    }
    // One line: a value with a line break would forge another.
    let message = message.replace(['\r', '\n'], " ");
    object(json!({"message": message, "level": level}))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_and_resolved_lines() {
        let firing = render(
            "server-log",
            &AlertView::sample(AlertPhase::Firing),
            &json!({}),
        );
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"level": "error", "message": "[FIRING] Error rate above 5% on web-1 (key sample-alert, severity critical; \
                alertname=HighErrorRate, instance=web-1:9090, job=web, severity=critical) \
                https://prometheus.example.com/graph?g0.expr=errors"})
        );
        assert_valid("server-log", &firing, &json!({}));
        let resolved = render(
            "server-log",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        assert_eq!(resolved["level"], "info");
        assert!(
            resolved["message"]
                .as_str()
                .unwrap()
                .starts_with("[RESOLVED] Error rate")
        );
        assert_valid("server-log", &resolved, &json!({}));
    }
}
