//! Prints how many actions' params one thread renders per second, for the
//! kinds of params ingest sees most. Run with
//! `cargo run --release -p herald-templates --example render_bench`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use herald_connectors::catalog;
use herald_templates::render_connector_params;
use serde_json::{Map, Value, json};

fn main() {
    let vars = json!({
        "context": {
            "host": "web-17.eu-west-1.prod",
            "reason": "disk usage 97% on /var (threshold 90%)",
            "value": 97.3,
            "url": "https://kibana.example.com/app/observability/alerts/8c1d_x",
            "tags": ["prod", "eu", "disk"],
            "alerts": [{"id": "a1", "value": 91}, {"id": "a2", "value": 97}, {"id": "a3", "value": 99}],
        },
        "action": {"id": "01J9Z8Q4W7M3", "index": 0},
        "account": {"id": "ops-slack", "name": "Ops", "type": "slack"},
    });
    let cases: [(&str, &str, Value); 5] = [
        (
            "slack message",
            "slack",
            json!({"message": ":rotating_light: *{{context.host}}*: {{context.reason}} <{{context.url}}|open>"}),
        ),
        (
            "email, 4 templated fields",
            "email",
            json!({
                "to": ["ops@example.com", "oncall@example.com"],
                "subject": "[{{context.host}}] {{context.reason}}",
                "message": "# {{context.host}}\n\n{{context.reason}}\n\n{{#context.alerts}}\n- {{id}}: {{value}}\n{{/context.alerts}}\n[Open]({{{context.url}}})",
                "messageHTML": "<h1>{{context.host}}</h1><p>{{context.reason}}</p><a href=\"{{context.url}}\">Open</a>",
            }),
        ),
        (
            "webhook JSON body",
            "webhook",
            json!({"body": r#"{"host":"{{context.host}}","reason":"{{context.reason}}","value":{{context.value}},"tags":{{{context.tags.asJSON}}},"action":"{{action.id}}"}"#}),
        ),
        (
            "jira pushToService",
            "jira",
            json!({"subAction": "pushToService", "subActionParams": {"incident": {
                "summary": "{{context.host}}: {{context.reason}}",
                "description": "Alert {{action.id}} on {{context.host}}\n{{#context.alerts}}{{id}}={{value}} {{/context.alerts}}",
                "labels": ["herald", "{{context.tags.0}}"],
                "priority": "High",
            }}, "comments": [{"comment": "opened by {{account.name}}", "commentId": "1"}]}),
        ),
        (
            "pagerduty, no templates",
            "pagerduty",
            json!({"eventAction": "trigger", "summary": "static summary", "severity": "critical", "source": "herald", "customDetails": {"a": 1, "b": "two"}}),
        ),
    ];
    println!("{:<28} {:>14} {:>10}", "params", "actions/s", "µs/action");
    for (label, connector_type, params) in cases {
        let spec = catalog().get(connector_type).expect("known type");
        let params: Map<String, Value> = params.as_object().expect("object").clone();
        let per_second = measure(|| {
            black_box(
                render_connector_params(
                    spec,
                    black_box(&params),
                    black_box(&vars),
                    "actions[0].params",
                )
                .expect("renders"),
            );
        });
        println!("{label:<28} {per_second:>14.0} {:>10.2}", 1e6 / per_second);
    }
}

/// Calls per second over about one second, after a short warm-up.
fn measure(mut call: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        call();
    }
    let mut calls = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..1_000 {
            call();
        }
        calls += 1_000;
    }
    calls as f64 / started.elapsed().as_secs_f64()
}
