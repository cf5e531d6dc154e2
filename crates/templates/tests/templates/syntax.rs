//! Each Mustache construct, with mustache.js's semantics.

use herald_templates::{Escape, render};
use serde_json::json;

use super::{plain, vars};

#[test]
fn text_without_tags_is_copied() {
    assert_eq!(plain(""), "");
    assert_eq!(plain("no tags } here {"), "no tags } here {");
    assert_eq!(
        plain("a single { brace and }} closers"),
        "a single { brace and }} closers"
    );
}

#[test]
fn variables_and_dotted_names() {
    assert_eq!(
        plain("{{context.host}} is down: {{context.reason}}"),
        "web-1 is down: disk full"
    );
    assert_eq!(plain("{{ context.host }}"), "web-1");
    assert_eq!(plain("{{account.name}}/{{action.id}}"), "Ops/act-1");
    assert_eq!(plain("{{context.labels.team}}"), "ops");
}

#[test]
fn missing_and_null_render_empty() {
    assert_eq!(plain("[{{context.missing}}]"), "[]");
    assert_eq!(plain("[{{nope.deeper.still}}]"), "[]");
    assert_eq!(plain("[{{context.nothing}}]"), "[]");
    assert_eq!(plain("[{{context.host.deeper}}]"), "[]");
}

#[test]
fn scalars_print_as_javascript_does() {
    assert_eq!(plain("{{context.count}}"), "3");
    assert_eq!(plain("{{context.ratio}}"), "0.25");
    assert_eq!(plain("{{context.whole}}"), "2");
    assert_eq!(plain("{{context.up}} {{context.ok}}"), "false true");
    assert_eq!(plain("{{context.zero}}"), "0");
}

