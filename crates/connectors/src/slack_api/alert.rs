//! The default Web API message of an alert: a Block Kit message
//! (`postBlockkit`) to the account's first allowed channel, with a header,
//! the severity and description, the labels as fields, the times and a
//! button back to the source; resolved, the same in green. Its follow-up
//! keeps one message per alert: a resolve becomes a `chat.update` of the
//! firing's message (its `ts` in its `channel`, the handles the firing
//! returned) plus a thread reply saying it resolved, and a repeat a reply
//! in that message's thread.

use std::collections::BTreeMap;

use herald_catalog::alert::AlertView;
use serde_json::{Map, Value, json};

use crate::alert_parts::{cut, headline, object, shown_severity, times};
use crate::slack::alert::escape;

/// Slack's limits: a header's text, a section's fields.
const MAX_HEADER: usize = 150;
const MAX_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;

/// Without `allowedChannels` the account names no channel, and the
/// params have none: the type's rules then ask for `channelIds`, so a
/// route to such an account must give its params.
pub fn params(alert: &AlertView, config: &Map<String, Value>) -> Map<String, Value> {
    let mut sub = Map::new();
    let first = config
        .get("allowedChannels")
        .and_then(Value::as_array)
        .and_then(|channels| channels.first());
    if let Some(channel) = first {
        if let Some(id) = channel
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
        {
            sub.insert("channelIds".into(), json!([id]));
        } else if let Some(name) = channel.get("name").and_then(Value::as_str) {
            let name = format!("#{}", name.trim_start_matches('#'));
            sub.insert("channelNames".into(), json!([name]));
        }
    }
    sub.insert("text".into(), blocks_text(alert).into());
    object(json!({"subAction": "postBlockkit", "subActionParams": sub}))
}

/// The `text` of a `postBlockkit`: `{"blocks": [...]}` as a string.
pub fn blocks_text(alert: &AlertView) -> String {
    json!({"blocks": blocks(alert)}).to_string()
}

fn blocks(alert: &AlertView) -> Vec<Value> {
    let mark = if alert.is_resolved() {
        ":large_green_circle:"
    } else {
        ":red_circle:"
    };
    let mut section = format!("{mark} *Severity:* {}", escape(shown_severity(alert)));
    if !alert.description.is_empty() {
        section.push_str(&format!("\n{}", escape(&alert.description)));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&headline(alert), MAX_HEADER)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&section, 3000)}}),
    ];
    let fields: Vec<Value> = alert
        .labels
        .iter()
        .take(MAX_FIELDS)
        .map(|(name, value)| {
            let text = format!("*{}*\n{}", escape(name), escape(value));
            json!({"type": "mrkdwn", "text": cut(&text, MAX_FIELD_TEXT)})
        })
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let when: Vec<String> = times(alert)
        .into_iter()
        .map(|(name, value)| format!("{name}: {}", escape(value)))
        .collect();
    if !when.is_empty() {
        blocks.push(
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": when.join(" · ")}]}),
        );
    }
    if !alert.source_url.is_empty() {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button",
            "text": {"type": "plain_text", "text": "View in source"},
            "url": alert.source_url,
        }]}));
    }
    blocks
}

/// What the thread reply of a resolve says.
fn resolved_reply(alert: &AlertView) -> String {
    match times(alert).into_iter().find(|(name, _)| *name == "Ended") {
        Some((_, ended)) => format!(":large_green_circle: Resolved at {}", escape(ended)),
        None => ":large_green_circle: Resolved".to_owned(),
    }
}

