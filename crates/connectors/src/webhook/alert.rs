//! The default body of a webhook call: the alert as JSON, the `alert`
//! template variable as it is (`status` `firing` or `resolved`, key,
//! labels, annotations, link back), so that the receiver tells a resolve
//! from a firing and matches them by `key`.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{document, object};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    object(json!({"body": document(alert).to_string()}))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn the_body_is_the_alert_with_its_status() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("webhook", &alert, &json!({}));
            let body: Value = serde_json::from_str(params["body"].as_str().unwrap()).unwrap();
            assert_eq!(body, alert.to_value());
            assert_eq!(
                body["status"],
                if alert.is_resolved() {
                    "resolved"
                } else {
                    "firing"
                }
            );
            assert_valid("webhook", &params, &json!({}));
        }
    }
}
