//! The default Jira issue of an alert: `pushToService` with the headline
//! as summary, the alert as plain text in the description and its labels
//! as Jira labels. The follow-up turns a repeat or a resolve into an
//! update of the issue the firing opened (its `issue_id` handle as
//! `externalId`: the summary says the new status) with a comment that
//! tells what happened, instead of a second issue.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{cut, headline, object, plain_text, tags};

/// Jira's description limit (32 767 characters in Jira Cloud).
const MAX_DESCRIPTION: usize = 32_000;

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    // Jira labels hold no spaces.
    let labels: Vec<String> = tags(alert, 20, 255)
        .into_iter()
        .map(|tag| tag.split_whitespace().collect::<Vec<_>>().join("_"))
        .collect();
    object(json!({
        "subAction": "pushToService",
        "subActionParams": {
            "incident": {
                "summary": headline(alert),
                "description": cut(&plain_text(alert), MAX_DESCRIPTION),
                "labels": labels,
            },
        },
    }))
}

/// With the opener's `issue_id`: the same issue, renamed by the new
/// headline (the description and labels of the firing are kept), and a
/// comment with the alert as it is now.
pub fn follow_up(
    mut params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let Some(issue) = handles.get("issue_id").filter(|id| !id.is_empty()) else {
        return params;
    };
    if params.get("subAction").and_then(Value::as_str) != Some("pushToService") {
        return params;
    }
    let Some(Value::Object(push)) = params.get_mut("subActionParams") else {
        return params;
    };
    let Some(Value::Object(incident)) = push.get_mut("incident") else {
        return params;
    };
    incident.insert("externalId".into(), issue.clone().into());
    incident.remove("description");
    incident.remove("labels");
    let (id, comment) = if alert.is_resolved() {
        ("herald-resolved", plain_text(alert))
    } else {
        (
            "herald-repeat",
            format!(
                "{}.\n\n{}",
                crate::alert_parts::still_firing(alert),
                plain_text(alert)
            ),
        )
    };
    let comments = push.entry("comments").or_insert_with(|| json!([]));
    if !comments.is_array() {
        *comments = json!([]);
    }
    if let Value::Array(comments) = comments {
        comments.push(json!({"commentId": id, "comment": cut(&comment, MAX_DESCRIPTION)}));
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
        json!({"apiUrl": "https://ops.atlassian.net", "projectKey": "OPS"})
    }

    #[test]
    fn firing_and_resolved_issues() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let alert = AlertView::sample(phase);
            let params = render("jira", &alert, &config());
            let word = if alert.is_resolved() {
                "RESOLVED"
            } else {
                "FIRING"
            };
            assert_eq!(
                Value::Object(params.clone()),
                json!({"subAction": "pushToService", "subActionParams": {"incident": {
                    "summary": format!("[{word}] Error rate above 5% on web-1"),
                    "description": plain_text(&alert),
                    "labels": ["alertname:HighErrorRate", "instance:web-1:9090", "job:web", "severity:critical"],
                }}})
            );
            assert_valid("jira", &params, &config());
        }
    }

    #[test]
    fn a_resolve_comments_on_the_firing_issue() {
        let alert = AlertView::sample(AlertPhase::Resolved);
        let params = render("jira", &alert, &config());
        let handles = BTreeMap::from([
            ("issue_id".to_owned(), "10042".to_owned()),
            ("issue_key".to_owned(), "OPS-42".to_owned()),
        ]);
        let followed = follow_up(params, &alert, &handles);
        assert_eq!(
            Value::Object(followed.clone()),
            json!({"subAction": "pushToService", "subActionParams": {
                "incident": {"summary": "[RESOLVED] Error rate above 5% on web-1", "externalId": "10042"},
                "comments": [{"commentId": "herald-resolved", "comment": plain_text(&alert)}],
            }})
        );
        assert_valid("jira", &followed, &config());
    }
}