#[test]
fn objects_render_as_json_and_arrays_as_kibana_does() {
    assert_eq!(plain("{{context.labels}}"), r#"{"team":"ops","tier":1}"#);
    // Array.prototype.toString joins the items; `asJSON` gives JSON.
    assert_eq!(plain("{{context.tags}}"), "prod,eu");
    assert_eq!(plain("{{context.tags.asJSON}}"), r#"["prod","eu"]"#);
    assert_eq!(
        plain("{{context.alerts}}"),
        r#"{"host":"web-1","id":"a1","value":91},{"id":"a2","value":97}"#
    );
    assert_eq!(
        plain("{{context.tags.length}} {{context.host.length}}"),
        "2 5"
    );
    assert_eq!(
        plain("{{context.tags.0}} {{context.alerts.1.id}}"),
        "prod a2"
    );
    assert_eq!(plain("[{{context.tags.01}}{{context.tags.5}}]"), "[]");
}

#[test]
fn sections_over_lists_objects_and_scalars() {
    assert_eq!(
        plain("{{#context.alerts}}{{id}}={{value}};{{/context.alerts}}"),
        "a1=91;a2=97;"
    );
    assert_eq!(
        plain("{{#context.tags}}<{{.}}>{{/context.tags}}"),
        "<prod><eu>"
    );
    assert_eq!(
        plain("{{#context.labels}}{{team}}{{/context.labels}}"),
        "ops"
    );
    assert_eq!(
        plain("{{#context.host}}[{{.}}]{{/context.host}}"),
        "[web-1]"
    );
    assert_eq!(plain("{{#context.count}}n={{.}}{{/context.count}}"), "n=3");
    assert_eq!(plain("{{#context.ok}}yes{{/context.ok}}"), "yes");
}

#[test]
fn falsy_sections_are_skipped_and_inverted_sections_shown() {
    for name in ["up", "zero", "empty", "nothing", "none", "missing"] {
        let template = format!("{{{{#context.{name}}}}}shown{{{{/context.{name}}}}}");
        assert_eq!(plain(&template), "", "#{name}");
        let template = format!("{{{{^context.{name}}}}}shown{{{{/context.{name}}}}}");
        assert_eq!(plain(&template), "shown", "^{name}");
    }
    for name in ["ok", "count", "host", "tags", "labels"] {
        let template = format!("{{{{^context.{name}}}}}shown{{{{/context.{name}}}}}");
        assert_eq!(plain(&template), "", "^{name}");
    }
}

#[test]
fn names_fall_back_through_the_context_stack() {
    // `host` is missing on the second alert, so the root's context is not
    // reached either (no `host` at the root): empty. `context.host` inside
    // the section is found at the root.
    assert_eq!(
        plain("{{#context.alerts}}{{host}}|{{context.host}}|{{action.id}};{{/context.alerts}}"),
        "web-1|web-1|act-1;|web-1|act-1;"
    );
    // Nested sections see every enclosing item.
    let vars = json!({"groups": [{"name": "g", "items": [{"v": 1}, {"v": 2}]}]});
    assert_eq!(
        render(
            "{{#groups}}{{#items}}{{name}}{{v}} {{/items}}{{/groups}}",
            &vars,
            Escape::None
        )
        .unwrap(),
        "g1 g2 "
    );
}

#[test]
fn dotted_names_resolve_like_mustache_js() {
    // The whole dotted name is retried in outer contexts when an inner one
    // lacks its last part.
    let vars = json!({"a": {"b": 1}, "items": [{"a": {"c": 2}}]});
    assert_eq!(
        render("{{#items}}{{a.b}}{{a.c}}{{/items}}", &vars, Escape::None).unwrap(),
        "12"
    );
    // An existing null stops the search.
    let vars = json!({"x": "outer", "items": [{"x": null}]});
    assert_eq!(
        render("{{#items}}[{{x}}]{{/items}}", &vars, Escape::None).unwrap(),
        "[]"
    );
}

#[test]
fn keys_holding_dots_are_found_as_kibana_expands_them() {
    let vars = json!({"context": {"kibana.alert.reason": "cpu", "kibana": {"space": "default"}}});
    assert_eq!(
        render(
            "{{context.kibana.alert.reason}} in {{context.kibana.space}}",
            &vars,
            Escape::None
        )
        .unwrap(),
        "cpu in default"
    );
}

#[test]
fn triple_braces_and_ampersand_are_raw() {
    let vars = json!({"v": "<b>&\"x\"</b>"});
    for escape in [Escape::Html, Escape::Json, Escape::Markdown, Escape::Slack] {
        assert_eq!(render("{{{v}}}", &vars, escape).unwrap(), "<b>&\"x\"</b>");
        assert_eq!(render("{{& v}}", &vars, escape).unwrap(), "<b>&\"x\"</b>");
        assert_eq!(render("{{{ v }}}", &vars, escape).unwrap(), "<b>&\"x\"</b>");
    }
    assert_eq!(
        render("{{v}}", &vars, Escape::Html).unwrap(),
        "&lt;b&gt;&amp;&quot;x&quot;&lt;&#x2F;b&gt;"
    );
}

#[test]
fn comments_render_nothing() {
    assert_eq!(plain("a{{! a comment with {{braces }}b"), "ab");
    assert_eq!(plain("a{{!}}b"), "ab");
}

#[test]
fn implicit_iterator_at_the_root_is_the_variables() {
    let vars = json!("just text");
    assert_eq!(render("{{.}}", &vars, Escape::None).unwrap(), "just text");
}

#[test]
fn standalone_tags_take_their_line() {
    let template =
        "Alerts:\n{{#context.alerts}}\n  - {{id}}\n{{/context.alerts}}\n{{! note }}\ndone";
    assert_eq!(plain(template), "Alerts:\n  - a1\n  - a2\ndone");
    let template = "a\r\n  {{#context.ok}}  \r\nb\r\n  {{/context.ok}}";
    assert_eq!(plain(template), "a\r\nb\r\n");
    // Not alone on the line: the line stays.
    assert_eq!(plain("x {{#context.ok}}\ny{{/context.ok}} z"), "x \ny z");
    assert_eq!(plain("{{context.host}}\n"), "web-1\n");
}

#[test]
fn literal_text_is_never_escaped() {
    let vars = json!({"v": "*"});
    assert_eq!(
        render("*bold* & <{{v}}> _x_", &vars, Escape::Markdown).unwrap(),
        "*bold* & <\\*> _x_"
    );
    assert_eq!(
        render("<p>{{v}}</p>", &vars, Escape::Html).unwrap(),
        "<p>*</p>"
    );
}

#[test]
fn numbers_are_never_escaped() {
    let vars = json!({"n": -1.5});
    assert_eq!(render("{{n}}", &vars, Escape::Markdown).unwrap(), "-1.5");
    assert_eq!(render("{{n}}", &vars, Escape::Slack).unwrap(), "-1.5");
}

#[test]
fn values_without_special_characters_read_the_same_in_every_escape() {
    for escape in [
        Escape::None,
        Escape::Json,
        Escape::Slack,
        Escape::Markdown,
        Escape::Html,
    ] {
        assert_eq!(
            render(
                "{{account.name}} {{context.count}} {{context.ok}}",
                &vars(),
                escape
            )
            .unwrap(),
            "Ops 3 true",
            "{escape:?}"
        );
    }
}
