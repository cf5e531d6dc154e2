//! Whether a message may start now, decided before it takes any of the
//! worker's time: its account's share of the deliveries in flight
//! (`delivery.max_in_flight_per_account`), and which attempt it is. The
//! rate limit's turn is the other half (`rate_limit`). The runtime calls
//! these; they are pure, or nearly, so the policy is tested without NATS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_proto::v1::{ActionState, ActionStatusRecord};
use rand::Rng;

/// Why a message was sent back to JetStream without an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// Its account's rate-limit turn is later.
    RateLimit,
    /// Its account has `delivery.max_in_flight_per_account` in flight.
    AccountBusy,
}

/// Deliveries in flight per account in this process, capped.
pub struct AccountSlots {
    max: usize,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// One delivery's slot; given back when dropped.
#[derive(Debug)]
pub struct AccountSlot {
    account_id: String,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl AccountSlots {
    pub fn new(max: usize) -> AccountSlots {
        AccountSlots {
            max: max.max(1),
            in_flight: Arc::default(),
        }
    }

    /// A slot for one more delivery of `account_id`, or `None` when the
    /// account already has its maximum in flight.
    pub fn try_take(&self, account_id: &str) -> Option<AccountSlot> {
        let mut in_flight = self.in_flight.lock().expect("account slots lock");
        match in_flight.get_mut(account_id) {
            Some(n) if *n >= self.max => return None,
            Some(n) => *n += 1,
            None => {
                in_flight.insert(account_id.to_owned(), 1);
            }
        }
        Some(AccountSlot {
            account_id: account_id.to_owned(),
            in_flight: self.in_flight.clone(),
        })
    }

    /// Deliveries of `account_id` in flight now.
    pub fn in_flight(&self, account_id: &str) -> usize {
        let in_flight = self.in_flight.lock().expect("account slots lock");
        in_flight.get(account_id).copied().unwrap_or(0)
    }
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let mut in_flight = self.in_flight.lock().expect("account slots lock");
        if let Some(n) = in_flight.get_mut(&self.account_id) {
            *n -= 1;
            // Forgotten at zero: memory follows the accounts busy right now.
            if *n == 0 {
                in_flight.remove(&self.account_id);
            }
        }
    }
}

/// The shortest and longest time a message of an account at its cap is
/// sent back to JetStream for.
const BUSY_FIRST: Duration = Duration::from_millis(250);
const BUSY_MAX: Duration = Duration::from_secs(5);

/// How long a message whose account is at its cap goes back to JetStream,
/// by how often it has been delivered (`delivered`, 1-based): 250 ms,
/// doubling up to 5 s, with jitter (between half and all of it) so a
/// backlog does not come back in one wave.
///
/// Why a NAK rather than waiting here without a permit: a waiting message
/// is held out of JetStream, where another replica with room for this
/// account could take it, and a long backlog of one account would pile up
/// in this process's memory (up to `max_ack_pending`), each needing
/// progress acks. A NAK costs one small message, and the growing delay
/// keeps a long backlog to a few NAKs per message per vendor answer time.
pub fn busy_delay(delivered: u64) -> Duration {
    let doublings = delivered.saturating_sub(1).min(5) as u32;
    let ceiling = BUSY_FIRST.saturating_mul(1 << doublings).min(BUSY_MAX);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}

/// Which attempt this delivery is (1-based). Attempts are counted by the
/// runtime, not by JetStream's `delivered`, which also counts the times a
/// message was sent back to wait for its rate-limit turn or a busy account
/// (those are not attempts: nothing was sent).
///
/// `delivered` is JetStream's count for this message; `recorded` is the
/// action's status record, read only on a redelivery (`delivered > 1`) so
/// a first delivery costs nothing: `Ok(None)` when there is none (no
/// attempt has ended yet), `Err(())` when it could not be read, in which
/// case `delivered` stands in. That can only overcount, so `max_attempts`
/// still ends a message that keeps coming back.
pub fn attempt_number(delivered: u64, recorded: Result<Option<&ActionStatusRecord>, ()>) -> u32 {
    if delivered <= 1 {
        return 1;
    }
    match recorded {
        // A failed action's record is from before this message: only a
        // replay (a new message) delivers an action that had failed.
        Ok(Some(record)) if record.state != ActionState::Failed as i32 => {
            record.attempts.saturating_add(1)
        }
        Ok(_) => 1,
        Err(()) => delivered.min(u32::MAX as u64) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_at_its_cap_gets_no_slot_until_one_is_given_back() {
        let slots = AccountSlots::new(2);
        let a1 = slots.try_take("a").unwrap();
        let _a2 = slots.try_take("a").unwrap();
        assert!(slots.try_take("a").is_none());
        // Other accounts are not affected.
        let b1 = slots.try_take("b").unwrap();
        assert_eq!((slots.in_flight("a"), slots.in_flight("b")), (2, 1));
        drop(a1);
        let _a3 = slots.try_take("a").unwrap();
        assert!(slots.try_take("a").is_none());
        drop(b1);
        assert_eq!(slots.in_flight("b"), 0);
        assert!(
            !slots.in_flight.lock().unwrap().contains_key("b"),
            "idle accounts are forgotten"
        );
    }

    #[test]
    fn busy_delays_grow_with_jitter_and_stay_bounded() {
        for delivered in 1..=20 {
            let ceiling = BUSY_FIRST
                .saturating_mul(1 << (delivered - 1).min(5))
                .min(BUSY_MAX);
            for _ in 0..20 {
                let d = busy_delay(delivered);
                assert!(d >= ceiling / 2 && d <= ceiling, "{delivered}: {d:?}");
            }
        }
        assert!(busy_delay(1) <= Duration::from_millis(250));
        assert!(busy_delay(1_000_000) <= BUSY_MAX);
        assert_eq!(
            BUSY_FIRST.saturating_mul(1 << 5).min(BUSY_MAX),
            BUSY_MAX,
            "the cap is reached"
        );
    }

    fn record(state: ActionState, attempts: u32) -> ActionStatusRecord {
        ActionStatusRecord {
            state: state as i32,
            attempts,
            ..Default::default()
        }
    }

    #[test]
    fn attempts_count_what_ended_not_how_often_jetstream_delivered() {
        // A first delivery never reads the record.
        assert_eq!(attempt_number(1, Err(())), 1);
        assert_eq!(attempt_number(0, Ok(None)), 1);
        // Sent back 40 times for its rate-limit turn, no attempt ended yet.
        assert_eq!(attempt_number(41, Ok(None)), 1);
        // Two attempts ended (retrying), then deferrals: the third.
        assert_eq!(
            attempt_number(9, Ok(Some(&record(ActionState::Retrying, 2)))),
            3
        );
        // Delivered but the ack was lost: counted on.
        assert_eq!(
            attempt_number(2, Ok(Some(&record(ActionState::Delivered, 1)))),
            2
        );
        // A replay of a failed action starts again at 1.
        assert_eq!(
            attempt_number(2, Ok(Some(&record(ActionState::Failed, 5)))),
            1
        );
        // Unreadable record: JetStream's count, which can only overcount.
        assert_eq!(attempt_number(7, Err(())), 7);
    }
}
