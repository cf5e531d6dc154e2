//! The default message of an incoming webhook: Slack mrkdwn text with the
//! status, severity, description, labels and a link back; resolved, the
//! same with a green mark and `[RESOLVED]`. A webhook cannot edit or
//! thread what it posted, so a resolve is a message of its own.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::object;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    object(json!({"message": mrkdwn(alert)}))
}

/// Slack's escaping of text it formats: `&`, `<` and `>` as entities.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The alert in Slack mrkdwn, shared with `slack_api`'s thread replies.
pub fn mrkdwn(alert: &AlertView) -> String {
    let mark = if alert.is_resolved() {
        ":large_green_circle:"
    } else {
        ":red_circle:"
    };
    let mut text = format!(
        "{mark} *{}*\n*Severity:* {}",
        escape(&crate::alert_parts::headline(alert)),
        escape(crate::alert_parts::shown_severity(alert))
    );
    if !alert.description.is_empty() {
        text.push_str(&format!("\n{}", escape(&alert.description)));
    }
    if !alert.labels.is_empty() {
        let labels: Vec<String> = alert
            .labels
            .iter()
            .map(|(name, value)| format!("`{}={}`", escape(name), escape(value).replace('`', "'")))
            .collect();
        text.push_str(&format!("\n*Labels:* {}", labels.join(" ")));
    }
    for (name, value) in crate::alert_parts::times(alert) {
        text.push_str(&format!("\n*{name}:* {}", escape(value)));
    }
    if !alert.source_url.is_empty() {
        text.push_str(&format!(
            "\n<{}|View in source>",
            alert.source_url.replace('|', "%7C")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_and_resolved_messages() {
        let firing = render("slack", &AlertView::sample(AlertPhase::Firing), &json!({}));
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"message": ":red_circle: *[FIRING] Error rate above 5% on web-1*\n\
                *Severity:* critical\n5xx responses were 7.2% of all over 5 minutes.\n\
                *Labels:* `alertname=HighErrorRate` `instance=web-1:9090` `job=web` `severity=critical`\n\
                *Started:* 2026-01-01T00:00:00Z\n\
                <https://prometheus.example.com/graph?g0.expr=errors|View in source>"})
        );
        assert_valid("slack", &firing, &json!({}));
        let resolved = render(
            "slack",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        assert_eq!(
            Value::Object(resolved.clone()),
            json!({"message": ":large_green_circle: *[RESOLVED] Error rate above 5% on web-1*\n\
                *Severity:* critical\n5xx responses were 7.2% of all over 5 minutes.\n\
                *Labels:* `alertname=HighErrorRate` `instance=web-1:9090` `job=web` `severity=critical`\n\
                *Started:* 2026-01-01T00:00:00Z\n*Ended:* 2026-01-01T00:10:00Z\n\
                <https://prometheus.example.com/graph?g0.expr=errors|View in source>"})
        );
        assert_valid("slack", &resolved, &json!({}));
    }

    #[test]
    fn text_from_the_alert_is_escaped() {
        let mut alert = AlertView::sample(AlertPhase::Firing);
        alert.summary = "<!channel> a & b".into();
        let message = render("slack", &alert, &json!({}));
        assert!(
            message["message"]
                .as_str()
                .unwrap()
                .contains("&lt;!channel&gt; a &amp; b")
        );
    }
}
