//! What an attempt's outcome means for its action: delivered, tried again
//! after a wait, or failed for good, by the attempt's number and the
//! delivery policy. Pure, so the retry policy is tested without NATS; the
//! runtime records and settles what is decided here, and `backoff` says
//! how long a wait is.

use std::collections::BTreeMap;

use herald_config::{Backoff, DeliveryPolicy};
use herald_proto::v1::{ErrorKind, VendorResponse};

use crate::Outcome;
use crate::backoff::Wait;

/// How many attempts an action gets, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The action's own `max_attempts` when it carries one (0: it does
    /// not), else the delivery settings'.
    pub fn of_action(max_attempts: u32, delivery: &DeliveryPolicy) -> RetryPolicy {
        RetryPolicy {
            max_attempts: match max_attempts {
                0 => delivery.max_attempts,
                n => n,
            },
            backoff: delivery.backoff,
        }
    }
}

/// What becomes of the action after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Acked, status `delivered`.
    Delivered {
        handles: BTreeMap<String, String>,
        response: Option<VendorResponse>,
    },
    /// NAKed to come back after `wait`, status `retrying`.
    Retry {
        kind: ErrorKind,
        reason: String,
        response: Option<VendorResponse>,
        wait: Wait,
    },
    /// Dead-lettered and terminated, status `failed`.
    Fail {
        kind: ErrorKind,
        reason: String,
        response: Option<VendorResponse>,
    },
}

/// Decides after attempt `attempt` (1-based, counted by the runtime: a
/// deferral is not an attempt) ended with `outcome`. A retry that would be
/// past `policy.max_attempts` fails the action instead, naming the last
/// error.
pub fn decide(outcome: Outcome, attempt: u32, policy: &RetryPolicy) -> Decision {
    match outcome {
        Outcome::Delivered { handles, response } => Decision::Delivered { handles, response },
        Outcome::Retry {
            kind,
            reason,
            response,
            ..
        } if attempt >= policy.max_attempts => Decision::Fail {
            kind: ErrorKind::AttemptsExhausted,
            reason: format!(
                "gave up after {attempt} attempts; last: {reason} ({})",
                kind.as_str_name()
            ),
            response,
        },
        Outcome::Retry {
            kind,
            reason,
            after,
            response,
        } => Decision::Retry {
            kind,
            reason,
            response,
            wait: Wait::new(&policy.backoff, attempt, after),
        },
        Outcome::Permanent {
            kind,
            reason,
            response,
        } => Decision::Fail {
            kind,
            reason,
            response,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::admission::attempt_number;
    use crate::backoff::MAX_VENDOR_DELAY;

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
        }
    }

    fn transient(after: Option<Duration>) -> Outcome {
        Outcome::Retry {
            kind: ErrorKind::Throttled,
            reason: "429 Too Many Requests".into(),
            after,
            response: None,
        }
    }

    #[test]
    fn delivered_is_delivered_at_any_attempt() {
        let handles = BTreeMap::from([("ts".to_owned(), "1.2".to_owned())]);
        for attempt in [1, 5, 9] {
            assert_eq!(
                decide(
                    Outcome::Delivered {
                        handles: handles.clone(),
                        response: None
                    },
                    attempt,
                    &policy(5)
                ),
                Decision::Delivered {
                    handles: handles.clone(),
                    response: None
                }
            );
        }
    }

    #[test]
    fn a_transient_failure_under_max_attempts_waits_for_the_backoff_or_the_vendor() {
        let ceilings: Vec<Decision> = (1..=4)
            .map(|a| decide(transient(None), a, &policy(5)))
            .collect();
        for (attempt, decision) in ceilings.iter().enumerate() {
            let Decision::Retry {
                kind, reason, wait, ..
            } = decision
            else {
                panic!("attempt {}: {decision:?}", attempt + 1);
            };
            assert_eq!(
                (*kind, reason.as_str()),
                (ErrorKind::Throttled, "429 Too Many Requests")
            );
            assert_eq!(
                *wait,
                Wait::Backoff {
                    ceiling: Duration::from_secs(1 << attempt)
                }
            );
        }
        // Retry-After wins over the backoff, within reason.
        let asked = decide(transient(Some(Duration::from_secs(7))), 2, &policy(5));
        assert!(
            matches!(asked, Decision::Retry { wait: Wait::Asked(d), .. } if d == Duration::from_secs(7))
        );
        let absurd = decide(
            transient(Some(Duration::from_secs(86_400 * 30))),
            2,
            &policy(5),
        );
        assert!(
            matches!(absurd, Decision::Retry { wait: Wait::Asked(d), .. } if d == MAX_VENDOR_DELAY)
        );
    }

    #[test]
    fn a_transient_failure_at_max_attempts_fails_naming_the_last_error() {
        for attempt in [5, 6] {
            let Decision::Fail { kind, reason, .. } =
                decide(transient(Some(Duration::from_secs(1))), attempt, &policy(5))
            else {
                panic!("attempt {attempt} must fail");
            };
            assert_eq!(kind, ErrorKind::AttemptsExhausted);
            assert_eq!(
                reason,
                format!(
                    "gave up after {attempt} attempts; last: 429 Too Many Requests (ERROR_KIND_THROTTLED)"
                )
            );
        }
        // One attempt only: the first failure is the last.
        assert!(matches!(
            decide(transient(None), 1, &policy(1)),
            Decision::Fail {
                kind: ErrorKind::AttemptsExhausted,
                ..
            }
        ));
    }

    #[test]
    fn a_permanent_failure_fails_at_once_with_its_own_reason() {
        assert_eq!(
            decide(
                Outcome::permanent(ErrorKind::InvalidConfig, "400 channel_not_found"),
                1,
                &policy(5)
            ),
            Decision::Fail {
                kind: ErrorKind::InvalidConfig,
                reason: "400 channel_not_found".into(),
                response: None
            }
        );
    }

    #[test]
    fn deferrals_do_not_use_up_attempts() {
        // Sent back 40 times for its rate-limit turn before its first
        // attempt ended: still attempt 1 of 2, so a failure is retried.
        let attempt = attempt_number(0, 41, Ok(None));
        assert!(matches!(
            decide(transient(None), attempt, &policy(2)),
            Decision::Retry { wait: Wait::Backoff { ceiling }, .. } if ceiling == Duration::from_secs(1)
        ));
    }

    #[test]
    fn the_action_s_own_max_attempts_wins() {
        let delivery = DeliveryPolicy {
            max_attempts: 5,
            ..DeliveryPolicy::default()
        };
        assert_eq!(RetryPolicy::of_action(0, &delivery).max_attempts, 5);
        assert_eq!(RetryPolicy::of_action(2, &delivery).max_attempts, 2);
    }
}
