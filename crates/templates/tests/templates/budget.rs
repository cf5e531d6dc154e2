//! The work budget: every token visited and every pass through a section
//! costs a step, so templates that loop without producing text are refused
//! quickly, at a position, and ordinary templates are not affected.

use herald_templates::{
    Budget, Escape, MAX_RENDER_STEPS, MAX_RENDERED_LEN, Spent, TemplateError, render,
    render_params_within, render_within,
};
use serde_json::{Map, Value, json};

/// `{{#context.l}}` nested `depth` deep with an empty body: 10^depth passes
/// over a ten-item list, and no output at all.
fn nested_empty_sections(depth: usize) -> String {
    "{{#context.l}}".repeat(depth) + &"{{/context.l}}".repeat(depth)
}

fn ten_items() -> Value {
    json!({"context": {"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}})
}

#[test]
fn nested_empty_sections_over_a_list_are_refused_at_a_section() {
    // Nine deep is a billion passes (the 366-byte event of issue 11 that
    // took 11 s of CPU before the budget).
    let template = nested_empty_sections(9);
    let error = render(&template, &ten_items(), Escape::None).unwrap_err();
    let TemplateError::TooMuchWork { limit, at } = error.clone() else {
        panic!("expected TooMuchWork, got {error:?}");
    };
    assert_eq!(limit, MAX_RENDER_STEPS);
    // The budget runs out while passing through one of the sections.
    let section = "{{#context.l}}".len();
    assert!(
        at.offset < 9 * section && at.offset % section == 0,
        "{at:?}"
    );
    assert_eq!((at.line, at.column), (1, at.offset + 1));
    let message = error.to_string();
    assert!(
        message.contains(&format!("more than {MAX_RENDER_STEPS} steps"))
            && message.contains("line 1, column"),
        "{message}"
    );
}

#[test]
fn the_field_that_spent_the_budget_is_named() {
    let params: Map<String, Value> = json!({
        "subject": "fine",
        "message": nested_empty_sections(9),
    })
    .as_object()
    .unwrap()
    .clone();
    let mut budget = Budget::default();
    let violations = render_params_within(
        &params,
        &ten_items(),
        |_| Escape::None,
        "actions[0].params",
        &mut budget,
    )
    .unwrap_err();
    assert_eq!(violations.len(), 1, "{violations}");
    let violation = violations.iter().next().unwrap();
    assert_eq!(violation.path, "actions[0].params.message");
    assert!(violation.message.contains("steps"), "{violation:?}");
    assert_eq!(budget.spent(), Some(Spent::Steps));
}

#[test]
fn one_budget_serves_every_call_it_is_given_to() {
    // 1 step for the section, then 3 per item (the pass, the variable, the
    // text): 31 steps for ten items.
    let template = "{{#context.l}}{{.}},{{/context.l}}";
    let mut budget = Budget::new(MAX_RENDERED_LEN, 40);
    assert_eq!(
        render_within(template, &ten_items(), Escape::None, &mut budget).unwrap(),
        "0,1,2,3,4,5,6,7,8,9,"
    );
    assert_eq!(budget.steps_taken(), 31);
    // A second string (another field, another action of the same event)
    // gets only what is left.
    let error = render_within(template, &ten_items(), Escape::None, &mut budget).unwrap_err();
    assert!(matches!(
        error,
        TemplateError::TooMuchWork { limit: 40, .. }
    ));
    assert_eq!(budget.spent(), Some(Spent::Steps));
}

#[test]
fn output_is_counted_over_every_field_together() {
    let params: Map<String, Value> = json!({"a": "{{context.l}}", "b": "{{context.l}}"})
        .as_object()
        .unwrap()
        .clone();
    // Each renders to 19 bytes; together they are over 30.
    let mut budget = Budget::new(30, MAX_RENDER_STEPS);
    let violations =
        render_params_within(&params, &ten_items(), |_| Escape::None, "p", &mut budget)
            .unwrap_err();
    assert_eq!(violations.len(), 1, "{violations}");
    let violation = violations.iter().next().unwrap();
    assert_eq!(violation.path, "p.b");
    assert_eq!(
        violation.message,
        "rendered params are larger than 30 bytes in all"
    );
    assert_eq!(budget.spent(), Some(Spent::Output));
}

#[test]
fn ordinary_templates_stay_well_inside_the_budget() {
    // A thousand alerts of five fields each, listed in a message.
    let alerts: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("a{i}"), "host": "web-1", "value": i, "up": i % 2 == 0, "tags": ["x", "y"]}))
        .collect();
    let vars = json!({"context": {"alerts": alerts, "rule": {"name": "disk"}}});
    let template = "Rule {{context.rule.name}}:\n{{#context.alerts}}- {{id}} on {{host}}: {{value}}{{#up}} (up){{/up}} [{{#tags}}{{.}} {{/tags}}]\n{{/context.alerts}}";
    let mut budget = Budget::default();
    let out = render_within(template, &vars, Escape::None, &mut budget).unwrap();
    assert!(
        out.starts_with("Rule disk:\n- a0 on web-1: 0 (up) [x y ]\n"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1001);
    assert!(
        budget.steps_taken() < MAX_RENDER_STEPS / 20,
        "{}",
        budget.steps_taken()
    );
    assert_eq!(budget.spent(), None);
}
