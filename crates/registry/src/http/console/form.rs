//! Forms generated from a connector type's JSON Schemas: one field per
//! property (required ones marked), enums as `<select>`, booleans as
//! checkboxes, numbers as number inputs, lists of strings one per line,
//! nested objects as fieldsets, and anything more complex as a JSON text
//! area (labelled so). Reading a posted form walks the same fields, so the
//! two never disagree. Secrets are write-only: never rendered, shown as
//! "set" with an input that replaces them (empty keeps the stored value).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::FormData;
use super::html::esc;

/// How deep nested objects become fieldsets before they are JSON.
const MAX_DEPTH: usize = 3;

/// One input of a generated form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// The form name, which is also the document path the registry names
    /// in its errors: `config.host`, `params.subActionParams.summary`.
    pub name: String,
    /// The property name, as in Kibana's documents.
    pub key: String,
    pub description: String,
    pub required: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `long` is a text area (messages, bodies); `format` is the schema's
    /// (`uri`, `email`) and makes the input a `url` or `email` one.
    Text {
        format: Option<String>,
        long: bool,
    },
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Bool {
        default: bool,
    },
    Choice(Vec<String>),
    /// A list of strings, one per line.
    Lines,
    Object(Vec<Field>),
    /// Any other shape, written as JSON.
    Json,
}

/// The schema without its `null` alternative: `{"type": ["string", "null"]}`
/// is a string, `{"anyOf": [X, {"type": "null"}]}` is X.
fn non_null(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(Value::Array(types)) = schema.get("type") {
        let rest: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if rest.len() == 1 {
            schema["type"] = rest[0].clone();
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            let rest: Vec<&Value> = options
                .iter()
                .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if rest.len() == 1 && rest.len() < options.len() {
                let mut inner = rest[0].clone();
                if let (Some(inner), Some(description)) =
                    (inner.as_object_mut(), schema.get("description"))
                {
                    inner
                        .entry("description")
                        .or_insert_with(|| description.clone());
                }
                return non_null(&inner);
            }
        }
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        let rest: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        schema["enum"] = Value::Array(rest);
    }
    schema
}

fn type_of(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

/// The strings of an `enum`, or of a `oneOf` whose options are all `const`.
fn choices(schema: &Value) -> Option<Vec<String>> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect();
    }
    if let Some(Value::Array(options)) = schema.get("oneOf") {
        return options
            .iter()
            .map(|o| o.get("const").and_then(Value::as_str).map(str::to_owned))
            .collect();
    }
    None
}

/// Property names whose text is long: messages and bodies.
const LONG_TEXT: &[&str] = &[
    "message",
    "body",
    "description",
    "comments",
    "comment",
    "note",
    "text",
    "details",
    "summary",
];

fn kind(schema: &Value, key: &str, templated: bool, depth: usize) -> Kind {
    let schema = non_null(schema);
    if let Some(options) = choices(&schema) {
        return Kind::Choice(options);
    }
    match type_of(&schema) {
        Some("string") => Kind::Text {
            // Templated text may hold `{{...}}`, which a url input refuses.
            format: if templated {
                None
            } else {
                schema
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            },
            long: LONG_TEXT.contains(&key) || (templated && key.ends_with("Template")),
        },
        Some(t @ ("integer" | "number")) => Kind::Number {
            integer: t == "integer",
            minimum: schema.get("minimum").and_then(Value::as_f64),
            maximum: schema.get("maximum").and_then(Value::as_f64),
        },
        Some("boolean") => Kind::Bool {
            default: schema.get("default").and_then(Value::as_bool) == Some(true),
        },
        Some("array") => {
            let items = schema.get("items").map(non_null);
            match items.as_ref() {
                Some(items) if type_of(items) == Some("string") && choices(items).is_none() => {
                    Kind::Lines
                }
                _ => Kind::Json,
            }
        }
        Some("object") if depth < MAX_DEPTH && schema.get("properties").is_some() => {
            Kind::Object(Vec::new())
        }
        _ => Kind::Json,
    }
}

