//! Which escaping each templated params string gets, per connector type, as
//! Kibana's `renderParameterTemplates` chooses it.

use herald_catalog::{Escape, NO_ESCAPE};
use herald_connectors::catalog;
use serde_json::{Map, Value, json};

use super::spec;

fn escape_of(connector_type: &str, params: Value, path: &str) -> Escape {
    let params = match params {
        Value::Object(map) => map,
        _ => panic!("params must be an object"),
    };
    spec(connector_type).param_escape.escape(&params, path)
}

#[test]
fn email_message_is_markdown_and_message_html_is_html() {
    let params =
        json!({"to": ["a@example.com"], "subject": "s", "message": "m", "messageHTML": "<p>m</p>"});
    assert_eq!(
        escape_of("email", params.clone(), "message"),
        Escape::Markdown
    );
    assert_eq!(
        escape_of("email", params.clone(), "messageHTML"),
        Escape::Html
    );
    assert_eq!(escape_of("email", params.clone(), "subject"), Escape::None);
    assert_eq!(escape_of("email", params, "to[0]"), Escape::None);
}

#[test]
fn slack_message_is_slack() {
    let params = json!({"message": "m"});
    assert_eq!(escape_of("slack", params.clone(), "message"), Escape::Slack);
    assert_eq!(escape_of(".slack", params, "other"), Escape::None);
}

#[test]
fn slack_api_text_depends_on_the_sub_action() {
    let post =
        json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"], "text": "t"}});
    let blocks = json!({"subAction": "postBlockkit", "subActionParams": {"channelIds": ["C1"], "text": "{}"}});
    let check = json!({"subAction": "validChannelId", "subActionParams": {"channelId": "C1"}});
    assert_eq!(
        escape_of("slack_api", post.clone(), "subActionParams.text"),
        Escape::Slack
    );
    assert_eq!(
        escape_of("slack_api", blocks.clone(), "subActionParams.text"),
        Escape::Json
    );
    assert_eq!(
        escape_of("slack_api", check, "subActionParams.channelId"),
        Escape::None
    );
    assert_eq!(
        escape_of("slack_api", post, "subActionParams.channelIds[0]"),
        Escape::None
    );
    assert_eq!(
        escape_of("slack_api", blocks, "subActionParams.channelIds[0]"),
        Escape::None
    );
}

#[test]
fn json_bodies_are_json_escaped() {
    assert_eq!(
        escape_of("webhook", json!({"body": "{}"}), "body"),
        Escape::Json
    );
    assert_eq!(
        escape_of("torq", json!({"body": "{}"}), "body"),
        Escape::Json
    );
    let run = json!({"subAction": "run", "subActionParams": {"body": "{}"}});
    assert_eq!(
        escape_of("tines", run.clone(), "subActionParams.body"),
        Escape::Json
    );
    assert_eq!(
        escape_of("d3security", run.clone(), "subActionParams.body"),
        Escape::Json
    );
    assert_eq!(
        escape_of("d3security", run, "subActionParams.eventType"),
        Escape::None
    );
    let alert =
        json!({"subAction": "createAlert", "subActionParams": {"title": "t", "body": "{}"}});
    assert_eq!(
        escape_of("thehive", alert.clone(), "subActionParams.body"),
        Escape::Json
    );
    assert_eq!(
        escape_of("thehive", alert, "subActionParams.title"),
        Escape::None
    );
    let case =
        json!({"subAction": "pushToService", "subActionParams": {"incident": {"title": "t"}}});
    assert_eq!(
        escape_of("thehive", case, "subActionParams.body"),
        Escape::None
    );
}

#[test]
fn teams_and_incident_systems_are_not_escaped() {
    assert_eq!(
        escape_of("teams", json!({"message": "m"}), "message"),
        Escape::None
    );
    assert_eq!(
        escape_of("server-log", json!({"message": "m"}), "message"),
        Escape::None
    );
    assert_eq!(
        escape_of("pagerduty", json!({"summary": "s"}), "summary"),
        Escape::None
    );
    let jira =
        json!({"subAction": "pushToService", "subActionParams": {"incident": {"summary": "s"}}});
    assert_eq!(
        escape_of("jira", jira, "subActionParams.incident.summary"),
        Escape::None
    );
}

#[test]
fn only_the_documented_fields_are_escaped() {
    // Every other connector type escapes nothing, whatever the path.
    let escaping = [
        "email",
        "slack",
        "slack_api",
        "webhook",
        "torq",
        "tines",
        "d3security",
        "thehive",
        "gen-ai",
        "bedrock",
    ];
    let params: Map<String, Value> = Map::new();
    for spec in catalog().all() {
        if escaping.contains(&spec.id) {
            continue;
        }
        for path in [
            "message",
            "body",
            "subActionParams.body",
            "subActionParams.text",
        ] {
            assert_eq!(
                spec.param_escape.escape(&params, path),
                Escape::None,
                "{} {path}",
                spec.id
            );
        }
    }
    assert_eq!(NO_ESCAPE.escape(&params, "message"), Escape::None);
    assert_eq!(Escape::default(), Escape::None);
}
