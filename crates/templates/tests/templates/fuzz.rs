//! Property test of the engine against hostile templates: random token soup
//! (unbalanced tags, stray braces, huge repeats) and random nested sections
//! over random contexts. Rendering never panics, always ends, and either
//! fails or stays within its budget. Runs a bounded number of cases, in the
//! normal test run.

use herald_templates::{Budget, Escape, TemplateError, render_params_within, render_within};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const MAX_OUTPUT: usize = 64 * 1024;
const MAX_STEPS: u64 = 50_000;

fn name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "l",
        "o",
        "s",
        "n",
        "t",
        "f",
        ".",
        "l.length",
        "l.asJSON",
        "o.l",
        "context.l",
        "context",
        "a.b.c",
        "missing",
        "l.0",
        "o.s.length",
        "",
    ])
}

/// One piece of a template; most are tags, some are broken on purpose.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z <>&\"'\n]{0,8}",
        name().prop_map(|n| format!("{{{{{n}}}}}")),
        name().prop_map(|n| format!("{{{{{{{n}}}}}}}")),
        name().prop_map(|n| format!("{{{{& {n}}}}}")),
        name().prop_map(|n| format!("{{{{#{n}}}}}")),
        name().prop_map(|n| format!("{{{{^{n}}}}}")),
        name().prop_map(|n| format!("{{{{/{n}}}}}")),
        Just("{{! a comment }}".to_owned()),
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("{{{".to_owned()),
        Just("{{=<% %>=}}".to_owned()),
        Just("{{> partial}}".to_owned()),
    ]
}

/// Token soup, with a piece now and then repeated hundreds of times.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (piece(), prop_oneof![9 => Just(1usize), 1 => 1usize..400]),
        0..40,
    )
    .prop_map(|pieces| {
        pieces
            .into_iter()
            .map(|(piece, times)| piece.repeat(times))
            .collect()
    })
}

/// Well-formed templates with sections nested up to eight deep.
fn nested() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z ]{0,4}",
        name()
            .prop_filter("a name", |n| !n.is_empty())
            .prop_map(|n| format!("{{{{{n}}}}}")),
    ];
    leaf.prop_recursive(8, 64, 4, |inner| {
        (
            name().prop_filter("a name", |n| !n.is_empty()),
            any::<bool>(),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(name, inverted, body)| {
                let sigil = if inverted { '^' } else { '#' };
                format!("{{{{{sigil}{name}}}}}{}{{{{/{name}}}}}", body.concat())
            })
    })
}

/// Contexts with lists of up to ten items, nested objects, every scalar.
fn context() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z<>&]{0,6}".prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(4, 48, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..10).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["l", "o", "s", "n", "t", "f", "a", "b", "c"]),
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(
                map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    });
    (value.clone(), value).prop_map(|(top, inner)| {
        json!({
            "l": (0..10).collect::<Vec<u32>>(),
            "o": top,
            "context": {"l": inner, "o": {"l": [1, 2, 3]}},
        })
    })
}

fn escape() -> impl Strategy<Value = Escape> {
    prop::sample::select(vec![
        Escape::None,
        Escape::Markdown,
        Escape::Slack,
        Escape::Json,
        Escape::Html,
    ])
}

fn check(template: &str, vars: &Value, escape: Escape) -> Result<(), TestCaseError> {
    let mut budget = Budget::new(MAX_OUTPUT, MAX_STEPS);
    match render_within(template, vars, escape, &mut budget) {
        Ok(out) => prop_assert!(out.len() <= MAX_OUTPUT + template.len()),
        Err(TemplateError::TooLarge { limit }) => prop_assert_eq!(limit, MAX_OUTPUT),
        Err(TemplateError::TooMuchWork { limit, at }) => {
            prop_assert_eq!(limit, MAX_STEPS);
            prop_assert!(at.offset <= template.len());
        }
        Err(_) => {}
    }
    prop_assert!(budget.steps_taken() <= MAX_STEPS);
    Ok(())
}

proptest! {
    // proptest's default: 256 cases each, or PROPTEST_CASES.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn token_soup_never_panics_and_stays_bounded(
        template in soup(), vars in context(), escape in escape(),
    ) {
        check(&template, &vars, escape)?;
    }

    #[test]
    fn nested_sections_never_panic_and_stay_bounded(
        template in nested(), vars in context(), escape in escape(),
    ) {
        check(&template, &vars, escape)?;
    }

    #[test]
    fn params_documents_share_one_budget(
        templates in prop::collection::vec(prop_oneof![soup(), nested()], 1..6),
        vars in context(),
    ) {
        let params: Map<String, Value> = templates
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("f{i}"), Value::String(t)))
            .collect();
        let mut budget = Budget::new(MAX_OUTPUT, MAX_STEPS);
        if let Ok(rendered) =
            render_params_within(&params, &vars, |_| Escape::None, "p", &mut budget)
        {
            let total: usize = rendered.values().filter_map(Value::as_str).map(str::len).sum();
            let plain: usize = params.values().filter_map(Value::as_str).map(str::len).sum();
            prop_assert!(total <= MAX_OUTPUT + plain);
        }
        prop_assert!(budget.steps_taken() <= MAX_STEPS);
    }
}
