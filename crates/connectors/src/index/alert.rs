//! The default document of an alert: the alert as JSON (`status` `firing`
//! or `resolved`) with `@timestamp` at its start, or its end once resolved,
//! into the account's index.

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{document, object};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    let mut doc = object(json!({"alert": document(alert)}));
    let at = if alert.is_resolved() {
        &alert.ends_at
    } else {
        &alert.starts_at
    };
    if !at.is_empty() {
        doc.insert("@timestamp".into(), at.clone().into());
    }
    object(json!({"documents": [doc]}))
}

#[cfg(test)]
mod tests {
    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use crate::alert_parts::{assert_valid, render};

    #[test]
    fn firing_and_resolved_documents() {
        let config = json!({"index": "alerts"});
        for (phase, at) in [
            (AlertPhase::Firing, "2026-01-01T00:00:00Z"),
            (AlertPhase::Resolved, "2026-01-01T00:10:00Z"),
        ] {
            let alert = AlertView::sample(phase);
            let params = render("index", &alert, &config);
            assert_eq!(
                Value::Object(params.clone()),
                json!({"documents": [{"alert": alert.to_value(), "@timestamp": at}]})
            );
            assert_valid("index", &params, &config);
        }
    }
}