/// The fields of an object schema's properties under `prefix` (`config`,
/// `params`); a schema without properties of its own (a choice of several
/// shapes) is one JSON field named `prefix`.
pub(crate) fn fields(schema: &Value, prefix: &str, templated: bool) -> Vec<Field> {
    // An object that takes nothing (`additionalProperties: false`, no
    // properties): no field at all.
    let closed = type_of(schema) == Some("object")
        && schema.get("additionalProperties") == Some(&Value::Bool(false))
        && ["anyOf", "oneOf", "allOf"]
            .iter()
            .all(|k| schema.get(*k).is_none());
    match object_fields(schema, prefix, templated, 0) {
        Some(fields) => fields,
        None if closed => Vec::new(),
        None => vec![Field {
            name: prefix.to_owned(),
            key: prefix.to_owned(),
            description: "The whole document, as JSON.".into(),
            required: false,
            kind: Kind::Json,
        }],
    }
}

fn object_fields(
    schema: &Value,
    prefix: &str,
    templated: bool,
    depth: usize,
) -> Option<Vec<Field>> {
    let schema = non_null(schema);
    let properties = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (key, property) in properties {
        let name = format!("{prefix}.{key}");
        let mut kind = kind(property, key, templated, depth);
        if let Kind::Object(_) = kind {
            kind = match object_fields(property, &name, templated, depth + 1) {
                Some(inner) => Kind::Object(inner),
                None => Kind::Json,
            };
        }
        out.push(Field {
            description: non_null(property)
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            required: required.contains(&key.as_str()),
            name,
            key: key.clone(),
            kind,
        });
    }
    // Required fields first; the rest in the schema's (alphabetical) order.
    out.sort_by_key(|f| !f.required);
    Some(out)
}

/// Every field's name, nested ones included, longest first: where an
/// error's path is shown.
fn names(fields: &[Field], out: &mut Vec<String>) {
    for field in fields {
        out.push(field.name.clone());
        if let Kind::Object(inner) = &field.kind {
            names(inner, out);
        }
    }
}

