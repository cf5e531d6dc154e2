//! When to try again: exponential backoff with full jitter, capped, unless
//! the vendor named a time itself (Retry-After, Slack's `retry_after`).
//! Full jitter spreads the retries of many actions that failed together
//! (a vendor outage) instead of sending them back in one wave.

use std::time::Duration;

use herald_config::Backoff;
use rand::Rng;

/// The longest a vendor's own Retry-After is honoured; beyond it an answer
/// is more likely a bug than a plan.
pub const MAX_VENDOR_DELAY: Duration = Duration::from_secs(3600);

/// The delay before attempt `attempt + 1`, after `attempt` (1-based) failed.
pub fn retry_delay(policy: &Backoff, attempt: u32, vendor_asked: Option<Duration>) -> Duration {
    Wait::new(policy, attempt, vendor_asked).draw()
}

/// When to try again, before any jitter is drawn: the pure half of
/// [`retry_delay`], which `retry::decide` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// What the vendor asked for, capped.
    Asked(Duration),
    /// A time drawn between zero and `ceiling` (full jitter).
    Backoff { ceiling: Duration },
}

impl Wait {
    /// After `attempt` (1-based) failed.
    pub fn new(policy: &Backoff, attempt: u32, vendor_asked: Option<Duration>) -> Wait {
        match vendor_asked {
            Some(asked) => Wait::Asked(asked.min(MAX_VENDOR_DELAY)),
            None => Wait::Backoff {
                ceiling: exponential_ceiling(policy, attempt),
            },
        }
    }

    /// The delay itself; random for a backoff.
    pub fn draw(self) -> Duration {
        match self {
            Wait::Asked(asked) => asked,
            Wait::Backoff { ceiling } => {
                let millis = ceiling.as_millis().min(u64::MAX as u128) as u64;
                Duration::from_millis(rand::rng().random_range(0..=millis))
            }
        }
    }
}

/// `initial * 2^(attempt-1)`, capped at `max`.
pub fn exponential_ceiling(policy: &Backoff, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    policy.initial.saturating_mul(factor).min(policy.max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_below_it() {
        let policy = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let ceilings: Vec<u64> = (1..=8)
            .map(|a| exponential_ceiling(&policy, a).as_secs())
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(exponential_ceiling(&policy, 200), Duration::from_secs(60));
        for attempt in 1..=10 {
            for _ in 0..50 {
                assert!(
                    retry_delay(&policy, attempt, None) <= exponential_ceiling(&policy, attempt)
                );
            }
        }
    }

    #[test]
    fn the_vendor_decides_when_it_says() {
        let policy = Backoff::default();
        assert_eq!(
            retry_delay(&policy, 1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            retry_delay(&policy, 1, Some(Duration::from_secs(86_400))),
            MAX_VENDOR_DELAY
        );
    }
}
