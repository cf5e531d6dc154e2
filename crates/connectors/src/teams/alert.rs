//! The default Teams message of an alert: an Adaptive Card with the
//! headline (red while firing, green once resolved), the severity and
//! description, the labels as a fact set, the times and a button back to
//! the source; the plain text is its fallback. A webhook cannot edit what
//! it posted, so a resolve is a card of its own.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{headline, object, plain_text, shown_severity, times};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    object(json!({"message": plain_text(alert), "adaptiveCard": card(alert)}))
}

fn card(alert: &AlertView) -> Value {
    let color = if alert.is_resolved() {
        "Good"
    } else {
        "Attention"
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": headline(alert), "weight": "Bolder", "size": "Medium", "color": color, "wrap": true}),
        json!({"type": "TextBlock", "text": format!("Severity: {}", shown_severity(alert)), "wrap": true}),
    ];
    if !alert.description.is_empty() {
        body.push(json!({"type": "TextBlock", "text": alert.description, "wrap": true}));
    }
    let mut facts: Vec<Value> = alert
        .labels
        .iter()
        .map(|(name, value)| json!({"title": name, "value": value}))
        .collect();
    facts.extend(
        times(alert)
            .into_iter()
            .map(|(name, value)| json!({"title": name, "value": value})),
    );
    if !facts.is_empty() {
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    let mut card = object(json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }));
    if !alert.source_url.is_empty() {
        card.insert(
            "actions".into(),
            json!([{"type": "Action.OpenUrl", "title": "View in source", "url": alert.source_url}]),
        );
    }
    Value::Object(card)
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, plain_text, render};

    #[test]
    fn firing_and_resolved_cards() {
        let alert = AlertView::sample(AlertPhase::Firing);
        let firing = render("teams", &alert, &json!({}));
        assert_eq!(
            Value::Object(firing.clone()),
            json!({"message": plain_text(&alert), "adaptiveCard": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard", "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": "[FIRING] Error rate above 5% on web-1", "weight": "Bolder", "size": "Medium", "color": "Attention", "wrap": true},
                    {"type": "TextBlock", "text": "Severity: critical", "wrap": true},
                    {"type": "TextBlock", "text": "5xx responses were 7.2% of all over 5 minutes.", "wrap": true},
                    {"type": "FactSet", "facts": [
                        {"title": "alertname", "value": "HighErrorRate"},
                        {"title": "instance", "value": "web-1:9090"},
                        {"title": "job", "value": "web"},
                        {"title": "severity", "value": "critical"},
                        {"title": "Started", "value": "2026-01-01T00:00:00Z"},
                    ]},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": "View in source", "url": "https://prometheus.example.com/graph?g0.expr=errors"}],
            }})
        );
        assert_valid("teams", &firing, &json!({}));
        let resolved = render(
            "teams",
            &AlertView::sample(AlertPhase::Resolved),
            &json!({}),
        );
        let title = &resolved["adaptiveCard"]["body"][0];
        assert_eq!(title["text"], "[RESOLVED] Error rate above 5% on web-1");
        assert_eq!(title["color"], "Good");
        assert_valid("teams", &resolved, &json!({}));
    }
}
