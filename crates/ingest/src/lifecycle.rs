//! An alert's lifecycle: what each of its deliveries does, decided from its
//! record in the `herald_alerts` bucket and written back by compare-and-set
//! on the record's revision, so that ingest replicas agree without a lock.
//!
//! For each target (an action of the event or of its route):
//! - a new firing (no record, or the last cycle resolved) is sent and
//!   becomes the target's *opener*, unless the target sent something within
//!   `throttle` (a flapping alert);
//! - a firing of an alert still firing is a repeat: sent again (following
//!   the opener, so that it updates the same vendor object where the vendor
//!   has one) once `repeat_interval` and `throttle` have passed since the
//!   target's last send, unless the alert is acknowledged; else suppressed;
//! - a resolve is sent once, following the opener; a target that opened
//!   nothing, or an alert already resolved, suppresses it.
//!
//! Suppressed actions get ids and a status (`suppressed`) but are never
//! published. The decision is pure ([`decide`]); [`apply`] writes it into
//! the record.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use regex::Regex;

use herald_proto::v1;
use sha2::{Digest, Sha256};

/// What a route leaves unset: Alertmanager's own default repeat interval.
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);

/// History entries kept in a record, newest last.
const MAX_HISTORY: usize = 50;

/// The route's timing; the defaults for an event's own actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub throttle: Duration,
    /// Zero: an alert still firing is sent once until it resolves.
    pub repeat_interval: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            throttle: Duration::ZERO,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
        }
    }
}

impl Timing {
    pub fn of_route(route: &v1::Route) -> Timing {
        let duration = |d: &Option<prost_types::Duration>| {
            d.as_ref().and_then(|d| Duration::try_from(*d).ok())
        };
        Timing {
            throttle: duration(&route.throttle).unwrap_or(Duration::ZERO),
            repeat_interval: duration(&route.repeat_interval).unwrap_or(DEFAULT_REPEAT_INTERVAL),
        }
    }
}

/// A target as the record knows it: its account, and which of that
/// account's actions in the list it is (a route may name one account
/// twice, with other params).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetKey {
    pub account_id: String,
    pub connector_type: String,
    pub ordinal: u32,
}

impl TargetKey {
    /// Keys for a list of (account id, connector type), in order.
    pub fn list<'a>(targets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<TargetKey> {
        let mut keys: Vec<TargetKey> = Vec::new();
        for (account_id, connector_type) in targets {
            let ordinal = keys.iter().filter(|k| k.account_id == account_id).count() as u32;
            keys.push(TargetKey {
                account_id: account_id.to_owned(),
                connector_type: connector_type.to_owned(),
                ordinal,
            });
        }
        keys
    }
}

/// One target's part of a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Published. `follows` is the opener's action id for a repeat or a
    /// resolve; `repeat` marks a firing sent again.
    Send {
        follows: Option<String>,
        repeat: bool,
    },
    /// Recorded as suppressed, with the reason.
    Suppress(&'static str),
}

