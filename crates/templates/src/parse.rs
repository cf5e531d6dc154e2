//! Turns a template into a flat token list in one pass. A section's body is
//! the `len` tokens that follow it, so rendering needs no tree and parsing
//! allocates only the token and name-segment vectors (reused across the
//! strings of one params document).

use crate::error::{Position, TemplateError};

/// Sections nested deeper than this are refused: rendering recurses once per
/// level, and no real template comes near it.
pub const MAX_SECTION_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Token<'t> {
    Text(&'t str),
    /// `{{x}}` (escaped) or `{{{x}}}` / `{{& x}}` (raw).
    Variable {
        name: Name<'t>,
        escaped: bool,
    },
    /// `{{#x}}` or `{{^x}}`; its body is the next `len` tokens.
    Section {
        name: Name<'t>,
        inverted: bool,
        len: usize,
    },
}

/// A variable name. `raw` is `a.b.c` as written; `segments` indexes the
/// parser's segment list (`a`, `b`, `c`), which are slices of `raw`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Name<'t> {
    pub raw: &'t str,
    pub first_segment: u32,
    pub segment_count: u32,
}

impl Name<'_> {
    /// `{{.}}`, the current item.
    pub fn is_implicit(&self) -> bool {
        self.raw == "."
    }
}

/// Buffers for one template; cleared and refilled by [`Parsed::parse`].
#[derive(Debug, Default)]
pub(crate) struct Parsed<'t> {
    pub tokens: Vec<Token<'t>>,
    /// Where each token starts in the template, for errors found while
    /// rendering (the work budget running out).
    pub starts: Vec<usize>,
    pub segments: Vec<&'t str>,
    open: Vec<Open<'t>>,
}

#[derive(Debug)]
struct Open<'t> {
    token: usize,
    name: &'t str,
    offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Variable,
    Raw,
    Triple,
    Section,
    Inverted,
    Close,
    Comment,
    Partial,
    Delimiters,
}

impl Kind {
    /// Tags that take their whole line when alone on it (Mustache's
    /// "standalone" rule), so that `{{#items}}` on its own line leaves no
    /// blank line behind.
    fn can_stand_alone(self) -> bool {
        matches!(
            self,
            Kind::Section | Kind::Inverted | Kind::Close | Kind::Comment
        )
    }
}

