//! A route as people write it: in `HERALD_CONFIG`'s `routes:`, in a file
//! for `heraldctl routes put`, and as the registry's REST body. One serde
//! type for all three (durations as `5m`), converted to and from
//! `herald.v1.Route` here, so that the registry, ingest and heraldctl read
//! routes by the same rules. What needs the accounts and the catalog (does
//! the account exist, do the params render) is the registry's to check.

use std::collections::BTreeMap;
use std::time::Duration;

use herald_catalog::Violations;
use herald_catalog::account::{AccountId, name_problem};
use herald_proto::json::{json_to_struct, opt_struct_to_json};
use herald_proto::v1;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What `repeat_interval` is when a route leaves it out.
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);
/// The longest throttle or repeat interval: beyond a year is a typo.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 86_400);
/// Most actions one route may hold.
pub const MAX_ACTIONS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDocument {
    /// The map key in `HERALD_CONFIG` and the path in REST; may be left out there.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub actions: Vec<RouteActionDocument>,
    /// Zero when left out: nothing is throttled.
    #[serde(default, with = "duration_text")]
    pub throttle: Duration,
    /// [`DEFAULT_REPEAT_INTERVAL`] when left out; zero means never.
    #[serde(default = "default_repeat", with = "duration_text")]
    pub repeat_interval: Duration,
    #[serde(default)]
    pub grouping: Grouping,
}

fn default_repeat() -> Duration {
    DEFAULT_REPEAT_INTERVAL
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteActionDocument {
    #[serde(default)]
    pub account_id: String,
    /// Templates over `alert`, `context`, `account`; empty: the connector
    /// type's default rendering of the alert.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
    /// For the resolved alert; empty: `params` (or the default rendering).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub resolved_params: Map<String, Value>,
    /// Label name -> regular expression over the whole value ([`compile_match`]).
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub matchers: BTreeMap<String, String>,
}

/// How Alertmanager and Grafana intake key alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// One alert per notification group (its `groupKey`).
    #[default]
    Group,
    /// One alert per alert `fingerprint`.
    Alert,
}

/// A route action's `match` value as a regex over the whole label value
/// (`critical|error` matches `error`, not `errors`), RE2 syntax: the one
/// place the anchoring is decided, for the registry's check and ingest's match.
pub fn compile_match(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        // An admin's pattern, but bounded anyway: a huge one is a mistake.
        .size_limit(1 << 20)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(text) => format!(
                "not a regular expression: {}",
                text.lines()
                    .last()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
            ),
            regex::Error::CompiledTooBig(_) => "too large a regular expression".into(),
            other => other.to_string(),
        })
}

impl RouteDocument {
    /// What can be checked without the accounts and the catalog: the id,
    /// the name, the action list's shape, every `match` and the intervals.
    /// Paths name the field (`actions[1].match.severity`).
    pub fn check_shape(&self, out: &mut Violations) {
        if let Err(problem) = AccountId::parse(self.id.as_str()) {
            out.push("id", problem.to_string());
        }
        if let Some(problem) = name_problem(&self.name) {
            out.push("name", problem);
        }
        if self.actions.is_empty() {
            out.push("actions", "at least one action is required");
        } else if self.actions.len() > MAX_ACTIONS {
            out.push("actions", format!("at most {MAX_ACTIONS} actions"));
        }
        for (i, action) in self.actions.iter().enumerate() {
            let at = format!("actions[{i}]");
            if action.account_id.is_empty() {
                out.push(format!("{at}.account_id"), "required");
            } else if let Err(problem) = AccountId::parse(action.account_id.as_str()) {
                out.push(format!("{at}.account_id"), problem.to_string());
            }
            for (label, pattern) in &action.matchers {
                if label.is_empty() {
                    out.push(format!("{at}.match"), "a label name is empty");
                } else if let Err(problem) = compile_match(pattern) {
                    out.push(
                        format!("{at}.match.{}", herald_catalog::echo(label)),
                        problem,
                    );
                }
            }
        }
        for (field, value) in [
            ("throttle", self.throttle),
            ("repeat_interval", self.repeat_interval),
        ] {
            if value > MAX_INTERVAL {
                out.push(field, "must be at most 366d");
            }
        }
    }