impl Step {
    pub fn is_send(&self) -> bool {
        matches!(self, Step::Send { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The event starts a new firing cycle.
    pub new_cycle: bool,
    pub resolved: bool,
    pub steps: Vec<Step>,
}

fn is_resolved(alert: &v1::Alert) -> bool {
    alert.status == v1::AlertStatus::Resolved as i32
}

fn since(now: SystemTime, then: Option<&prost_types::Timestamp>) -> Option<Duration> {
    let then = SystemTime::try_from(*then?).ok()?;
    Some(now.duration_since(then).unwrap_or(Duration::ZERO))
}

fn find<'r>(record: &'r v1::AlertRecord, key: &TargetKey) -> Option<&'r v1::AlertTarget> {
    let mut ordinal = 0;
    record.targets.iter().find(|t| {
        if t.account_id != key.account_id {
            return false;
        }
        let hit = ordinal == key.ordinal;
        ordinal += 1;
        hit
    })
}

/// What the event does to each target, given the alert's record.
pub fn decide(
    record: Option<&v1::AlertRecord>,
    alert: &v1::Alert,
    targets: &[TargetKey],
    timing: Timing,
    now: SystemTime,
) -> Decision {
    let open = record.is_some_and(|r| r.alert.as_ref().is_some_and(|a| !is_resolved(a)));
    let acked = record.is_some_and(|r| r.acked_at.is_some());
    let resolved = is_resolved(alert);
    let target = |key: &TargetKey| record.and_then(|r| find(r, key));
    let steps = targets
        .iter()
        .map(|key| {
            let t = target(key);
            let opener = t
                .map(|t| t.opener_action_id.clone())
                .filter(|id| !id.is_empty());
            let elapsed = t.and_then(|t| since(now, t.last_sent_at.as_ref()));
            if resolved {
                return match (open, opener) {
                    (true, Some(opener)) => Step::Send {
                        follows: Some(opener),
                        repeat: false,
                    },
                    (true, None) => Step::Suppress("nothing was opened for this alert"),
                    (false, _) => Step::Suppress("the alert is not firing"),
                };
            }
            let throttled = elapsed.is_some_and(|e| e < timing.throttle);
            match (open, opener) {
                // A new cycle, or a target that has not opened anything yet.
                (false, _) | (true, None) if throttled => Step::Suppress("within the throttle"),
                (false, _) | (true, None) => Step::Send {
                    follows: None,
                    repeat: false,
                },
                (true, Some(_)) if acked => Step::Suppress("acknowledged"),
                (true, Some(_)) if throttled => Step::Suppress("within the throttle"),
                (true, Some(_)) if timing.repeat_interval.is_zero() => {
                    Step::Suppress("still firing; the route does not repeat")
                }
                (true, Some(_)) if elapsed.is_some_and(|e| e < timing.repeat_interval) => {
                    Step::Suppress("within the repeat interval")
                }
                (true, Some(opener)) => Step::Send {
                    follows: Some(opener),
                    repeat: true,
                },
            }
        })
        .collect();
    Decision {
        new_cycle: !resolved && !open,
        resolved,
        steps,
    }
}

/// The record after the event: `ids` are the event's action ids, one per
/// target, in order.
pub fn apply(
    record: Option<v1::AlertRecord>,
    alert: &v1::Alert,
    route: &str,
    targets: &[TargetKey],
    decision: &Decision,
    ids: &[String],
    now: SystemTime,
) -> v1::AlertRecord {
    let now_ts = prost_types::Timestamp::from(now);
    let mut record = record.unwrap_or_default();
    if decision.new_cycle {
        record.cycle += 1;
        record.first_fired_at = Some(now_ts);
        record.resolved_at = None;
        record.acked_at = None;
        record.acked_by.clear();
        for target in &mut record.targets {
            target.opener_action_id.clear();
        }
    }
    if decision.resolved && record.alert.as_ref().is_some_and(|a| !is_resolved(a)) {
        record.resolved_at = Some(now_ts);
        record.acked_at = None;
        record.acked_by.clear();
    }
    record.alert = Some(alert.clone());
    record.route = route.to_owned();
    record.received += 1;
    record.last_received_at = Some(now_ts);
    let mut sent = Vec::new();
    let mut suppressed = Vec::new();
    for ((key, step), id) in targets.iter().zip(&decision.steps).zip(ids) {
        let index = match record
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.account_id == key.account_id)
            .nth(key.ordinal as usize)
        {
            Some((index, _)) => index,
            None => {
                record.targets.push(v1::AlertTarget {
                    account_id: key.account_id.clone(),
                    connector_type: key.connector_type.clone(),
                    ..Default::default()
                });
                record.targets.len() - 1
            }
        };
        let target = &mut record.targets[index];
        match step {
            Step::Send { follows, .. } => {
                if follows.is_none() && !decision.resolved {
                    target.opener_action_id = id.clone();
                }
                target.last_action_id = id.clone();
                target.last_sent_at = Some(now_ts);
                target.sent += 1;
                record.delivered += 1;
                sent.push(id.clone());
            }
            Step::Suppress(_) => {
                record.suppressed += 1;
                suppressed.push(id.clone());
            }
        }
    }
    let what = if decision.resolved {
        "resolved"
    } else if decision.new_cycle {
        "fired"
    } else {
        "repeated"
    };
    if !sent.is_empty() || suppressed.is_empty() {
        push_history(&mut record, now_ts, what, sent);
    }
    if !suppressed.is_empty() {
        push_history(&mut record, now_ts, "suppressed", suppressed);
    }
    record
}

