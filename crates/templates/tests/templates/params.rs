//! `render_params`: every string of an action's params, each with its
//! connector field's escaping, errors reported per field and all at once.

use herald_connectors::catalog;
use herald_templates::{Escape, render_connector_params, render_params};
use serde_json::{Map, Value, json};

use super::vars;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn render_as(connector_type: &str, params: Value, vars: &Value) -> Value {
    let spec = catalog().get(connector_type).expect("known type");
    let rendered = render_connector_params(spec, &object(params), vars, "actions[0].params")
        .unwrap_or_else(|violations| panic!("{violations}"));
    Value::Object(rendered)
}

#[test]
fn every_string_is_rendered_and_other_values_are_kept() {
    let params = json!({
        "summary": "{{context.host}}",
        "count": 5,
        "ratio": 0.5,
        "flag": true,
        "nothing": null,
        "untouched": "no tags",
        "{{context.host}}": "keys are not templates",
        "nested": {"deeper": {"text": "at {{context.reason}}", "n": [1, [2, 3]]}},
        "list": ["{{context.host}}", 7, ["{{action.id}}", false], {"k": "{{account.type}}"}],
    });
    let rendered = render_params(&object(params), &vars(), |_| Escape::None, "").unwrap();
    assert_eq!(
        Value::Object(rendered),
        json!({
            "summary": "web-1",
            "count": 5,
            "ratio": 0.5,
            "flag": true,
            "nothing": null,
            "untouched": "no tags",
            "{{context.host}}": "keys are not templates",
            "nested": {"deeper": {"text": "at disk full", "n": [1, [2, 3]]}},
            "list": ["web-1", 7, ["act-1", false], {"k": "slack"}],
        })
    );
}

#[test]
fn escape_is_chosen_per_path() {
    let params = json!({
        "a": "{{v}}",
        "b": {"c": "{{v}}"},
        "d": ["{{v}}", {"e": "{{v}}"}],
        "plain": "no template",
    });
    let asked = std::cell::RefCell::new(Vec::new());
    let rendered = render_params(
        &object(params),
        &json!({"v": "x.y"}),
        |path| {
            asked.borrow_mut().push(path.to_owned());
            if path == "b.c" || path == "d[1].e" {
                Escape::Markdown
            } else {
                Escape::None
            }
        },
        "ignored.prefix",
    )
    .unwrap();
    assert_eq!(
        Value::Object(rendered),
        json!({"a": "x.y", "b": {"c": "x\\.y"}, "d": ["x.y", {"e": "x\\.y"}], "plain": "no template"})
    );
    let mut asked = asked.into_inner();
    asked.sort();
    // Only strings holding a tag are asked about.
    assert_eq!(asked, ["a", "b.c", "d[0]", "d[1].e"]);
}

#[test]
fn errors_name_the_field_and_come_all_at_once() {
    let params = json!({
        "subAction": "postMessage",
        "subActionParams": {
            "channelIds": ["{{#open}}"],
            "text": "{{context.host",
        },
        "fine": "{{context.host}}",
    });
    let violations = render_params(
        &object(params),
        &vars(),
        |_| Escape::None,
        "actions[1].params",
    )
    .expect_err("two broken templates");
    let mut found: Vec<String> = violations.iter().map(ToString::to_string).collect();
    found.sort();
    assert_eq!(
        found,
        [
            "actions[1].params.subActionParams.channelIds[0]: section `open` opened at line 1, column 1 is never closed",
            "actions[1].params.subActionParams.text: unclosed tag at line 1, column 1: `{{` without a matching `}}`",
        ]
    );
    let without_prefix = render_params(
        &object(json!({"message": "{{}}"})),
        &vars(),
        |_| Escape::None,
        "",
    )
    .unwrap_err();
    assert_eq!(
        without_prefix.to_string(),
        "message: empty tag at line 1, column 1"
    );
}

#[test]
fn a_template_bomb_is_reported_once() {
    let items: Vec<u32> = (0..1500).collect();
    let vars = json!({"a": items});
    // 1500 × 1500 × 40 = 90 MB; the output limit is reached long before
    // the step budget.
    let bomb = format!("{{{{#a}}}}{{{{#a}}}}{}{{{{/a}}}}{{{{/a}}}}", "x".repeat(40));
    let params = json!({"one": bomb, "two": bomb, "three": "{{a.length}}"});
    let violations = render_params(&object(params), &vars, |_| Escape::None, "p").unwrap_err();
    assert_eq!(violations.len(), 1, "{violations}");
    assert!(
        violations.to_string().contains("larger than"),
        "{violations}"
    );
}

