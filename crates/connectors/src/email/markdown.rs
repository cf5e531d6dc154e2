//! `params.message` is Markdown (Kibana's rule). It becomes the HTML part
//! through pulldown-cmark with raw HTML shown as text, never as markup, and
//! the plain-text part is the Markdown itself. Alert values were already
//! Markdown-escaped when the template was rendered at ingest
//! (`herald_templates`, `Escape::Markdown`), so a value cannot start a link
//! or emphasis; here we only make sure no HTML gets through.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// The HTML rendering of `markdown`: raw HTML blocks and inline tags are
/// escaped, and links or images to anything but http(s), mailto or a
/// relative path point nowhere.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http" | "https" | "mailto") => url,
        Some(s) if s.contains(['/', '?', '#']) => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

/// The plain-text part: the Markdown with its backslash escapes removed,
/// so `db\-1` reads `db-1`.
pub fn to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    let mut chars = markdown.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(next) if c == '\\' && next.is_ascii_punctuation() => {
                text.push(*next);
                chars.next();
            }
            _ => text.push(c),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        assert_eq!(
            to_html("**Disk** full on `db-1`"),
            "<p><strong>Disk</strong> full on <code>db-1</code></p>\n"
        );
        assert!(
            to_html("[runbook](https://wiki/x)").contains("<a href=\"https://wiki/x\">runbook</a>")
        );
    }

    #[test]
    fn raw_html_is_text() {
        let html = to_html("hi <script>alert(1)</script>\n\n<div onclick=x>block</div>");
        assert!(
            !html.contains("<script>") && !html.contains("<div"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn unsafe_links_point_nowhere() {
        assert!(to_html("[x](javascript:alert(1))").contains("href=\"#\""));
        assert!(to_html("[x](/alerts/1)").contains("href=\"/alerts/1\""));
    }

    #[test]
    fn escaped_values_stay_text() {
        // What ingest makes of the value `[click](http://evil)` and `*x*`.
        let html = to_html(r"host \[click\]\(http://evil\) \*x\*");
        assert!(!html.contains("<a") && !html.contains("<em>"), "{html}");
        assert_eq!(to_text(r"db\-1 \*x\* C:\path"), r"db-1 *x* C:\path");
    }
}