fn push_history(
    record: &mut v1::AlertRecord,
    at: prost_types::Timestamp,
    what: &str,
    ids: Vec<String>,
) {
    record.history.push(v1::AlertChange {
        at: Some(at),
        what: what.to_owned(),
        action_ids: ids,
    });
    let excess = record.history.len().saturating_sub(MAX_HISTORY);
    record.history.drain(..excess);
}

/// The acknowledgement written into a record; `false` when there is
/// nothing to acknowledge (the alert is resolved).
pub fn ack(record: &mut v1::AlertRecord, by: &str, now: SystemTime) -> bool {
    if record.alert.as_ref().is_none_or(is_resolved) {
        return false;
    }
    let at = prost_types::Timestamp::from(now);
    record.acked_at = Some(at);
    record.acked_by = by.to_owned();
    push_history(record, at, "acked", Vec::new());
    true
}

/// Whether a label's value matches a route matcher, anchored at both ends
/// as the registry checked it on save (`critical|error` matches `error`,
/// not `errors`). Compiled patterns are kept, as every alert of a route asks
/// the same ones.
pub fn label_matches(pattern: &str, value: &str) -> Result<bool, String> {
    static COMPILED: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = compiled.get(pattern) {
        return Ok(re.is_match(value));
    }
    let re = herald_config::routes::compile_match(pattern)?;
    let hit = re.is_match(value);
    // Routes change seldom; a flood of distinct patterns only costs compiles.
    if compiled.len() >= 4096 {
        compiled.clear();
    }
    compiled.insert(pattern.to_owned(), re);
    Ok(hit)
}

