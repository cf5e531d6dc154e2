//! Every connector type Herald knows, in one place: its three JSON Schemas
//! (`config`, `secrets`, `params`, with Kibana's field names), the cross-field
//! rules a schema cannot express, the worker binary that serves it, and the
//! delivery policy checks. The registry validates accounts with it, ingest
//! validates action params, and workers re-check the policy at send time.

pub mod account;
pub mod alert;
pub mod email;
pub mod policy;
pub mod schema;
pub mod secret;
pub mod signals;
pub mod typed;
pub mod urls;

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use serde_json::{Map, Value};

pub use policy::Policy;
pub use secret::{Secret, SecretMap};

/// The worker binary that delivers a connector type's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkerBinary {
    Email,
    Chat,
    Incident,
    /// Model calls (`gen-ai`, `bedrock`): long timeouts, few slots.
    Ai,
}

impl WorkerBinary {
    pub fn binary(&self) -> &'static str {
        match self {
            WorkerBinary::Email => "herald-email-worker",
            WorkerBinary::Chat => "herald-chat-worker",
            WorkerBinary::Incident => "herald-incident-worker",
            WorkerBinary::Ai => "herald-ai-worker",
        }
    }
}

/// Cross-field rules over an account: `(config, secrets, out)`.
pub type AccountRules = fn(&Map<String, Value>, &Map<String, Value>, &mut Violations);
/// Cross-field rules over one action's params: `(params, path prefix, out)`.
pub type ParamsRules = fn(&Map<String, Value>, &str, &mut Violations);
/// Rules between an action's params and the config of the account it goes
/// to, which ingest checks once it has both: `(params, config, path prefix, out)`.
pub type ActionRules = fn(&Map<String, Value>, &Map<String, Value>, &str, &mut Violations);
/// Policy checks the schema walk cannot derive, such as hosts that follow
/// from other fields (an e-mail `service` name): `(config, secrets, policy, out)`.
pub type PolicyRules = fn(&Map<String, Value>, &Map<String, Value>, &Policy, &mut Violations);

/// The escaping of values that `{{x}}` inserts into one string of an
/// action's params, by the string's dotted path inside params, array items
/// by index (`message`, `subActionParams.text`, `to[0]`). A path not named
/// is inserted as is.
#[derive(Debug, Clone, Copy)]
pub enum ParamEscape {
    /// The same escaping for a field whatever the other params.
    Fields(&'static [(&'static str, Escape)]),
    /// Escaping that depends on a sibling field (which operation `subAction` names):
    /// `(params, path) -> Escape`.
    ByParams(fn(&Map<String, Value>, &str) -> Escape),
}

impl ParamEscape {
    pub fn escape(&self, params: &Map<String, Value>, path: &str) -> Escape {
        match self {
            ParamEscape::Fields(fields) => fields
                .iter()
                .find(|(field, _)| *field == path)
                .map_or(Escape::None, |(_, escape)| *escape),
            ParamEscape::ByParams(choose) => choose(params, path),
        }
    }
}

/// How Mustache escapes an inserted value, as Kibana's
/// `renderParameterTemplates` chooses per connector field: Markdown for an
/// e-mail's `message`, Slack's own rules for Slack text, JSON string escaping
/// for fields that hold a JSON document (`body`), none for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Escape {
    /// Inserted as is.
    #[default]
    None,
    /// JSON string escaping without the quotes, so that `"{{x}}"` inside a
    /// JSON document stays valid whatever `x` holds.
    Json,
    /// `&` `<` `>` as entities, backticks as `'`, and a value holding `*` or
    /// `_` (and not a URL) wrapped in backticks so Slack does not format it.
    Slack,
    /// A backslash before each of `` \ | ` * _ { } [ ] ( ) # + - . ! ``.
    Markdown,
    /// HTML entities for ``& < > " ' / ` =``, as mustache.js's default
    /// escape, which Kibana uses.
    Html,
}

/// The [`ParamEscape`] of connectors whose params are plain values (or
/// objects sent as such): nothing is escaped, like Kibana's
/// `renderMustacheObject`.
pub const NO_ESCAPE: ParamEscape = ParamEscape::Fields(&[]);

/// Reads one document (`config`, `secrets` or `params`) into a connector's
/// own type, as its worker will: `Ok` when the worker would accept it.
pub type Reader = fn(&Map<String, Value>) -> Result<(), Violation>;

/// A connector's readers for its three documents. The schemas of a
/// connector that has them are derived from the same types, so what the
/// registry and ingest accept and what the worker reads cannot drift apart
/// (the catalog's drift test checks both ways).
#[derive(Debug, Clone, Copy)]
pub struct Readers {
    pub config: Reader,
    pub secrets: Reader,
    pub params: Reader,
}

