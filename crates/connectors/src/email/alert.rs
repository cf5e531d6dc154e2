//! The default e-mail of an alert: the subject `[FIRING] <title>` (resolved
//! `[RESOLVED] <title>`) and a Markdown message with the severity, the
//! description, a table of labels, the annotations, the times and a link
//! back. Recipients and sender are the account's (`defaultTo`, `from`);
//! an account without them needs a route that gives its params. The
//! follow-up puts a repeat or a resolve in the first mail's thread:
//! `In-Reply-To` and `References` on the Message-ID it returned.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{headline, object, shown_annotations, shown_severity, times};

pub fn params(alert: &AlertView, _config: &Map<String, Value>) -> Map<String, Value> {
    object(json!({"subject": headline(alert), "message": message(alert)}))
}

fn message(alert: &AlertView) -> String {
    let mut text = format!(
        "**{}**\n\n**Severity:** {}\n",
        escape(&headline(alert)),
        escape(shown_severity(alert))
    );
    if !alert.description.is_empty() {
        text.push_str(&format!("\n{}\n", escape(&alert.description)));
    }
    if !alert.labels.is_empty() {
        text.push_str("\n| Label | Value |\n| --- | --- |\n");
        for (name, value) in &alert.labels {
            text.push_str(&format!("| {} | {} |\n", escape(name), escape(value)));
        }
    }
    let annotations: Vec<_> = shown_annotations(alert).collect();
    if !annotations.is_empty() {
        text.push_str("\n**Annotations**\n\n");
        for (name, value) in annotations {
            text.push_str(&format!("- {}: {}\n", escape(name), escape(value)));
        }
    }
    let when = times(alert);
    if !when.is_empty() {
        text.push('\n');
        let lines: Vec<String> = when
            .into_iter()
            .map(|(name, value)| format!("{name}: {}", escape(value)))
            .collect();
        text.push_str(&lines.join("  \n"));
        text.push('\n');
    }
    if !alert.source_url.is_empty() {
        let url = alert
            .source_url
            .replace(' ', "%20")
            .replace('(', "%28")
            .replace(')', "%29");
        text.push_str(&format!("\n[View in source]({url})\n"));
    }
    text
}

/// Markdown's escape: a backslash before every ASCII punctuation
/// character, so that values show as written (a `|` does not end a cell).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        // A line break would end a table row.
        out.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
    out
}

/// Threads the mail under the opener's: `inReplyTo` and `references` on
/// its `message_id` handle.
pub fn follow_up(
    mut params: Map<String, Value>,
    _alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let Some(id) = handles
        .get("message_id")
        .filter(|id| super::spec::is_message_id(id))
    else {
        return params;
    };
    params.insert("inReplyTo".into(), id.clone().into());
    params.insert("references".into(), json!([id]));
    params
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use herald_catalog::alert::{AlertPhase, AlertView};
    use serde_json::{Value, json};

    use super::follow_up;
    use crate::alert_parts::{assert_valid, render};

    fn config() -> Value {
        json!({"from": "alerts@example.com", "defaultTo": ["oncall@example.com"]})
    }

    #[test]
    fn firing_and_resolved_mails_with_a_table_of_labels() {
        let firing = render("email", &AlertView::sample(AlertPhase::Firing), &config());
        assert_eq!(
            Value::Object(firing.clone()),
            json!({
                "subject": "[FIRING] Error rate above 5% on web-1",
                "message": "**\\[FIRING\\] Error rate above 5\\% on web\\-1**\n\n\
                    **Severity:** critical\n\n\
                    5xx responses were 7\\.2\\% of all over 5 minutes\\.\n\n\
                    | Label | Value |\n| --- | --- |\n\
                    | alertname | HighErrorRate |\n\
                    | instance | web\\-1\\:9090 |\n\
                    | job | web |\n\
                    | severity | critical |\n\n\
                    Started: 2026\\-01\\-01T00\\:00\\:00Z\n\n\
                    [View in source](https://prometheus.example.com/graph?g0.expr=errors)\n",
            })
        );
        assert_valid("email", &firing, &config());
        let resolved = render("email", &AlertView::sample(AlertPhase::Resolved), &config());
        assert_eq!(
            resolved["subject"],
            "[RESOLVED] Error rate above 5% on web-1"
        );
        assert!(
            resolved["message"].as_str().unwrap().contains(
                "Started: 2026\\-01\\-01T00\\:00\\:00Z  \nEnded: 2026\\-01\\-01T00\\:10\\:00Z\n"
            ),
            "{resolved:?}"
        );
        assert_valid("email", &resolved, &config());
    }

    #[test]
    fn the_follow_up_answers_the_first_mail() {
        let alert = AlertView::sample(AlertPhase::Resolved);
        let params = render("email", &alert, &config());
        let handles = BTreeMap::from([("message_id".to_owned(), "<ev1.0@example.com>".to_owned())]);
        let followed = follow_up(params.clone(), &alert, &handles);
        let mut expected = params.clone();
        expected.insert("inReplyTo".into(), json!("<ev1.0@example.com>"));
        expected.insert("references".into(), json!(["<ev1.0@example.com>"]));
        assert_eq!(followed, expected);
        assert_valid("email", &followed, &config());
        // A handle that is not a Message-ID never reaches a header.
        let forged = BTreeMap::from([("message_id".to_owned(), "<a@b>\r\nBcc: x@y".to_owned())]);
        assert_eq!(follow_up(params.clone(), &alert, &forged), params);
    }
}
