//! The escapes of Kibana's `mustache_renderer.ts`, writing straight into the
//! output: runs of plain bytes are copied as slices, so a value with nothing
//! to escape costs one `push_str`.

use herald_catalog::Escape;

pub(crate) fn escape_into(out: &mut String, value: &str, escape: Escape) {
    match escape {
        Escape::None => out.push_str(value),
        Escape::Json => json_string(out, value),
        Escape::Html => replace_ascii(out, value, html),
        Escape::Markdown => replace_ascii(out, value, markdown),
        Escape::Slack => slack(out, value),
    }
}

/// Copies `value`, replacing the ASCII bytes `replacement` maps. Slicing at
/// an ASCII byte always falls on a character boundary.
fn replace_ascii(out: &mut String, value: &str, replacement: fn(u8) -> Option<&'static str>) {
    let mut copied = 0;
    for (index, byte) in value.bytes().enumerate() {
        if let Some(replacement) = replacement(byte) {
            out.push_str(&value[copied..index]);
            out.push_str(replacement);
            copied = index + 1;
        }
    }
    out.push_str(&value[copied..]);
}

/// mustache.js's default escape, which Kibana uses for `html`.
fn html(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        b'\'' => "&#39;",
        b'/' => "&#x2F;",
        b'`' => "&#x60;",
        b'=' => "&#x3D;",
        _ => return None,
    })
}

/// Kibana's `escapeMarkdown`: a backslash before each of
/// `` \ | ` * _ { } [ ] ( ) # + - . ! ``.
fn markdown(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'\\' => "\\\\",
        b'|' => "\\|",
        b'`' => "\\`",
        b'*' => "\\*",
        b'_' => "\\_",
        b'{' => "\\{",
        b'}' => "\\}",
        b'[' => "\\[",
        b']' => "\\]",
        b'(' => "\\(",
        b')' => "\\)",
        b'#' => "\\#",
        b'+' => "\\+",
        b'-' => "\\-",
        b'.' => "\\.",
        b'!' => "\\!",
        _ => return None,
    })
}

fn slack_entity(byte: u8) -> Option<&'static str> {
    Some(match byte {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        // A backtick cannot be escaped in Slack; Kibana turns it into a quote.
        b'`' => "'",
        _ => return None,
    })
}

/// Kibana's `escapeSlack`: a value holding `*` or `_` that is not a URL is
/// wrapped in backticks so Slack shows it verbatim. Unlike Kibana, `&` `<`
/// `>` are escaped inside the backticks too: Slack decodes entities in code
/// spans, and an unescaped `<!channel>` must never reach it.
fn slack(out: &mut String, value: &str) {
    let wrap = value.contains(['*', '_']) && url::Url::parse(value).is_err();
    if wrap {
        out.push('`');
    }
    replace_ascii(out, value, slack_entity);
    if wrap {
        out.push('`');
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The inside of a JSON string, as `JSON.stringify` writes it: `"` and `\`
/// escaped, control characters as `\n`-style or `\u00XX`, the rest as is.
pub(crate) fn json_string(out: &mut String, value: &str) {
    let mut copied = 0;
    for (index, byte) in value.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[copied..index]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(short);
        }
        copied = index + 1;
    }
    out.push_str(&value[copied..]);
}