impl Readers {
    pub fn of<C, S, P>() -> Readers
    where
        C: serde::de::DeserializeOwned,
        S: serde::de::DeserializeOwned,
        P: serde::de::DeserializeOwned,
    {
        Readers {
            config: |map| typed::read::<C>(map, "config").map(drop),
            secrets: |map| typed::read::<S>(map, "secrets").map(drop),
            params: |map| typed::read::<P>(map, "").map(drop),
        }
    }
}

/// One connector type.
#[derive(Debug, Clone)]
pub struct ConnectorSpec {
    /// Kibana's action type id without the leading dot.
    pub id: &'static str,
    pub name: &'static str,
    pub worker: WorkerBinary,
    pub config_schema: Value,
    pub secrets_schema: Value,
    pub params_schema: Value,
    /// Cross-field rules the schema subset cannot express; push violations
    /// with full paths (`config.host`, `secrets.user`).
    pub account_rules: AccountRules,
    /// Same for params; paths are relative to `prefix` (see [`schema::join`]).
    pub params_rules: ParamsRules,
    pub policy_rules: PolicyRules,
    /// Escaping of each templated string in params; see [`ParamEscape`].
    pub param_escape: ParamEscape,
    /// Reads each document into the connector's typed `Config`, `Secrets`
    /// and `Params`, as its worker does (the drift test holds them to the
    /// schemas).
    pub readers: Readers,
    /// Rules between params and the account's config (a recipient the
    /// params leave out may come from the account's defaults).
    pub action_rules: ActionRules,
    /// The params of `heraldctl accounts test`: a message with the given
    /// text that any working account of the type takes; `None` where there
    /// is no such message (it would open a ticket, or depends on the account).
    pub test_params: Option<fn(&str) -> Value>,
    /// What most types leave at its default.
    pub extras: Extras,
}

/// The parts of a spec that most connector types leave at their default,
/// so that a new one is added here without touching every spec.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// How a Search Guard Signals account of this type becomes a Herald
    /// account; `None` where Signals has no such type.
    pub signals: Option<&'static signals::SignalsAccount>,
    /// The rate limit of each account when `HERALD_CONFIG` sets none for
    /// the type: the vendor's documented limit.
    pub default_rate_limit: Option<DefaultRateLimit>,
    /// The params an action that gives none gets, built by ingest from the
    /// event's template variables and the account's config (Kibana's alert
    /// history document); `None` where a type has no such default, or
    /// where the function answers `None` for this account.
    pub params_from_event: Option<ParamsFromEvent>,
    /// The params a route action that gives none gets for an alert, firing
    /// or resolved; `None` where the type has no default rendering (the
    /// route action must then give params).
    pub alert_params: Option<alert::AlertParams>,
    /// How an action that follows another (a repeat or a resolve of the
    /// same alert) reaches the vendor object the first one opened; `None`
    /// where the params alone do (a PagerDuty dedup key, an Opsgenie alias).
    pub follow_up: Option<alert::FollowUp>,
}

/// `(account config, the event's template variables) -> params`.
pub type ParamsFromEvent = fn(&Map<String, Value>, &Value) -> Option<Map<String, Value>>;

/// A vendor's documented rate limit per account (a token bucket).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultRateLimit {
    pub per_second: f64,
    pub burst: u32,
}

/// One problem with a document, at a path from the root
/// (`config.port`, `actions[1].params.dedupKey`). Messages never carry the
/// offending value: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every violation found in a document, reported together so that an admin
/// fixes an account in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", joined(.0))]
pub struct Violations(pub Vec<Violation>);

/// How many violations a message lists; the rest are counted. A document
/// with thousands of unknown keys would otherwise make a message too large
/// for a gRPC status header.
pub const MAX_LISTED: usize = 20;

fn joined(violations: &[Violation]) -> String {
    let mut text = violations
        .iter()
        .take(MAX_LISTED)
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > MAX_LISTED {
        text.push_str(&format!("; and {} more", violations.len() - MAX_LISTED));
    }
    text
}

/// How many characters of caller input a message or a field path quotes.
pub const ECHO_CHARS: usize = 64;

/// Caller input as an error message quotes it: the first [`ECHO_CHARS`]
/// characters, control characters escaped, and `…` when cut. An id or a
/// key of a megabyte would otherwise come back whole in the error (and
/// overflow a gRPC status header), and a CR/LF in it would forge a line in
/// whatever logs the message.
pub fn echo(input: &str) -> Cow<'_, str> {
    echo_at_most(input, ECHO_CHARS)
}

/// [`echo`] with another limit, for a message that holds caller input
/// among words of its own (serde's `invalid type: string "...", expected
/// a map`).
pub fn echo_at_most(input: &str, chars: usize) -> Cow<'_, str> {
    let plain = |c: char| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}');
    if input.len() <= chars && input.chars().all(plain) {
        return Cow::Borrowed(input);
    }
    let mut out: String = input
        .chars()
        .take(chars)
        .flat_map(|c| {
            let escaped: Vec<char> = if plain(c) {
                vec![c]
            } else {
                c.escape_default().collect()
            };
            escaped
        })
        .collect();
    if input.chars().nth(chars).is_some() {
        out.push('…');
    }
    Cow::Owned(out)
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            path: path.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    pub fn into_result(self) -> Result<(), Violations> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

