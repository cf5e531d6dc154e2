//! One pass over the parsed tokens, with mustache.js's semantics (Kibana's
//! engine): names are looked up through the context stack, truthiness is
//! JavaScript's, and numbers are never escaped.

use herald_catalog::Escape;
use serde_json::Value;

use crate::error::{Position, TemplateError};
use crate::escape::escape_into;
use crate::parse::{Name, Token};
use crate::value::{write_json, write_text};

/// What a name resolves to: a value from the variables, or one of the
/// properties JavaScript gives arrays and strings for free.
#[derive(Debug, Clone, Copy)]
enum Found<'v> {
    Value(&'v Value),
    /// `list.length`, `text.length`.
    Length(usize),
    /// `list.asJSON`, which Kibana adds to every array.
    ArrayJson(&'v Value),
}

pub(crate) struct Renderer<'r, 't, 'v> {
    /// The template, for the position of an error.
    pub src: &'t str,
    pub tokens: &'r [Token<'t>],
    pub starts: &'r [usize],
    pub segments: &'r [&'t str],
    pub escape: Escape,
    /// Rendering stops with [`TemplateError::TooLarge`] past this length, so
    /// a section over a long list nested in another cannot exhaust memory.
    pub limit: usize,
    /// Steps left: one per token visited, one per time a section's body is
    /// entered. Output length alone does not bound the work: sections with
    /// empty bodies nested over a list produce nothing and loop
    /// `len^depth` times.
    pub steps: &'r mut u64,
    /// The whole budget's steps, for the error message.
    pub step_limit: u64,
    /// The context stack, innermost last; its first entry is the variables.
    pub stack: &'r mut Vec<&'v Value>,
    /// Holds an object's JSON before it is escaped.
    pub scratch: &'r mut String,
}

impl<'v> Renderer<'_, '_, 'v> {
    pub fn render(&mut self, out: &mut String) -> Result<(), TemplateError> {
        self.render_range(out, 0, self.tokens.len())
    }

    fn render_range(
        &mut self,
        out: &mut String,
        start: usize,
        end: usize,
    ) -> Result<(), TemplateError> {
        let mut index = start;
        while index < end {
            self.step(index)?;
            match self.tokens[index] {
                Token::Text(text) => out.push_str(text),
                Token::Variable { name, escaped } => {
                    if let Some(found) = self.lookup(&name) {
                        let escape = if escaped { self.escape } else { Escape::None };
                        self.write(out, found, escape);
                    }
                }
                Token::Section {
                    name,
                    inverted,
                    len,
                } => {
                    // The body is the tokens after the section's, up to `end`.
                    let end = index + 1 + len;
                    let found = self.lookup(&name);
                    if inverted {
                        if is_falsy(found) {
                            self.render_range(out, index + 1, end)?;
                        }
                    } else {
                        self.section(out, found, index, end)?;
                    }
                    index += len;
                }
            }
            if out.len() > self.limit {
                return Err(TemplateError::TooLarge { limit: self.limit });
            }
            index += 1;
        }
        Ok(())
    }

    /// Takes one step of the budget, or fails at the token `index`.
    fn step(&mut self, index: usize) -> Result<(), TemplateError> {
        match self.steps.checked_sub(1) {
            Some(left) => {
                *self.steps = left;
                Ok(())
            }
            None => Err(TemplateError::TooMuchWork {
                limit: self.step_limit,
                at: Position::of(self.src, self.starts[index]),
            }),
        }
    }

    /// mustache.js's `renderSection`: nothing for a falsy value, the body
    /// once per item of a list, once with an object, string or number on
    /// the stack, once as is for `true`. `section` is the section's token,
    /// the body the tokens after it up to `end`.
    fn section(
        &mut self,
        out: &mut String,
        found: Option<Found<'v>>,
        section: usize,
        end: usize,
    ) -> Result<(), TemplateError> {
        if is_falsy(found) {
            return Ok(());
        }
        let start = section + 1;
        match found {
            Some(Found::Value(Value::Array(items))) => {
                for item in items {
                    // Each pass costs a step even when the body is empty.
                    self.step(section)?;
                    self.with_pushed(item, |renderer| renderer.render_range(out, start, end))?;
                }
                Ok(())
            }
            Some(Found::Value(
                value @ (Value::Object(_) | Value::String(_) | Value::Number(_)),
            )) => self.with_pushed(value, |renderer| renderer.render_range(out, start, end)),
            _ => self.render_range(out, start, end),
        }
    }

    fn with_pushed(
        &mut self,
        value: &'v Value,
        body: impl FnOnce(&mut Self) -> Result<(), TemplateError>,
    ) -> Result<(), TemplateError> {
        self.stack.push(value);
        let result = body(self);
        self.stack.pop();
        result
    }

