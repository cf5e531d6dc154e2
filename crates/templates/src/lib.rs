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
//! flat token list and rendered in one pass into one buffer, within a
//! [`Budget`] of output bytes and steps that a caller can share across
//! many strings (ingest: one per event).

pub mod alert;
mod error;
mod escape;
mod parse;
mod render;
mod value;

use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Violations};
use serde_json::{Map, Value};

pub use alert::{AlertAction, render_alert_action_within};
pub use error::{Position, TemplateError};
pub use herald_catalog::Escape;
pub use parse::MAX_SECTION_DEPTH;

use parse::Parsed;
use render::Renderer;

/// The most text one call renders by default: one string for [`render`],
/// all of them together for [`render_params`]. A template that repeats a
/// section over a long list, nested, could otherwise produce gigabytes from
/// a small event.
pub const MAX_RENDERED_LEN: usize = 4 * 1024 * 1024;

/// The most steps one call takes by default (see [`Budget`]). A message
/// listing a thousand alerts with a dozen fields each takes some tens of
/// thousands; the hostile case it stops, empty sections nested nine deep
/// over a ten-item list, would take a billion (a million take well under
/// a second, even in a debug build).
pub const MAX_RENDER_STEPS: u64 = 1_000_000;

/// What rendering may cost, shared by every string it renders (for ingest:
/// every string of every action of one event): bytes of output, and steps,
/// one per token visited and one per pass through a section's body, so
/// that work which produces nothing is bounded too.
#[derive(Debug, Clone)]
pub struct Budget {
    max_output: usize,
    max_steps: u64,
    output_left: usize,
    steps_left: u64,
    spent: Option<Spent>,
}

/// Which part of a [`Budget`] ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Too much text: [`TemplateError::TooLarge`].
    Output,
    /// Too much work: [`TemplateError::TooMuchWork`].
    Steps,
}

impl Budget {
    pub fn new(max_output: usize, max_steps: u64) -> Budget {
        Budget {
            max_output,
            max_steps,
            output_left: max_output,
            steps_left: max_steps,
            spent: None,
        }
    }

    /// What ran out, once a render failed for it; nothing is rendered after.
    pub fn spent(&self) -> Option<Spent> {
        self.spent
    }

    pub fn max_output(&self) -> usize {
        self.max_output
    }

    /// Steps taken so far.
    pub fn steps_taken(&self) -> u64 {
        self.max_steps - self.steps_left
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(MAX_RENDERED_LEN, MAX_RENDER_STEPS)
    }
}

/// Renders `template` with `vars` (normally `{context, action, account}`),
/// escaping what `{{x}}` inserts per `escape`, within the default
/// [`Budget`]. Missing variables render as nothing.
pub fn render(template: &str, vars: &Value, escape: Escape) -> Result<String, TemplateError> {
    render_within(template, vars, escape, &mut Budget::default())
}

/// [`render`] within `budget`, which is charged for what it took.
pub fn render_within(
    template: &str,
    vars: &Value,
    escape: Escape,
    budget: &mut Budget,
) -> Result<String, TemplateError> {
    if !template.contains("{{") {
        return Ok(template.to_owned());
    }
    let mut buffers = Buffers::default();
    let mut out = String::new();
    buffers.render(template, vars, escape, budget, &mut out)?;
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
    render_params_within(params, vars, escape_for, prefix, &mut Budget::default())
}

/// [`render_params`] within `budget`. When it runs out, that is reported
/// once, at the field where it did, and no string is rendered after it
/// (here or in later calls with the same budget).
pub fn render_params_within(
    params: &Map<String, Value>,
    vars: &Value,
    escape_for: impl Fn(&str) -> Escape,
    prefix: &str,
    budget: &mut Budget,
) -> Result<Map<String, Value>, Violations> {
    let mut walk = Walk {
        vars,
        escape_for: &escape_for,
        prefix,
        path: String::new(),
        budget,
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
    render_connector_params_within(spec, params, vars, prefix, &mut Budget::default())
}

/// [`render_connector_params`] within `budget`.
pub fn render_connector_params_within(
    spec: &ConnectorSpec,
    params: &Map<String, Value>,
    vars: &Value,
    prefix: &str,
    budget: &mut Budget,
) -> Result<Map<String, Value>, Violations> {
    render_params_within(
        params,
        vars,
        |path| spec.param_escape.escape(params, path),
        prefix,
        budget,
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
        budget: &mut Budget,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        if budget.spent.is_some() {
            return Err(match budget.spent {
                Some(Spent::Output) => TemplateError::TooLarge {
                    limit: budget.max_output,
                },
                _ => TemplateError::TooMuchWork {
                    limit: budget.max_steps,
                    at: Position::of(template, 0),
                },
            });
        }
        self.parsed.parse(template)?;
        self.stack.clear();
        self.stack.push(vars);
        out.reserve(template.len().min(budget.output_left));
        let result = Renderer {
            src: template,
            tokens: &self.parsed.tokens,
            starts: &self.parsed.starts,
            segments: &self.parsed.segments,
            escape,
            limit: budget.output_left,
            steps: &mut budget.steps_left,
            step_limit: budget.max_steps,
            stack: &mut self.stack,
            scratch: &mut self.scratch,
        }
        .render(out);
        match &result {
            Ok(()) => budget.output_left -= out.len(),
            Err(TemplateError::TooLarge { .. }) => budget.spent = Some(Spent::Output),
            Err(TemplateError::TooMuchWork { .. }) => budget.spent = Some(Spent::Steps),
            Err(_) => {}
        }
        // The renderer knows only what was left; the caller is told the whole.
        result.map_err(|error| match error {
            TemplateError::TooLarge { .. } => TemplateError::TooLarge {
                limit: budget.max_output,
            },
            other => other,
        })
    }
}

struct Walk<'a, 'p, 'v, F> {
    vars: &'v Value,
    escape_for: &'a F,
    prefix: &'a str,
    /// The current path inside params; grows and shrinks as the walk goes.
    path: String,
    budget: &'a mut Budget,
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
        // Once the budget is spent the document is refused anyway, and the
        // fields after the one that spent it are not rendered.
        if !text.contains("{{") || self.budget.spent.is_some() {
            return text.to_owned();
        }
        let escape = (self.escape_for)(&self.path);
        let mut out = String::new();
        match self
            .buffers
            .render(text, self.vars, escape, self.budget, &mut out)
        {
            Ok(()) => out,
            Err(TemplateError::TooLarge { limit }) => {
                self.violations.push(
                    join(self.prefix, &self.path),
                    format!("rendered params are larger than {limit} bytes in all"),
                );
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
