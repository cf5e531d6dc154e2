//! Broken templates are errors with a position, never a half-rendered text.

use herald_templates::{
    Escape, MAX_RENDERED_LEN, MAX_SECTION_DEPTH, Position, TemplateError, render,
};
use serde_json::json;

use super::vars;

fn error(template: &str) -> TemplateError {
    render(template, &vars(), Escape::None).expect_err("template must be refused")
}

fn at(offset: usize, line: usize, column: usize) -> Position {
    Position {
        offset,
        line,
        column,
    }
}

#[test]
fn unclosed_tags() {
    assert_eq!(
        error("hello {{context.host"),
        TemplateError::UnclosedTag {
            at: at(6, 1, 7),
            closer: "}}"
        }
    );
    assert_eq!(
        error("{{{context.host}}"),
        TemplateError::UnclosedTag {
            at: at(0, 1, 1),
            closer: "}}}"
        }
    );
    // The second `{{` shows the first was never closed.
    assert_eq!(
        error("a {{context.host b {{context.reason}}"),
        TemplateError::UnclosedTag {
            at: at(2, 1, 3),
            closer: "}}"
        }
    );
    assert_eq!(
        error("x {{! comment").to_string(),
        "unclosed tag at line 1, column 3: `{{` without a matching `}}`"
    );
}

#[test]
fn positions_count_lines_and_characters() {
    // Line 3, after a two-byte character on that line.
    let template = "one\ntwo\né {{#open}}";
    assert_eq!(
        error(template),
        TemplateError::UnclosedSection {
            name: "open".into(),
            at: at(11, 3, 3)
        }
    );
    assert_eq!(
        error(template).to_string(),
        "section `open` opened at line 3, column 3 is never closed"
    );
}

#[test]
fn empty_tags() {
    for template in ["{{}}", "{{ }}", "{{{}}}", "{{&}}", "{{#}}{{/}}", "{{^ }}"] {
        assert!(
            matches!(error(template), TemplateError::EmptyTag { .. }),
            "{template}"
        );
    }
    assert_eq!(
        error("ab{{  }}").to_string(),
        "empty tag at line 1, column 3"
    );
}

#[test]
fn sections_must_nest() {
    assert_eq!(
        error("{{#a}}{{#b}}{{/a}}{{/b}}"),
        TemplateError::MismatchedSection {
            open: "b".into(),
            opened_at: at(6, 1, 7),
            close: "a".into(),
            at: at(12, 1, 13),
        }
    );
    assert_eq!(
        error("{{#a}}{{#b}}{{/a}}{{/b}}").to_string(),
        "`{{/a}}` at line 1, column 13 does not match the open section `b` (opened at line 1, column 7)"
    );
    assert_eq!(
        error("x\n{{/a}}"),
        TemplateError::UnopenedSection {
            name: "a".into(),
            at: at(2, 2, 1)
        }
    );
    assert_eq!(
        error("{{#a}}{{^b}}{{/b}}"),
        TemplateError::UnclosedSection {
            name: "a".into(),
            at: at(0, 1, 1)
        }
    );
}

#[test]
fn partials_and_delimiter_changes_are_unsupported() {
    assert_eq!(
        error("{{=<% %>=}}"),
        TemplateError::UnsupportedDelimiters { at: at(0, 1, 1) }
    );
    assert!(error("{{=<% %>=}}").to_string().contains("not supported"));
    assert_eq!(
        error(" {{> footer}}"),
        TemplateError::UnsupportedPartial {
            name: "footer".into(),
            at: at(1, 1, 2)
        }
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = |levels: usize| {
        let open: String = (0..levels).map(|i| format!("{{{{#s{i}}}}}")).collect();
        let close: String = (0..levels)
            .rev()
            .map(|i| format!("{{{{/s{i}}}}}"))
            .collect();
        format!("{open}x{close}")
    };
    assert_eq!(
        render(&deep(MAX_SECTION_DEPTH), &vars(), Escape::None).unwrap(),
        ""
    );
    assert!(matches!(
        error(&deep(MAX_SECTION_DEPTH + 1)),
        TemplateError::TooDeep {
            max: MAX_SECTION_DEPTH,
            ..
        }
    ));
}

#[test]
fn output_is_bounded() {
    // 1,000 × 1,000 × 10 bytes would be 10 MB.
    let items: Vec<u32> = (0..1000).collect();
    let vars = json!({"a": items, "b": items});
    let result = render("{{#a}}{{#b}}0123456789{{/b}}{{/a}}", &vars, Escape::None);
    assert_eq!(
        result,
        Err(TemplateError::TooLarge {
            limit: MAX_RENDERED_LEN
        })
    );
}

#[test]
fn messages_carry_no_values() {
    let secret_vars = json!({"context": {"secret": "hunter2"}});
    let message = render("{{context.secret}} {{#x}}", &secret_vars, Escape::None)
        .unwrap_err()
        .to_string();
    assert!(!message.contains("hunter2"), "{message}");
}
