//! Each escape, as Kibana's `mustache_renderer.ts` applies it to what
//! `{{x}}` inserts.

use herald_templates::{Escape, render};
use serde_json::{Value, json};

fn one(value: Value, escape: Escape) -> String {
    render("{{v}}", &json!({ "v": value }), escape).expect("template renders")
}

const TRICKY: &[&str] = &[
    "plain",
    "double \"quotes\" and 'single'",
    "back\\slash \\\" and \\n literally",
    "new\nline\r\nand\ttab",
    "control \u{0} \u{1} \u{8} \u{c} \u{1b} \u{1f} \u{7f}",
    "unicode: é ü 日本語 🚨 \u{2028} \u{2029}",
    "braces {{not a tag}} and }} {",
    "</script><b>html</b> & more",
    "",
];

#[test]
fn json_escape_keeps_the_document_valid_for_any_value() {
    let template = r#"{"text": "{{v}}", "host": "{{context.host}}", "n": {{n}}}"#;
    for tricky in TRICKY {
        let vars = json!({"v": tricky, "context": {"host": tricky}, "n": 1.5});
        let rendered = render(template, &vars, Escape::Json).unwrap();
        let parsed: Value = serde_json::from_str(&rendered)
            .unwrap_or_else(|error| panic!("{rendered:?} is not JSON: {error}"));
        assert_eq!(parsed["text"], json!(tricky), "{rendered}");
        assert_eq!(parsed["host"], json!(tricky));
        assert_eq!(parsed["n"], json!(1.5));
    }
}

#[test]
fn json_escape_writes_what_json_stringify_writes() {
    assert_eq!(one(json!("a\"b\\c"), Escape::Json), r#"a\"b\\c"#);
    assert_eq!(one(json!("l1\nl2\r\t"), Escape::Json), r#"l1\nl2\r\t"#);
    assert_eq!(
        one(json!("\u{0}\u{8}\u{c}\u{1f}"), Escape::Json),
        r#"\u0000\b\f\u001f"#
    );
    assert_eq!(one(json!("é/🚨<>"), Escape::Json), "é/🚨<>");
    // An object is its JSON, then escaped as a string.
    assert_eq!(
        one(json!({"k": "v\"w"}), Escape::Json),
        r#"{\"k\":\"v\\\"w\"}"#
    );
    let object_in_string = render(
        r#"{"labels": "{{v}}"}"#,
        &json!({"v": {"k": "v\"w", "n": [1, null]}}),
        Escape::Json,
    )
    .unwrap();
    let parsed: Value = serde_json::from_str(&object_in_string).unwrap();
    let inner: Value = serde_json::from_str(parsed["labels"].as_str().unwrap()).unwrap();
    assert_eq!(inner, json!({"k": "v\"w", "n": [1, null]}));
}

#[test]
fn raw_json_inserts_a_whole_value() {
    let rendered = render(
        r#"{"tags": {{{context.tags.asJSON}}}, "labels": {{{context.labels}}}}"#,
        &json!({"context": {"tags": ["a\"", "b"], "labels": {"x": 1}}}),
        Escape::Json,
    )
    .unwrap();
    let parsed: Value = serde_json::from_str(&rendered).unwrap();
    assert_eq!(parsed, json!({"tags": ["a\"", "b"], "labels": {"x": 1}}));
}

#[test]
fn slack_escapes_control_characters_and_backticks() {
    assert_eq!(
        one(json!("a & b < c > d"), Escape::Slack),
        "a &amp; b &lt; c &gt; d"
    );
    assert_eq!(one(json!("run `ls`"), Escape::Slack), "run 'ls'");
    assert_eq!(one(json!("<!channel>"), Escape::Slack), "&lt;!channel&gt;");
}

#[test]
fn slack_wraps_values_with_formatting_characters_in_backticks() {
    assert_eq!(one(json!("my_host"), Escape::Slack), "`my_host`");
    assert_eq!(one(json!("5 * 3"), Escape::Slack), "`5 * 3`");
    assert_eq!(one(json!("`a_b`"), Escape::Slack), "`'a_b'`");
    assert_eq!(
        one(json!("a_b <!here>"), Escape::Slack),
        "`a_b &lt;!here&gt;`"
    );
    // URLs stay clickable.
    assert_eq!(
        one(json!("https://example.com/a_b?x=*&y=1"), Escape::Slack),
        "https://example.com/a_b?x=*&amp;y=1"
    );
    assert_eq!(one(json!("no specials"), Escape::Slack), "no specials");
    // Only the inserted value is wrapped, not the template's text.
    assert_eq!(
        render("*{{v}}* is _down_", &json!({"v": "db_1"}), Escape::Slack).unwrap(),
        "*`db_1`* is _down_"
    );
}

#[test]
fn markdown_escapes_kibanas_set() {
    assert_eq!(
        one(json!(r"\ | ` * _ { } [ ] ( ) # + - . !"), Escape::Markdown),
        r"\\ \| \` \* \_ \{ \} \[ \] \( \) \# \+ \- \. \!"
    );
    assert_eq!(
        one(json!("a<b>&c \"q\" ~x~ =y"), Escape::Markdown),
        "a<b>&c \"q\" ~x~ =y"
    );
    assert_eq!(one(json!("1.5"), Escape::Markdown), r"1\.5");
}

#[test]
fn html_escapes_as_mustache_js_does() {
    assert_eq!(
        one(json!(r#"& < > " ' / ` ="#), Escape::Html),
        "&amp; &lt; &gt; &quot; &#39; &#x2F; &#x60; &#x3D;"
    );
    assert_eq!(one(json!("é 🚨 plain"), Escape::Html), "é 🚨 plain");
}

#[test]
fn none_inserts_as_is() {
    for tricky in TRICKY {
        assert_eq!(one(json!(tricky), Escape::None), *tricky);
    }
}

#[test]
fn arrays_are_escaped_as_their_text() {
    assert_eq!(one(json!(["a_b", "c"]), Escape::Slack), "`a_b,c`");
    assert_eq!(one(json!(["x.y"]), Escape::Markdown), r"x\.y");
    assert_eq!(
        one(json!([1, null, [2, 3], {"k": "<"}]), Escape::Html),
        "1,,2,3,{&quot;k&quot;:&quot;&lt;&quot;}"
    );
}