/// The follow-up of a repeat or a resolve, from the opener's `ts` and
/// `channel`; params the opener's handles cannot place (no `ts`, or a
/// sub-action that is not a post) are left as they are.
pub fn follow_up(
    mut params: Map<String, Value>,
    alert: &AlertView,
    handles: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let (Some(ts), Some(channel)) = (handles.get("ts"), handles.get("channel")) else {
        return params;
    };
    let update = match params.get("subAction").and_then(Value::as_str) {
        Some("postBlockkit") => "updateBlockkit",
        Some("postMessage") => "updateMessage",
        _ => return params,
    };
    let Some(Value::Object(sub)) = params.get_mut("subActionParams") else {
        return params;
    };
    if alert.is_resolved() {
        let text = sub.get("text").cloned().unwrap_or_default();
        return object(json!({
            "subAction": update,
            "subActionParams": {
                "channelId": channel,
                "ts": ts,
                "text": text,
                "threadReply": resolved_reply(alert),
            },
        }));
    }
    // A repeat: the same message as a reply under the first, in its channel.
    sub.insert("threadTs".into(), ts.clone().into());
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
        json!({"allowedChannels": [{"id": "C0OPS", "name": "ops"}]})
    }

    fn expected_blocks(phase: AlertPhase) -> Value {
        let (mark, word) = match phase {
            AlertPhase::Firing => (":red_circle:", "FIRING"),
            AlertPhase::Resolved => (":large_green_circle:", "RESOLVED"),
        };
        let when = match phase {
            AlertPhase::Firing => "Started: 2026-01-01T00:00:00Z",
            AlertPhase::Resolved => "Started: 2026-01-01T00:00:00Z · Ended: 2026-01-01T00:10:00Z",
        };
        json!({"blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": format!("[{word}] Error rate above 5% on web-1")}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("{mark} *Severity:* critical\n5xx responses were 7.2% of all over 5 minutes.")}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*alertname*\nHighErrorRate"},
                {"type": "mrkdwn", "text": "*instance*\nweb-1:9090"},
                {"type": "mrkdwn", "text": "*job*\nweb"},
                {"type": "mrkdwn", "text": "*severity*\ncritical"},
            ]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": when}]},
            {"type": "actions", "elements": [{"type": "button",
                "text": {"type": "plain_text", "text": "View in source"},
                "url": "https://prometheus.example.com/graph?g0.expr=errors"}]},
        ]})
    }

    #[test]
    fn firing_and_resolved_are_block_kit_messages_to_the_first_allowed_channel() {
        for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
            let params = render("slack_api", &AlertView::sample(phase), &config());
            assert_eq!(params["subAction"], "postBlockkit");
            assert_eq!(params["subActionParams"]["channelIds"], json!(["C0OPS"]));
            let text: Value =
                serde_json::from_str(params["subActionParams"]["text"].as_str().unwrap()).unwrap();
            assert_eq!(text, expected_blocks(phase), "{phase:?}");
            assert_valid("slack_api", &params, &config());
        }
        let by_name = render(
            "slack_api",
            &AlertView::sample(AlertPhase::Firing),
            &json!({"allowedChannels": [{"name": "ops"}]}),
        );
        assert_eq!(by_name["subActionParams"]["channelNames"], json!(["#ops"]));
    }

    #[test]
    fn a_resolve_updates_the_first_message_and_replies_in_its_thread() {
        let alert = AlertView::sample(AlertPhase::Resolved);
        let params = render("slack_api", &alert, &config());
        let handles = BTreeMap::from([
            ("ts".to_owned(), "1700000000.000100".to_owned()),
            ("channel".to_owned(), "C0OPS".to_owned()),
        ]);
        let followed = follow_up(params.clone(), &alert, &handles);
        assert_eq!(
            Value::Object(followed.clone()),
            json!({"subAction": "updateBlockkit", "subActionParams": {
                "channelId": "C0OPS",
                "ts": "1700000000.000100",
                "text": params["subActionParams"]["text"],
                "threadReply": ":large_green_circle: Resolved at 2026-01-01T00:10:00Z",
            }})
        );
        assert_valid("slack_api", &followed, &config());
        assert_eq!(follow_up(params.clone(), &alert, &BTreeMap::new()), params);
    }

    #[test]
    fn a_repeat_is_a_reply_in_the_thread() {
        let mut alert = AlertView::sample(AlertPhase::Firing);
        alert.repeat = true;
        let params = render("slack_api", &alert, &config());
        let handles = BTreeMap::from([
            ("ts".to_owned(), "1700000000.000100".to_owned()),
            ("channel".to_owned(), "C0OPS".to_owned()),
        ]);
        let followed = follow_up(params.clone(), &alert, &handles);
        let mut expected = params;
        expected["subActionParams"]
            .as_object_mut()
            .unwrap()
            .insert("threadTs".into(), json!("1700000000.000100"));
        assert_eq!(followed, expected);
        assert_valid("slack_api", &followed, &config());
    }
}