#[test]
fn slack_message() {
    let vars = json!({
        "context": {"host": "db_primary", "reason": "replication lag > 30s", "url": "https://grafana.example.com/d/db_lag"},
        "action": {"id": "a-1", "index": 0},
        "account": {"id": "ops-slack", "name": "Ops", "type": "slack"},
    });
    let rendered = render_as(
        "slack",
        json!({"message": ":rotating_light: *{{context.host}}*: {{context.reason}} <{{context.url}}|dashboard>"}),
        &vars,
    );
    assert_eq!(
        rendered,
        json!({"message": ":rotating_light: *`db_primary`*: replication lag &gt; 30s <https://grafana.example.com/d/db_lag|dashboard>"})
    );
}

#[test]
fn slack_api_text_and_blocks() {
    let vars = json!({"context": {"host": "db_1", "note": "say \"hi\"\nnow"}});
    let post = render_as(
        "slack_api",
        json!({"subAction": "postMessage", "subActionParams": {"channelNames": ["#ops_{{context.host}}"], "text": "{{context.host}} down"}}),
        &vars,
    );
    assert_eq!(
        post,
        json!({"subAction": "postMessage", "subActionParams": {"channelNames": ["#ops_db_1"], "text": "`db_1` down"}})
    );
    let blocks = render_as(
        "slack_api",
        json!({"subAction": "postBlockkit", "subActionParams": {
            "channelIds": ["C1"],
            "text": r#"{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"{{context.host}}: {{context.note}}"}}]}"#,
        }}),
        &vars,
    );
    let text = blocks["subActionParams"]["text"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(text).expect("blocks stay JSON");
    assert_eq!(parsed["blocks"][0]["text"]["text"], "db_1: say \"hi\"\nnow");
}

#[test]
fn email_message_and_html() {
    let vars = json!({"context": {"host": "web-1", "reason": "load > 10 (5m avg)", "link": "https://k.example.com/a?b=1&c=2"}});
    let rendered = render_as(
        "email",
        json!({
            "to": ["ops@example.com"],
            "subject": "[alert] {{context.host}}: {{context.reason}}",
            "message": "# Alert\n\n**{{context.host}}**: {{context.reason}}\n\n[open]({{{context.link}}})",
            "messageHTML": "<p><b>{{context.host}}</b>: {{context.reason}} <a href=\"{{context.link}}\">open</a></p>",
        }),
        &vars,
    );
    assert_eq!(
        rendered,
        json!({
            "to": ["ops@example.com"],
            "subject": "[alert] web-1: load > 10 (5m avg)",
            "message": "# Alert\n\n**web\\-1**: load > 10 \\(5m avg\\)\n\n[open](https://k.example.com/a?b=1&c=2)",
            "messageHTML": "<p><b>web-1</b>: load &gt; 10 (5m avg) <a href=\"https:&#x2F;&#x2F;k.example.com&#x2F;a?b&#x3D;1&amp;c&#x3D;2\">open</a></p>",
        })
    );
}

#[test]
fn webhook_body_stays_json() {
    let vars = json!({
        "context": {"host": "web-1", "reason": "quote \" backslash \\ newline \n tab \t unicode é🚨", "value": 97.5, "tags": ["a", "b"]},
        "action": {"id": "act-9", "index": 2},
        "account": {"id": "hook", "name": "Hook", "type": "webhook"},
    });
    let rendered = render_as(
        "webhook",
        json!({"body": r#"{"host": "{{context.host}}", "reason": "{{context.reason}}", "value": {{context.value}}, "tags": {{{context.tags.asJSON}}}, "action": "{{action.id}}#{{action.index}}"}"#}),
        &vars,
    );
    let body: Value = serde_json::from_str(rendered["body"].as_str().unwrap()).expect("valid JSON");
    assert_eq!(
        body,
        json!({
            "host": "web-1",
            "reason": "quote \" backslash \\ newline \n tab \t unicode é🚨",
            "value": 97.5,
            "tags": ["a", "b"],
            "action": "act-9#2",
        })
    );
}

#[test]
fn incident_fields_are_not_escaped() {
    let vars = json!({"context": {"host": "db_1", "reason": "a < b & \"c\""}});
    let rendered = render_as(
        "jira",
        json!({"subAction": "pushToService", "subActionParams": {"incident": {
            "summary": "{{context.host}}: {{context.reason}}",
            "labels": ["{{context.host}}"],
        }}}),
        &vars,
    );
    assert_eq!(
        rendered["subActionParams"]["incident"],
        json!({"summary": "db_1: a < b & \"c\"", "labels": ["db_1"]})
    );
}