impl<'t> Parsed<'t> {
    pub fn parse(&mut self, src: &'t str) -> Result<(), TemplateError> {
        self.tokens.clear();
        self.starts.clear();
        self.segments.clear();
        self.open.clear();
        let bytes = src.as_bytes();
        // Start of the text not yet emitted, and where to look for a tag.
        let mut text_start = 0;
        let mut scan = 0;
        while let Some(found) = src[scan..].find("{{") {
            let start = scan + found;
            // Like mustache.js, whitespace may separate `{{` from the sigil.
            let mut sigil_at = start + 2;
            while bytes.get(sigil_at).is_some_and(u8::is_ascii_whitespace) {
                sigil_at += 1;
            }
            let (kind, closer) = match bytes.get(sigil_at) {
                Some(b'{') => (Kind::Triple, "}}}"),
                Some(b'&') => (Kind::Raw, "}}"),
                Some(b'#') => (Kind::Section, "}}"),
                Some(b'^') => (Kind::Inverted, "}}"),
                Some(b'/') => (Kind::Close, "}}"),
                Some(b'!') => (Kind::Comment, "}}"),
                Some(b'>') => (Kind::Partial, "}}"),
                Some(b'=') => (Kind::Delimiters, "}}"),
                _ => (Kind::Variable, "}}"),
            };
            let at = |offset| Position::of(src, offset);
            if kind == Kind::Delimiters {
                return Err(TemplateError::UnsupportedDelimiters { at: at(start) });
            }
            let inner_start = if kind == Kind::Variable {
                sigil_at
            } else {
                sigil_at + 1
            };
            let Some(length) = src[inner_start..].find(closer) else {
                return Err(TemplateError::UnclosedTag {
                    at: at(start),
                    closer,
                });
            };
            let inner = &src[inner_start..inner_start + length];
            let end = inner_start + length + closer.len();
            if kind != Kind::Comment {
                // `{{a {{b}}`: the first tag was never closed.
                if inner.contains("{{") {
                    return Err(TemplateError::UnclosedTag {
                        at: at(start),
                        closer,
                    });
                }
                if inner.trim().is_empty() {
                    return Err(TemplateError::EmptyTag { at: at(start) });
                }
            }
            let name = inner.trim();
            if kind == Kind::Partial {
                return Err(TemplateError::UnsupportedPartial {
                    name: name.to_owned(),
                    at: at(start),
                });
            }

            let (text_end, next) = if kind.can_stand_alone() {
                standalone(src, start, end).unwrap_or((start, end))
            } else {
                (start, end)
            };
            if text_end > text_start {
                self.push(text_start, Token::Text(&src[text_start..text_end]));
            }
            text_start = next;
            scan = next;

            match kind {
                Kind::Variable | Kind::Raw | Kind::Triple => {
                    let name = self.name(name);
                    self.push(
                        start,
                        Token::Variable {
                            name,
                            escaped: kind == Kind::Variable,
                        },
                    );
                }
                Kind::Section | Kind::Inverted => {
                    if self.open.len() == MAX_SECTION_DEPTH {
                        return Err(TemplateError::TooDeep {
                            at: at(start),
                            max: MAX_SECTION_DEPTH,
                        });
                    }
                    self.open.push(Open {
                        token: self.tokens.len(),
                        name,
                        offset: start,
                    });
                    let name = self.name(name);
                    self.push(
                        start,
                        Token::Section {
                            name,
                            inverted: kind == Kind::Inverted,
                            len: 0,
                        },
                    );
                }
                Kind::Close => {
                    let Some(open) = self.open.pop() else {
                        return Err(TemplateError::UnopenedSection {
                            name: name.to_owned(),
                            at: at(start),
                        });
                    };
                    if open.name != name {
                        return Err(TemplateError::MismatchedSection {
                            open: open.name.to_owned(),
                            opened_at: at(open.offset),
                            close: name.to_owned(),
                            at: at(start),
                        });
                    }
                    let body_len = self.tokens.len() - open.token - 1;
                    if let Token::Section { len, .. } = &mut self.tokens[open.token] {
                        *len = body_len;
                    }
                }
                Kind::Comment | Kind::Partial | Kind::Delimiters => {}
            }
        }
        if text_start < src.len() {
            self.push(text_start, Token::Text(&src[text_start..]));
        }
        if let Some(open) = self.open.pop() {
            return Err(TemplateError::UnclosedSection {
                name: open.name.to_owned(),
                at: Position::of(src, open.offset),
            });
        }
        Ok(())
    }

    fn push(&mut self, start: usize, token: Token<'t>) {
        self.tokens.push(token);
        self.starts.push(start);
    }

    /// Splits `a.b.c` into segments the way mustache.js does: only when a
    /// dot follows the first character, so `.` and `.x` are single names.
    fn name(&mut self, raw: &'t str) -> Name<'t> {
        let first_segment = self.segments.len() as u32;
        if raw.find('.').is_some_and(|dot| dot > 0) {
            self.segments.extend(raw.split('.'));
        } else {
            self.segments.push(raw);
        }
        Name {
            raw,
            first_segment,
            segment_count: self.segments.len() as u32 - first_segment,
        }
    }
}

/// When the tag at `start..end` is alone on its line (only spaces or tabs
/// around it), the text before it ends at the line's start and the text
/// after it resumes after the line break: `(text_end, next)`.
fn standalone(src: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let bytes = src.as_bytes();
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let indent = bytes[..start]
        .iter()
        .rev()
        .take_while(|b| is_blank(b))
        .count();
    let line_start = start - indent;
    if line_start > 0 && bytes[line_start - 1] != b'\n' {
        return None;
    }
    let trailing = bytes[end..].iter().take_while(|b| is_blank(b)).count();
    let rest = &src[end + trailing..];
    let line_break = if rest.is_empty() {
        0
    } else if rest.starts_with('\n') {
        1
    } else if rest.starts_with("\r\n") {
        2
    } else {
        return None;
    };
    Some((line_start, end + trailing + line_break))
}
