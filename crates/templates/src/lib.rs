//! Mustache rendering of action params, done once by `herald-ingest` so that
//! workers receive final params. The engine follows mustache.js as Kibana
//! uses it (variables, sections, inverted sections, comments, `{{.}}`,
//! `{{{raw}}}`), and each params string is escaped the way Kibana escapes
//! that connector field; the catalog says which field gets which
//! ([`herald_catalog::ConnectorSpec::param_escape`]).
//!
//! Differences from Kibana, on purpose: a broken template is an error naming
//! the field and position (Kibana sends `error rendering mustache template`
//! as the message); partials and `{{=<% %>=}}` are refused; Kibana's lambdas
//! (`{{#FormatDate}}` and the like) are not provided, so such a section
//! renders like any missing variable: empty.
//!
//! Cost: a string without `{{` is copied; others are parsed once into a
//! flat token list and rendered in one pass into one buffer.

mod error;
mod escape;
mod parse;
mod render;
mod value;

use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Violations};
use serde_json::{Map, Value};

pub use error::{Position, TemplateError};
pub use herald_catalog::Escape;
pub use parse::MAX_SECTION_DEPTH;

use parse::Parsed;
use render::Renderer;

/// The most text one call renders: one string for [`render`], all of them
/// together for [`render_params`]. A template that repeats a section over a
/// long list, nested, could otherwise produce gigabytes from a small event.
pub const MAX_RENDERED_LEN: usize = 4 * 1024 * 1024;

/// Renders `template` with `vars` (normally `{context, action, account}`),
/// escaping what `{{x}}` inserts per `escape`. Missing variables render as
/// nothing.
pub fn render(template: &str, vars: &Value, escape: Escape) -> Result<String, TemplateError> {
    if !template.contains("{{") {
        return Ok(template.to_owned());
    }
    let mut buffers = Buffers::default();
    let mut out = String::new();
    buffers.render(template, vars, escape, MAX_RENDERED_LEN, &mut out)?;
    Ok(out)
}

/// Renders every string in `params`, recursively through objects and
/// arrays (keys are not templates), each escaped per `escape_for(path)`.
/// `path` is the string's place in params: `message`,
/// `subActionParams.text`, array items by index (`to[0]`). Numbers, bools
/// and null are kept as they are.
///
/// Every broken template is reported, each at `prefix.path` (prefix
/// `actions[1].params` gives `actions[1].params.subActionParams.text`).
pub fn render_params(
    params: &Map<String, Value>,
    vars: &Value,
    escape_for: impl Fn(&str) -> Escape,
    prefix: &str,
) -> Result<Map<String, Value>, Violations> {
    let mut walk = Walk {
        vars,
        escape_for: &escape_for,
        prefix,
        path: String::new(),
        budget: MAX_RENDERED_LEN,
        exhausted: false,
        buffers: Buffers::default(),
        violations: Violations::new(),
    };
    let rendered = walk.object(params);
    walk.violations.into_result().map(|()| rendered)
}

/// [`render_params`] with the connector's own escaping
/// ([`ConnectorSpec::param_escape`]).
pub fn render_connector_params(
    spec: &ConnectorSpec,
    params: &Map<String, Value>,
    vars: &Value,
    prefix: &str,
) -> Result<Map<String, Value>, Violations> {
    render_params(
        params,
        vars,
        |path| (spec.param_escape)(params, path),
        prefix,
    )
}

/// Parser and renderer buffers, reused across the strings of one document.
#[derive(Default)]
struct Buffers<'t, 'v> {
    parsed: Parsed<'t>,
    stack: Vec<&'v Value>,
    scratch: String,
}

impl<'t, 'v> Buffers<'t, 'v> {
    fn render(
        &mut self,
        template: &'t str,
        vars: &'v Value,
        escape: Escape,
        limit: usize,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        self.parsed.parse(template)?;
        self.stack.clear();
        self.stack.push(vars);
        out.reserve(template.len() + template.len() / 2);
        Renderer {
            tokens: &self.parsed.tokens,
            segments: &self.parsed.segments,
            escape,
            limit,
            stack: &mut self.stack,
            scratch: &mut self.scratch,
        }
        .render(out)
    }
}

struct Walk<'a, 'p, 'v, F> {
    vars: &'v Value,
    escape_for: &'a F,
    prefix: &'a str,
    /// The current path inside params; grows and shrinks as the walk goes.
    path: String,
    /// What is left of [`MAX_RENDERED_LEN`] for the whole document.
    budget: usize,
    exhausted: bool,
    buffers: Buffers<'p, 'v>,
    violations: Violations,
}

impl<'p, F: Fn(&str) -> Escape> Walk<'_, 'p, '_, F> {
    fn object(&mut self, map: &'p Map<String, Value>) -> Map<String, Value> {
        map.iter()
            .map(|(key, value)| {
                let mark = self.path.len();
                if mark > 0 {
                    self.path.push('.');
                }
                self.path.push_str(key);
                let rendered = self.value(value);
                self.path.truncate(mark);
                (key.clone(), rendered)
            })
            .collect()
    }

    fn value(&mut self, value: &'p Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.string(text)),
            Value::Object(map) => Value::Object(self.object(map)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        use std::fmt::Write;
                        let mark = self.path.len();
                        let _ = write!(self.path, "[{index}]");
                        let rendered = self.value(item);
                        self.path.truncate(mark);
                        rendered
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn string(&mut self, text: &'p str) -> String {
        if !text.contains("{{") || self.exhausted {
            return text.to_owned();
        }
        let escape = (self.escape_for)(&self.path);
        let mut out = String::new();
        match self
            .buffers
            .render(text, self.vars, escape, self.budget, &mut out)
        {
            Ok(()) => {
                self.budget -= out.len();
                out
            }
            Err(TemplateError::TooLarge { .. }) => {
                // Reported once, at the field that crossed the limit; the
                // fields after it are not rendered.
                self.violations.push(
                    join(self.prefix, &self.path),
                    format!("rendered params are larger than {MAX_RENDERED_LEN} bytes"),
                );
                self.exhausted = true;
                String::new()
            }
            Err(error) => {
                self.violations
                    .push(join(self.prefix, &self.path), error.to_string());
                // The value is discarded with the whole document.
                String::new()
            }
        }
    }
}