    /// From the protobuf, refusing what the document cannot hold (negative
    /// or sub-millisecond durations, an unknown grouping), by field.
    pub fn from_proto(route: &v1::Route) -> Result<RouteDocument, Violations> {
        let mut out = Violations::new();
        let mut duration = |field: &str, d: Option<&prost_types::Duration>, default| match d {
            None => default,
            Some(d) => from_proto_duration(d).unwrap_or_else(|problem| {
                out.push(field, problem);
                default
            }),
        };
        let throttle = duration("throttle", route.throttle.as_ref(), Duration::ZERO);
        let repeat_interval = duration(
            "repeat_interval",
            route.repeat_interval.as_ref(),
            DEFAULT_REPEAT_INTERVAL,
        );
        let grouping = match v1::RouteGrouping::try_from(route.grouping) {
            Ok(v1::RouteGrouping::Unspecified | v1::RouteGrouping::Group) => Grouping::Group,
            Ok(v1::RouteGrouping::Alert) => Grouping::Alert,
            Err(_) => {
                out.push("grouping", format!("unknown value {}", route.grouping));
                Grouping::Group
            }
        };
        let actions = route
            .actions
            .iter()
            .map(|a| RouteActionDocument {
                account_id: a.account_id.clone(),
                params: opt_struct_to_json(a.params.as_ref()),
                resolved_params: opt_struct_to_json(a.resolved_params.as_ref()),
                matchers: a
                    .r#match
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect();
        out.into_result().map(|()| RouteDocument {
            id: route.id.clone(),
            name: route.name.clone(),
            actions,
            throttle,
            repeat_interval,
            grouping,
        })
    }

    /// The protobuf, without what only the registry knows (version, times,
    /// preconfigured).
    pub fn to_proto(&self) -> v1::Route {
        v1::Route {
            id: self.id.clone(),
            name: self.name.clone(),
            actions: self
                .actions
                .iter()
                .map(|a| v1::RouteAction {
                    account_id: a.account_id.clone(),
                    params: (!a.params.is_empty()).then(|| json_to_struct(&a.params)),
                    resolved_params: (!a.resolved_params.is_empty())
                        .then(|| json_to_struct(&a.resolved_params)),
                    r#match: a
                        .matchers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                })
                .collect(),
            throttle: Some(to_proto_duration(self.throttle)),
            repeat_interval: Some(to_proto_duration(self.repeat_interval)),
            grouping: match self.grouping {
                Grouping::Group => v1::RouteGrouping::Group,
                Grouping::Alert => v1::RouteGrouping::Alert,
            } as i32,
            ..Default::default()
        }
    }
}

fn from_proto_duration(d: &prost_types::Duration) -> Result<Duration, String> {
    if d.seconds < 0 || d.nanos < 0 {
        return Err("must not be negative".into());
    }
    if d.nanos % 1_000_000 != 0 {
        return Err("must be whole milliseconds".into());
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

fn to_proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// `5m`-style text both ways.
mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::duration::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        crate::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// `routes:` of `HERALD_CONFIG`: each key is the route's id.
pub(crate) fn read(
    raw: BTreeMap<String, RouteDocument>,
) -> Result<Vec<RouteDocument>, (String, String)> {
    let mut routes = Vec::with_capacity(raw.len());
    for (id, mut route) in raw {
        if let Err(problem) = AccountId::parse(id.as_str()) {
            // Escaped: the key may hold anything, a line break included.
            return Err(("routes".to_owned(), format!("id {id:?}: {problem}")));
        }
        if !route.id.is_empty() && route.id != id {
            return Err((format!("routes.{id}.id"), "differs from the key".into()));
        }
        route.id = id;
        let mut problems = Violations::new();
        route.check_shape(&mut problems);
        if let Some(first) = problems.iter().next() {
            return Err((
                format!("routes.{}.{}", route.id, first.path),
                first.message.clone(),
            ));
        }
        routes.push(route);
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> RouteDocument {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn matchers_are_anchored() {
        let re = compile_match("critical|error").unwrap();
        assert!(re.is_match("error"));
        assert!(re.is_match("critical"));
        assert!(!re.is_match("errors"));
        assert!(!re.is_match("not critical"));
        let problem = compile_match("(").unwrap_err();
        assert!(problem.starts_with("not a regular expression"), "{problem}");
    }

    #[test]
    fn durations_read_and_write_as_text_and_the_defaults_apply() {
        let route = doc("name: Ops\nactions: [{account_id: ops}]\nthrottle: 5m\n");
        assert_eq!(route.throttle, Duration::from_secs(300));
        assert_eq!(route.repeat_interval, DEFAULT_REPEAT_INTERVAL);
        assert_eq!(route.grouping, Grouping::Group);
        let json = serde_json::to_value(&route).unwrap();
        assert_eq!(json["throttle"], "5m");
        assert_eq!(json["repeat_interval"], "4h");
        assert_eq!(json["grouping"], "group");
        let back: RouteDocument = serde_json::from_value(json).unwrap();
        assert_eq!(back, route);
    }

    #[test]
    fn the_protobuf_round_trips_and_bad_durations_are_named() {
        let route = doc(
            "id: r1\nname: Ops\ngrouping: alert\nrepeat_interval: 0s\nactions:\n  - account_id: ops\n    params: {message: hi}\n    match: {severity: critical}\n",
        );
        assert_eq!(RouteDocument::from_proto(&route.to_proto()).unwrap(), route);
        let mut proto = route.to_proto();
        proto.throttle = Some(prost_types::Duration {
            seconds: -1,
            nanos: 0,
        });
        proto.repeat_interval = Some(prost_types::Duration {
            seconds: 1,
            nanos: 5,
        });
        proto.grouping = 9;
        let err = RouteDocument::from_proto(&proto).unwrap_err().to_string();
        assert_eq!(
            err,
            "throttle: must not be negative; repeat_interval: must be whole milliseconds; grouping: unknown value 9"
        );
        // Left out: repeat every 4h, no throttle.
        proto.throttle = None;
        proto.repeat_interval = None;
        proto.grouping = 0;
        let back = RouteDocument::from_proto(&proto).unwrap();
        assert_eq!(back.repeat_interval, DEFAULT_REPEAT_INTERVAL);
        assert_eq!(back.throttle, Duration::ZERO);
    }

    #[test]
    fn shape_problems_name_their_field() {
        let route = doc(
            "id: 'bad id'\nname: ''\nthrottle: 400d\nactions:\n  - account_id: ''\n  - account_id: ops\n    match: {severity: '(', '': x}\n",
        );
        let mut v = Violations::new();
        route.check_shape(&mut v);
        let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "id",
                "name",
                "actions[0].account_id",
                "actions[1].match",
                "actions[1].match.severity",
                "throttle"
            ],
            "{v}"
        );
        let mut v = Violations::new();
        doc("id: r\nname: R\n").check_shape(&mut v);
        assert_eq!(v.to_string(), "actions: at least one action is required");
    }
}