/// The bucket key of an alert key: KV keys allow only `[-/_=.a-zA-Z0-9]`.
pub fn record_key(alert_key: &str) -> String {
    let digest = Sha256::digest(alert_key.as_bytes());
    let mut out = String::from("a.");
    for b in &digest[..20] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The event id of an alert event: the same for every replica that read
/// the same revision of the record, so that two replicas given the same
/// alert publish the same action ids (and JetStream keeps one of each).
pub fn event_seed(alert_key: &str, revision: u64) -> String {
    format!("alert\u{0}{alert_key}\u{0}{revision}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(status: v1::AlertStatus) -> v1::Alert {
        v1::Alert {
            key: "k".into(),
            status: status as i32,
            ..Default::default()
        }
    }

    fn keys() -> Vec<TargetKey> {
        TargetKey::list([
            ("pd", "pagerduty"),
            ("chat", "slack_api"),
            ("pd", "pagerduty"),
        ])
    }

    const T0: Duration = Duration::from_secs(1_800_000_000);

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + T0 + Duration::from_secs(secs)
    }

    struct Run {
        record: Option<v1::AlertRecord>,
        timing: Timing,
        events: u32,
    }

    impl Run {
        fn new(throttle: u64, repeat: u64) -> Run {
            Run {
                record: None,
                timing: Timing {
                    throttle: Duration::from_secs(throttle),
                    repeat_interval: Duration::from_secs(repeat),
                },
                events: 0,
            }
        }

        fn event(&mut self, status: v1::AlertStatus, secs: u64) -> Decision {
            let alert = alert(status);
            let keys = keys();
            let decision = decide(self.record.as_ref(), &alert, &keys, self.timing, at(secs));
            self.events += 1;
            let ids: Vec<String> = (0..keys.len())
                .map(|i| format!("e{}-{i}", self.events))
                .collect();
            self.record = Some(apply(
                self.record.take(),
                &alert,
                "r",
                &keys,
                &decision,
                &ids,
                at(secs),
            ));
            decision
        }
    }

    fn sends(d: &Decision) -> Vec<bool> {
        d.steps.iter().map(Step::is_send).collect()
    }

    #[test]
    fn a_new_alert_is_sent_and_its_repeats_wait_for_the_repeat_interval() {
        let mut run = Run::new(60, 600);
        let first = run.event(v1::AlertStatus::Firing, 0);
        assert!(first.new_cycle);
        assert_eq!(sends(&first), [true, true, true]);
        assert!(first.steps.iter().all(|s| matches!(
            s,
            Step::Send {
                follows: None,
                repeat: false
            }
        )));

        let soon = run.event(v1::AlertStatus::Firing, 30);
        assert_eq!(soon.steps[0], Step::Suppress("within the throttle"));
        let later = run.event(v1::AlertStatus::Firing, 300);
        assert_eq!(later.steps[1], Step::Suppress("within the repeat interval"));

        let repeat = run.event(v1::AlertStatus::Firing, 600);
        assert_eq!(
            repeat.steps[2],
            Step::Send {
                follows: Some("e1-2".into()),
                repeat: true
            }
        );
        let record = run.record.as_ref().unwrap();
        assert_eq!(
            (record.received, record.delivered, record.suppressed),
            (4, 6, 6)
        );
        // The opener stays the first delivery; the last is the repeat.
        assert_eq!(record.targets[0].opener_action_id, "e1-0");
        assert_eq!(record.targets[0].last_action_id, "e4-0");
        assert_eq!(record.targets.len(), 3);
        assert_eq!(record.targets[2].account_id, "pd");
    }

    #[test]
    fn a_resolve_follows_each_targets_opener_once() {
        let mut run = Run::new(0, 600);
        run.event(v1::AlertStatus::Firing, 0);
        let resolve = run.event(v1::AlertStatus::Resolved, 10);
        assert!(resolve.resolved && !resolve.new_cycle);
        assert_eq!(
            resolve.steps,
            ["e1-0", "e1-1", "e1-2"]
                .map(|id| Step::Send {
                    follows: Some(id.into()),
                    repeat: false
                })
                .to_vec()
        );
        let again = run.event(v1::AlertStatus::Resolved, 20);
        assert_eq!(again.steps[0], Step::Suppress("the alert is not firing"));
        let record = run.record.as_ref().unwrap();
        assert!(record.resolved_at.is_some());
        assert_eq!(record.cycle, 1);
        assert_eq!(
            record
                .history
                .iter()
                .map(|h| h.what.as_str())
                .collect::<Vec<_>>(),
            ["fired", "resolved", "suppressed"]
        );
    }

    #[test]
    fn firing_again_after_a_resolve_is_a_new_cycle_unless_it_flaps_within_the_throttle() {
        let mut run = Run::new(120, 600);
        run.event(v1::AlertStatus::Firing, 0);
        run.event(v1::AlertStatus::Resolved, 200);
        let flap = run.event(v1::AlertStatus::Firing, 250);
        assert!(flap.new_cycle);
        assert_eq!(flap.steps[0], Step::Suppress("within the throttle"));
        // The flap opened nothing: the next firing opens anew.
        let next = run.event(v1::AlertStatus::Firing, 400);
        assert_eq!(
            next.steps[0],
            Step::Send {
                follows: None,
                repeat: false
            }
        );
        let record = run.record.as_ref().unwrap();
        assert_eq!(record.cycle, 2);
        assert_eq!(record.targets[0].opener_action_id, "e4-0");
    }

    #[test]
    fn an_ack_stops_repeats_until_the_alert_resolves() {
        let mut run = Run::new(0, 60);
        run.event(v1::AlertStatus::Firing, 0);
        assert!(ack(run.record.as_mut().unwrap(), "alice", at(5)));
        let repeat = run.event(v1::AlertStatus::Firing, 120);
        assert_eq!(repeat.steps[0], Step::Suppress("acknowledged"));
        let resolve = run.event(v1::AlertStatus::Resolved, 130);
        assert!(resolve.steps.iter().all(Step::is_send));
        let record = run.record.as_mut().unwrap();
        assert!(record.acked_at.is_none());
        assert!(
            !ack(record, "bob", at(140)),
            "a resolved alert takes no ack"
        );
    }

    #[test]
    fn without_a_repeat_interval_a_firing_alert_is_sent_once() {
        let mut run = Run::new(0, 0);
        run.event(v1::AlertStatus::Firing, 0);
        let repeat = run.event(v1::AlertStatus::Firing, 100_000);
        assert_eq!(
            repeat.steps[0],
            Step::Suppress("still firing; the route does not repeat")
        );
    }

    #[test]
    fn a_resolve_for_an_unknown_alert_or_a_target_that_opened_nothing_sends_nothing() {
        let mut run = Run::new(0, 600);
        let resolve = run.event(v1::AlertStatus::Resolved, 0);
        assert!(resolve.steps.iter().all(|s| !s.is_send()));
        assert!(run.record.as_ref().unwrap().resolved_at.is_none());
    }

    #[test]
    fn record_keys_are_kv_safe_and_distinct() {
        let a = record_key("{}/{alertname=\"x\"}:{}");
        assert!(a.starts_with("a.") && a.len() == 42);
        assert!(a[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, record_key("other"));
    }
}