/// The field a violation's path (`config.to[1]`, `secrets.password`)
/// belongs to: the longest name that is the path or a prefix of it.
pub(crate) fn field_of(fields: &[Field], path: &str) -> Option<String> {
    let mut all = Vec::new();
    names(fields, &mut all);
    all.into_iter()
        .filter(|name| {
            path == name
                || path
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
        .max_by_key(String::len)
}

/// A document's values as the form's inputs hold them.
pub(crate) fn values(
    fields: &[Field],
    document: &Map<String, Value>,
    out: &mut HashMap<String, String>,
) {
    for field in fields {
        let value = if fields.len() == 1 && field.name == field.key {
            // The whole document as one JSON field.
            Some(Value::Object(document.clone()))
        } else {
            document.get(&field.key).cloned()
        };
        let Some(value) = value.filter(|v| !v.is_null()) else {
            continue;
        };
        let text = match (&field.kind, &value) {
            (Kind::Object(inner), Value::Object(map)) => {
                values(inner, map, out);
                continue;
            }
            (Kind::Text { .. } | Kind::Choice(_), Value::String(s)) => s.clone(),
            (Kind::Number { .. }, Value::Number(n)) => n.to_string(),
            (Kind::Bool { .. }, Value::Bool(b)) => {
                if *b {
                    "true".into()
                } else {
                    String::new()
                }
            }
            (Kind::Lines, Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            (_, value) => serde_json::to_string_pretty(value).unwrap_or_default(),
        };
        out.insert(field.name.clone(), text);
    }
}

/// The document a posted form describes; a value that cannot be read (a
/// number that is not one, JSON that is not JSON) is an error at its field.
pub(crate) fn read(
    fields: &[Field],
    form: &FormData,
    errors: &mut Vec<(String, String)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for field in fields {
        let text = form.get(&field.name).unwrap_or_default();
        let value = match &field.kind {
            Kind::Object(inner) => {
                let inner = read(inner, form, errors);
                (!inner.is_empty()).then_some(Value::Object(inner))
            }
            Kind::Bool { default } => {
                if form.get(&field.name).is_some() {
                    Some(Value::Bool(true))
                } else if *default {
                    Some(Value::Bool(false))
                } else {
                    None
                }
            }
            _ if text.trim().is_empty() => None,
            Kind::Text { .. } | Kind::Choice(_) => Some(Value::String(text.to_owned())),
            Kind::Number { integer, .. } => {
                let parsed = if *integer {
                    text.trim().parse::<i64>().ok().map(Value::from)
                } else {
                    text.trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                };
                if parsed.is_none() {
                    let what = if *integer {
                        "a whole number"
                    } else {
                        "a number"
                    };
                    errors.push((field.name.clone(), format!("must be {what}")));
                }
                parsed
            }
            Kind::Lines => Some(Value::Array(
                text.lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(|line| Value::String(line.to_owned()))
                    .collect(),
            )),
            Kind::Json => match serde_json::from_str::<Value>(text) {
                Ok(value) => Some(value),
                Err(error) => {
                    errors.push((field.name.clone(), format!("not JSON: {error}")));
                    None
                }
            },
        };
        if let Some(value) = value {
            if fields.len() == 1 && field.name == field.key {
                // The whole document as one JSON field.
                match value {
                    Value::Object(map) => return map,
                    _ => errors.push((field.name.clone(), "must be a JSON object".into())),
                }
            } else {
                out.insert(field.key.clone(), value);
            }
        }
    }
    out
}

/// `id` attributes: the name with characters an id selector dislikes
/// replaced.
pub(crate) fn input_id(name: &str) -> String {
    format!(
        "f-{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    )
}

/// "webhookUrl" as "Webhook url": the label's words.
fn words(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else if c == '_' || c == '-' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// The label, the field's description and its error, shared by every kind.
fn label(field: &Field, suffix: &str) -> String {
    let required = if field.required {
        " <span class=\"req\">required</span>"
    } else {
        ""
    };
    format!(
        "<label for=\"{id}\">{words} <code>{key}</code>{suffix}{required}</label>",
        id = input_id(&field.name),
        words = esc(&words(&field.key)),
        key = esc(&field.key),
    )
}

fn hint_and_error(field: &Field, errors: &HashMap<String, String>) -> (String, String, String) {
    let id = input_id(&field.name);
    let hint = if field.description.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"hint\" id=\"{id}-hint\">{}</p>",
            esc(&field.description)
        )
    };
    let error = match errors.get(&field.name) {
        Some(message) => format!(
            "<p class=\"field-error\" id=\"{id}-error\" role=\"alert\">{}</p>",
            esc(message)
        ),
        None => String::new(),
    };
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(format!("{id}-hint"));
    }
    if !error.is_empty() {
        described.push(format!("{id}-error"));
    }
    let aria = if described.is_empty() {
        String::new()
    } else {
        let invalid = if error.is_empty() {
            ""
        } else {
            " aria-invalid=\"true\""
        };
        format!(" aria-describedby=\"{}\"{invalid}", described.join(" "))
    };
    (hint, error, aria)
}

/// The HTML of `fields`, prefilled from `values`, with `errors` beside the
/// fields they name.
pub(crate) fn render(
    fields: &[Field],
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> String {
    let mut out = String::new();
    for field in fields {
        let id = input_id(&field.name);
        let name = esc(&field.name);
        let value = values.get(&field.name).map(String::as_str).unwrap_or("");
        let (hint, error, aria) = hint_and_error(field, errors);
        let required = if field.required { " required" } else { "" };
        let control = match &field.kind {
            Kind::Object(inner) => {
                out.push_str(&format!(
                    "<fieldset class=\"nested\"><legend>{} <code>{}</code></legend>{hint}{error}{}</fieldset>",
                    esc(&words(&field.key)),
                    esc(&field.key),
                    render(inner, values, errors)
                ));
                continue;
            }
            Kind::Bool { .. } => {
                let checked = if value == "true" { " checked" } else { "" };
                out.push_str(&format!(
                    "<div class=\"field check\"><input type=\"checkbox\" id=\"{id}\" name=\"{name}\" value=\"true\"{checked}{aria}>{}{hint}{error}</div>",
                    label(field, "")
                ));
                continue;
            }
            Kind::Text { long: true, .. } => format!(
                "<textarea id=\"{id}\" name=\"{name}\" rows=\"3\"{required}{aria}>{}</textarea>",
                esc(value)
            ),
            Kind::Text { format, .. } => {
                let input_type = match format.as_deref() {
                    Some("uri") => "url",
                    Some("email") => "email",
                    _ => "text",
                };
                format!(
                    "<input type=\"{input_type}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{required}{aria}>",
                    esc(value)
                )
            }
            Kind::Number {
                integer,
                minimum,
                maximum,
            } => {
                let step = if *integer { "1" } else { "any" };
                let min = minimum.map_or(String::new(), |m| format!(" min=\"{m}\""));
                let max = maximum.map_or(String::new(), |m| format!(" max=\"{m}\""));
                format!(
                    "<input type=\"number\" id=\"{id}\" name=\"{name}\" value=\"{}\" step=\"{step}\"{min}{max}{required}{aria}>",
                    esc(value)
                )
            }
            Kind::Choice(options) => {
                let mut html = format!("<select id=\"{id}\" name=\"{name}\"{required}{aria}>");
                if !field.required || value.is_empty() {
                    html.push_str("<option value=\"\">—</option>");
                }
                for option in options {
                    let selected = if option == value { " selected" } else { "" };
                    html.push_str(&format!(
                        "<option value=\"{0}\"{selected}>{0}</option>",
                        esc(option)
                    ));
                }
                html.push_str("</select>");
                html
            }
            Kind::Lines => format!(
                "<textarea id=\"{id}\" name=\"{name}\" rows=\"3\"{required}{aria}>{}</textarea>",
                esc(value)
            ),
            Kind::Json => format!(
                "<textarea class=\"json\" id=\"{id}\" name=\"{name}\" rows=\"6\" spellcheck=\"false\"{required}{aria}>{}</textarea>",
                esc(value)
            ),
        };
        let suffix = match field.kind {
            Kind::Lines => " <span class=\"kind\">one per line</span>",
            Kind::Json => " <span class=\"kind\">JSON</span>",
            _ => "",
        };
        out.push_str(&format!(
            "<div class=\"field\">{}{hint}{control}{error}</div>",
            label(field, suffix)
        ));
    }
    out
}

/// The secret inputs of a type: password inputs that are never filled.
/// A secret that is `set` shows so, and its input replaces it (empty keeps
/// it); an optional one that is set can be removed.
pub(crate) fn render_secrets(
    fields: &[Field],
    set: &[String],
    errors: &HashMap<String, String>,
) -> String {
    let mut out = String::new();
    for field in fields {
        let id = input_id(&field.name);
        let name = esc(&field.name);
        let is_set = set.contains(&field.key);
        let (hint, error, aria) = hint_and_error(field, errors);
        let status = if is_set {
            " <span class=\"tag set\">set</span>"
        } else {
            ""
        };
        let required = if field.required && !is_set {
            " required"
        } else {
            ""
        };
        let placeholder = if is_set {
            " placeholder=\"leave empty to keep the stored value\""
        } else {
            ""
        };
        let input = match field.kind {
            Kind::Text { .. } => format!(
                "<input type=\"password\" id=\"{id}\" name=\"{name}\" autocomplete=\"new-password\"{placeholder}{required}{aria}>"
            ),
            _ => format!(
                "<textarea class=\"json\" id=\"{id}\" name=\"{name}\" rows=\"4\" spellcheck=\"false\" autocomplete=\"off\"{placeholder}{required}{aria}></textarea>"
            ),
        };
        let replace = if is_set { " — replace" } else { "" };
        let remove = if is_set && !field.required {
            format!(
                "<div class=\"check\"><input type=\"checkbox\" id=\"{id}-remove\" name=\"{name}.remove\" value=\"true\">\
                 <label for=\"{id}-remove\">Remove the stored {}</label></div>",
                esc(&field.key)
            )
        } else {
            String::new()
        };
        let kind = if matches!(field.kind, Kind::Text { .. }) {
            ""
        } else {
            " <span class=\"kind\">JSON</span>"
        };
        out.push_str(&format!(
            "<div class=\"field\">{}{hint}{input}{remove}{error}</div>",
            label(field, &format!("{kind}{status}{replace}"))
        ));
    }
    out
}

/// The secrets a posted form changes: a value replaces, a ticked "remove"
/// is `null`, an empty input keeps what is stored (it is left out).
pub(crate) fn read_secrets(
    fields: &[Field],
    form: &FormData,
    errors: &mut Vec<(String, String)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for field in fields {
        if form.get(&format!("{}.remove", field.name)).is_some() {
            out.insert(field.key.clone(), Value::Null);
            continue;
        }
        let text = form.get(&field.name).unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        match field.kind {
            Kind::Text { .. } => {
                out.insert(field.key.clone(), Value::String(text.to_owned()));
            }
            _ => match serde_json::from_str::<Value>(text) {
                Ok(value) => {
                    out.insert(field.key.clone(), value);
                }
                // The parser's message may quote the text: say less.
                Err(_) => errors.push((field.name.clone(), "not JSON".into())),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["host", "port"],
            "properties": {
                "host": {"type": "string", "description": "SMTP <host>"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "secure": {"type": ["boolean", "null"]},
                "mode": {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]},
                "to": {"type": "array", "items": {"type": "string"}},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "auth": {"type": "object", "properties": {"user": {"type": "string"}}}
            }
        })
    }

    #[test]
    fn kinds_follow_the_schema() {
        let fields = fields(&schema(), "config", false);
        let kind = |key: &str| fields.iter().find(|f| f.key == key).unwrap().kind.clone();
        assert_eq!(kind("secure"), Kind::Bool { default: false });
        assert_eq!(kind("mode"), Kind::Choice(vec!["a".into(), "b".into()]));
        assert_eq!(kind("to"), Kind::Lines);
        assert_eq!(kind("headers"), Kind::Json);
        assert!(matches!(kind("auth"), Kind::Object(inner) if inner[0].name == "config.auth.user"));
        assert!(fields.iter().find(|f| f.key == "port").unwrap().required);
        let html = render(&fields, &HashMap::new(), &HashMap::new());
        assert!(html.contains("SMTP &lt;host&gt;"), "{html}");
        assert!(
            html.contains("<select id=\"f-config_mode\" name=\"config.mode\">"),
            "{html}"
        );
        assert!(html.contains("type=\"number\""), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
        assert!(html.contains("<label for=\"f-config_to\">"), "{html}");
    }

    #[test]
    fn a_document_survives_the_form_both_ways() {
        let fields = fields(&schema(), "config", false);
        let document = json!({
            "host": "mail.example.com", "port": 587, "secure": true, "mode": "b",
            "to": ["a@example.com", "b@example.com"], "headers": {"X": "1"},
            "auth": {"user": "me"}
        });
        let mut filled = HashMap::new();
        values(&fields, document.as_object().unwrap(), &mut filled);
        let posted = FormData(filled.into_iter().collect());
        let mut errors = Vec::new();
        let read = read(&fields, &posted, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(Value::Object(read), document);
    }

    #[test]
    fn unreadable_values_are_errors_at_their_field() {
        let fields = fields(&schema(), "config", false);
        let mut errors = Vec::new();
        read(
            &fields,
            &form(&[("config.port", "many"), ("config.headers", "{nope")]),
            &mut errors,
        );
        let mut named: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        named.sort();
        assert_eq!(named, ["config.headers", "config.port"]);
        assert_eq!(
            field_of(&fields, "config.to[1]").as_deref(),
            Some("config.to")
        );
        assert_eq!(
            field_of(&fields, "config.auth.user").as_deref(),
            Some("config.auth.user")
        );
        assert_eq!(field_of(&fields, "config.hostname"), None);
    }

    #[test]
    fn secrets_are_never_rendered_and_empty_keeps_them() {
        let schema = json!({"type": "object", "required": ["webhookUrl"], "properties": {
            "webhookUrl": {"type": "string", "format": "uri"},
            "token": {"type": "string"}
        }});
        let fields = fields(&schema, "secrets", false);
        let html = render_secrets(
            &fields,
            &["webhookUrl".into(), "token".into()],
            &HashMap::new(),
        );
        assert!(html.contains("type=\"password\""));
        assert!(html.contains("set</span>"));
        // The only values are the "remove" checkboxes'.
        assert_eq!(
            html.matches("value=").count(),
            html.matches("value=\"true\"").count(),
            "{html}"
        );
        assert!(
            !html.contains(" required"),
            "a set secret is not asked for again: {html}"
        );
        let mut errors = Vec::new();
        let read = read_secrets(
            &fields,
            &form(&[("secrets.webhookUrl", ""), ("secrets.token.remove", "true")]),
            &mut errors,
        );
        assert_eq!(Value::Object(read), json!({"token": null}));
    }

    #[test]
    fn a_closed_empty_object_has_no_fields_and_a_free_one_is_json() {
        let closed = json!({"type": "object", "additionalProperties": false});
        assert!(fields(&closed, "config", false).is_empty());
        let free = json!({"type": "object", "additionalProperties": true});
        assert_eq!(fields(&free, "config", false)[0].kind, Kind::Json);
    }

    #[test]
    fn a_schema_of_alternatives_is_one_json_field() {
        let schema = json!({"oneOf": [
            {"type": "object", "properties": {"subAction": {"const": "a"}}},
            {"type": "object", "properties": {"subAction": {"const": "b"}}}
        ]});
        let fields = fields(&schema, "params", true);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].kind, Kind::Json);
        let mut errors = Vec::new();
        let read = read(
            &fields,
            &form(&[("params", "{\"subAction\": \"a\"}")]),
            &mut errors,
        );
        assert_eq!(Value::Object(read), json!({"subAction": "a"}));
    }
}
