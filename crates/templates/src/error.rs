//! What can be wrong with a template. Messages quote the template's own tag
//! names, never a variable's value.

use std::fmt;

/// Where in a template: the byte offset and the 1-based line and column
/// (counted in characters) of the tag's `{{`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// Computed only when reporting, so the happy path never counts lines.
    pub(crate) fn of(src: &str, offset: usize) -> Position {
        let before = &src[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        Position {
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed tag at {at}: `{{{{` without a matching `{closer}`")]
    UnclosedTag { at: Position, closer: &'static str },
    #[error("empty tag at {at}")]
    EmptyTag { at: Position },
    #[error("section `{name}` opened at {at} is never closed")]
    UnclosedSection { name: String, at: Position },
    #[error("`{{{{/{name}}}}}` at {at} closes no open section")]
    UnopenedSection { name: String, at: Position },
    #[error(
        "`{{{{/{close}}}}}` at {at} does not match the open section `{open}` (opened at {opened_at})"
    )]
    MismatchedSection {
        open: String,
        opened_at: Position,
        close: String,
        at: Position,
    },
    #[error("set-delimiter tags (`{{{{=<% %>=}}}}`) are not supported, at {at}")]
    UnsupportedDelimiters { at: Position },
    #[error("partials (`{{{{>{name}}}}}`) are not supported, at {at}")]
    UnsupportedPartial { name: String, at: Position },
    #[error("sections nested more than {max} deep, at {at}")]
    TooDeep { at: Position, max: usize },
    #[error("rendered text is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error(
        "rendering takes more than {limit} steps (sections over lists nested or repeated too much), at {at}"
    )]
    TooMuchWork { limit: u64, at: Position },
}
