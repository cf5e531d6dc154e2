//! The default body of a Torq webhook: the alert as JSON (the `alert`
//! template variable, `status` `firing` or `resolved`).

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
            let params = render("torq", &alert, &json!({}));
            assert_eq!(
                Value::Object(params.clone()),
                json!({"body": alert.to_value().to_string()})
            );
            assert_valid("torq", &params, &json!({}));
        }
    }
}