static EMPTY_OBJECT: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));

/// `null` (or absent, which callers pass as `null`) reads as `{}`; anything
/// else that is not an object is reported once and skipped.
fn document<'a>(value: &'a Value, path: &str, out: &mut Violations) -> Option<&'a Value> {
    match value {
        Value::Null => Some(&EMPTY_OBJECT),
        Value::Object(_) => Some(value),
        _ => {
            out.push(path, "must be an object");
            None
        }
    }
}

fn object(value: &Value) -> &Map<String, Value> {
    value.as_object().expect("document() only returns objects")
}

impl ConnectorSpec {
    /// Property names of the secrets schema.
    pub fn secret_fields(&self) -> Vec<&str> {
        self.secrets_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Schema, account rules and policy, every violation at once; paths start
    /// with `config.` or `secrets.`.
    pub fn validate_account(
        &self,
        config: &Value,
        secrets: &Value,
        policy: &Policy,
    ) -> Result<(), Violations> {
        let mut out = Violations::new();
        let config = document(config, "config", &mut out);
        let secrets = document(secrets, "secrets", &mut out);
        if let Some(config) = config {
            schema::validate(&self.config_schema, config, "config", &mut out);
        }
        if let Some(secrets) = secrets {
            schema::validate(&self.secrets_schema, secrets, "secrets", &mut out);
        }
        // The rules look at both documents together; with one of them
        // unusable they would only add noise.
        if let (Some(config), Some(secrets)) = (config, secrets) {
            (self.account_rules)(object(config), object(secrets), &mut out);
        }
        self.policy_violations(config, secrets, policy, &mut out);
        out.into_result()
    }

    /// Schema, params rules and the e-mail domain (and URL host) policy on
    /// the params of one action. Paths are prefixed: prefix
    /// `actions[1].params` gives `actions[1].params.dedupKey`, prefix `""`
    /// gives `dedupKey`.
    pub fn validate_params(
        &self,
        params: &Value,
        prefix: &str,
        policy: &Policy,
    ) -> Result<(), Violations> {
        let mut out = Violations::new();
        let root = if prefix.is_empty() { "params" } else { prefix };
        if let Some(params) = document(params, root, &mut out) {
            schema::validate(&self.params_schema, params, prefix, &mut out);
            (self.params_rules)(object(params), prefix, &mut out);
            schema::check_policy(&self.params_schema, params, prefix, policy, &mut out);
        }
        out.into_result()
    }

    /// Only the policy part of [`ConnectorSpec::validate_account`] (hosts and
    /// e-mail domains), so that workers can re-check an account at send time
    /// against the policy in force then.
    pub fn check_policy(
        &self,
        config: &Value,
        secrets: &Value,
        policy: &Policy,
    ) -> Result<(), Violations> {
        let mut out = Violations::new();
        let config = document(config, "config", &mut out);
        let secrets = document(secrets, "secrets", &mut out);
        self.policy_violations(config, secrets, policy, &mut out);
        out.into_result()
    }

    fn policy_violations(
        &self,
        config: Option<&Value>,
        secrets: Option<&Value>,
        policy: &Policy,
        out: &mut Violations,
    ) {
        if let Some(config) = config {
            schema::check_policy(&self.config_schema, config, "config", policy, out);
        }
        if let Some(secrets) = secrets {
            schema::check_policy(&self.secrets_schema, secrets, "secrets", policy, out);
        }
        if let (Some(config), Some(secrets)) = (config, secrets) {
            (self.policy_rules)(object(config), object(secrets), policy, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_quotes_at_most_64_characters_escaped() {
        assert_eq!(echo("ops-slack"), "ops-slack");
        assert!(matches!(echo("ops-slack"), Cow::Borrowed(_)));
        assert_eq!(echo("Équipe \"a\" \\ b"), "Équipe \"a\" \\ b");
        assert_eq!(echo(&"a".repeat(64)), "a".repeat(64));
        assert_eq!(echo(&"é".repeat(1 << 20)), format!("{}…", "é".repeat(64)));
        assert_eq!(echo("a\r\nb\0\u{2028}"), "a\\r\\nb\\u{0}\\u{2028}");
    }

    #[test]
    fn messages_list_at_most_20_violations_and_count_the_rest() {
        let mut v = Violations::new();
        for i in 0..25 {
            v.push(format!("f{i}"), "unknown field");
        }
        let text = v.to_string();
        assert!(text.starts_with("f0: unknown field; f1: unknown field"));
        assert!(text.ends_with("f19: unknown field; and 5 more"), "{text}");
        assert_eq!(
            v.len(),
            25,
            "every violation is kept, only the message is cut"
        );
    }
}