    fn write(&mut self, out: &mut String, found: Found<'v>, escape: Escape) {
        match found {
            Found::Value(Value::Null) => {}
            Found::Value(Value::String(text)) => escape_into(out, text, escape),
            // mustache.js prints numbers without calling the escape.
            Found::Value(value @ (Value::Number(_) | Value::Bool(_))) => write_text(out, value),
            Found::Value(value @ (Value::Object(_) | Value::Array(_))) => {
                if escape == Escape::None {
                    write_text(out, value);
                } else {
                    self.scratch.clear();
                    write_text(self.scratch, value);
                    escape_into(out, self.scratch, escape);
                }
            }
            Found::Length(length) => out.push_str(itoa(length, self.scratch)),
            Found::ArrayJson(value) => {
                if escape == Escape::None {
                    write_json(out, value);
                } else {
                    self.scratch.clear();
                    write_json(self.scratch, value);
                    escape_into(out, self.scratch, escape);
                }
            }
        }
    }

    /// mustache.js's `Context.lookup`: `.` is the innermost item; any other
    /// name is resolved whole against each context from the innermost out,
    /// and the first context where its last segment exists wins (even with
    /// a null value).
    fn lookup(&self, name: &Name<'_>) -> Option<Found<'v>> {
        let innermost = *self
            .stack
            .last()
            .expect("the variables are always on the stack");
        if name.is_implicit() {
            return Some(Found::Value(innermost));
        }
        let first = name.first_segment as usize;
        let segments = &self.segments[first..first + name.segment_count as usize];
        self.stack
            .iter()
            .rev()
            .find_map(|context| resolve(context, segments, name.raw))
    }
}

/// JavaScript's `!value`, plus the empty list, as mustache.js's inverted
/// sections test it.
fn is_falsy(found: Option<Found<'_>>) -> bool {
    match found {
        None => true,
        Some(Found::Value(value)) => match value {
            Value::Null => true,
            Value::Bool(flag) => !flag,
            Value::Number(number) => number.as_f64() == Some(0.0),
            Value::String(text) => text.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(_) => false,
        },
        Some(Found::Length(length)) => length == 0,
        Some(Found::ArrayJson(_)) => false,
    }
}

/// Walks `segments` from `value`. `raw` is the segments joined with `.`
/// (a slice of the tag), so that keys which themselves contain dots can be
/// tried without allocating: Kibana expands a variable named
/// `kibana.alert.rule` into nested objects, so `{{kibana.alert.rule}}`
/// finds it either way.
fn resolve<'v>(value: &'v Value, segments: &[&str], raw: &str) -> Option<Found<'v>> {
    let (first, rest) = segments.split_first()?;
    // `raw` minus the first segment and its dot.
    let rest_raw = |consumed: usize| raw.get(consumed + 1..).unwrap_or("");
    match value {
        Value::Object(map) => {
            if let Some(child) = map.get(*first) {
                if rest.is_empty() {
                    return Some(Found::Value(child));
                }
                if let Some(found) = resolve(child, rest, rest_raw(first.len())) {
                    return Some(found);
                }
            }
            let mut key_len = first.len();
            for (index, segment) in rest.iter().enumerate() {
                key_len += 1 + segment.len();
                if let Some(child) = map.get(&raw[..key_len]) {
                    let tail = &rest[index + 1..];
                    if tail.is_empty() {
                        return Some(Found::Value(child));
                    }
                    if let Some(found) = resolve(child, tail, rest_raw(key_len)) {
                        return Some(found);
                    }
                }
            }
            None
        }
        Value::Array(items) => match (*first, rest.is_empty()) {
            ("length", true) => Some(Found::Length(items.len())),
            ("asJSON", true) => Some(Found::ArrayJson(value)),
            (index, _) => {
                let child = items.get(array_index(index)?)?;
                if rest.is_empty() {
                    Some(Found::Value(child))
                } else {
                    resolve(child, rest, rest_raw(first.len()))
                }
            }
        },
        // UTF-16 units, as JavaScript counts.
        Value::String(text) if *first == "length" && rest.is_empty() => {
            Some(Found::Length(text.encode_utf16().count()))
        }
        _ => None,
    }
}

/// JavaScript array indices are canonical decimal numbers: `0`, `12`, not
/// `01` or `+1`.
fn array_index(segment: &str) -> Option<usize> {
    let canonical = segment == "0"
        || (!segment.is_empty()
            && !segment.starts_with('0')
            && segment.bytes().all(|byte| byte.is_ascii_digit()));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}

fn itoa(number: usize, buffer: &mut String) -> &str {
    use std::fmt::Write;
    buffer.clear();
    let _ = write!(buffer, "{number}");
    buffer
}
