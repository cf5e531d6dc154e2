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
use tokio::time::Instant;

/// Why a message was sent back to JetStream without an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// Its account's rate-limit turn is later.
    RateLimit,
    /// Its account has `delivery.max_in_flight_per_account` in flight.
    AccountBusy,
    /// It follows an action that has not ended yet (see `follow`).
    Opener,
}

/// Deliveries in flight per account in this process, capped for accounts
/// whose deliveries are slow.
///
/// The cap is what keeps a slow or stuck vendor from taking every permit.
/// An account whose deliveries finish quickly may go past it: it gives its
/// permits back within milliseconds, and capping it would only slow down
/// the usual busiest case, one account taking most of the traffic (its
/// messages would bounce through JetStream while permits sit idle). "Fast"
/// is proven, never assumed: the account's recent deliveries took less
/// than `FAST` on average and one finished within the last `FAST`; a new or
/// idle account starts at the cap, and one whose vendor stops answering
/// falls back to it within `FAST`.
pub struct AccountSlots {
    max: usize,
    lanes: Arc<Mutex<Lanes>>,
}

struct Lanes {
    by_account: HashMap<Arc<str>, Lane>,
    swept: Instant,
}

#[derive(Default)]
struct Lane {
    in_flight: usize,
    /// Moving average of how long its deliveries took.
    average: Option<Duration>,
    last_done: Option<Instant>,
}

impl Lane {
    fn fast(&self, now: Instant) -> bool {
        self.average.is_some_and(|a| a < FAST)
            && self
                .last_done
                .is_some_and(|done| now.saturating_duration_since(done) < FAST)
    }
}

/// Below this average, finishing this recently, an account is fast.
const FAST: Duration = Duration::from_millis(250);
/// How often lanes of idle accounts are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One delivery's slot; given back, with how long it was held, when dropped.
pub struct AccountSlot {
    account_id: Arc<str>,
    started: Instant,
    lanes: Arc<Mutex<Lanes>>,
    /// Whether a delivery used it, and so whether its time says how fast
    /// the account is.
    used: bool,
}

impl AccountSlot {
    /// Gives the slot back without a delivery (the message was deferred):
    /// its time says nothing about the vendor.
    pub fn unused(mut self) {
        self.used = false;
    }
}

impl std::fmt::Debug for AccountSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSlot")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let now = Instant::now();
        let took = now.saturating_duration_since(self.started);
        let mut lanes = self.lanes.lock().expect("account slots lock");
        if let Some(lane) = lanes.by_account.get_mut(&self.account_id) {
            lane.in_flight = lane.in_flight.saturating_sub(1);
            if !self.used {
                return;
            }
            lane.last_done = Some(now);
            // Weighted 1/8 per delivery: a few slow answers show at once.
            lane.average = Some(match lane.average {
                None => took,
                Some(average) => (average * 7 + took) / 8,
            });
        }
    }
}

impl AccountSlots {
    pub fn new(max: usize) -> AccountSlots {
        AccountSlots {
            max: max.max(1),
            lanes: Arc::new(Mutex::new(Lanes {
                by_account: HashMap::new(),
                swept: Instant::now(),
            })),
        }
    }

    /// A slot for one more delivery of `account_id`, or `None` when it has
    /// its maximum in flight and is not fast. No await: this is on every
    /// delivery's path.
    pub fn try_take(&self, account_id: &str) -> Option<AccountSlot> {
        let now = Instant::now();
        let mut lanes = self.lanes.lock().expect("account slots lock");
        if now.saturating_duration_since(lanes.swept) >= SWEEP_EVERY {
            lanes.swept = now;
            lanes.by_account.retain(|_, lane| {
                lane.in_flight > 0
                    || lane
                        .last_done
                        .is_some_and(|done| now.saturating_duration_since(done) < SWEEP_EVERY)
            });
        }
        let account_id = match lanes.by_account.get_key_value(account_id) {
            Some((key, _)) => key.clone(),
            None => {
                let key: Arc<str> = Arc::from(account_id);
                lanes.by_account.insert(key.clone(), Lane::default());
                key
            }
        };
        let lane = lanes.by_account.get_mut(&account_id).expect("just found");
        if lane.in_flight >= self.max && !lane.fast(now) {
            return None;
        }
        lane.in_flight += 1;
        drop(lanes);
        Some(AccountSlot {
            account_id,
            started: now,
            lanes: self.lanes.clone(),
            used: true,
        })
    }

    /// Deliveries of `account_id` in flight now.
    pub fn in_flight(&self, account_id: &str) -> usize {
        let lanes = self.lanes.lock().expect("account slots lock");
        lanes.by_account.get(account_id).map_or(0, |l| l.in_flight)
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
pub fn attempt_number(
    before: u32,
    delivered: u64,
    recorded: Result<Option<&ActionStatusRecord>, ()>,
) -> u32 {
    let first = before.saturating_add(1);
    if delivered <= 1 {
        return first;
    }
    match recorded {
        // A failed action's record is from before this message: only a
        // replay (a new message) delivers an action that had failed.
        Ok(Some(record)) if record.state != ActionState::Failed as i32 => {
            record.attempts.saturating_add(1).max(first)
        }
        Ok(_) => first,
        Err(()) => before.saturating_add(delivered.min(u32::MAX as u64) as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_account_at_its_cap_gets_no_slot_until_one_is_given_back() {
        let slots = AccountSlots::new(2);
        let a1 = slots.try_take("a").unwrap();
        let _a2 = slots.try_take("a").unwrap();
        // Nothing finished yet: not known to be fast.
        assert!(slots.try_take("a").is_none());
        // Other accounts are not affected.
        let b1 = slots.try_take("b").unwrap();
        assert_eq!((slots.in_flight("a"), slots.in_flight("b")), (2, 1));
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(a1);
        // Slow (2 s): still capped.
        let _a3 = slots.try_take("a").unwrap();
        assert!(slots.try_take("a").is_none());
        assert_eq!(slots.in_flight("a"), 2);
        drop(b1);
        assert_eq!(slots.in_flight("b"), 0);
        // Idle lanes are forgotten.
        tokio::time::advance(SWEEP_EVERY).await;
        let _c = slots.try_take("c").unwrap();
        let lanes = slots.lanes.lock().unwrap();
        assert!(!lanes.by_account.contains_key("b"));
        assert!(lanes.by_account.contains_key("a"), "a has slots taken");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_account_may_pass_its_cap_until_its_vendor_slows_down() {
        let slots = AccountSlots::new(2);
        // Deliveries of 10 ms: the account proves fast.
        for _ in 0..3 {
            let slot = slots.try_take("a").unwrap();
            tokio::time::advance(Duration::from_millis(10)).await;
            drop(slot);
        }
        let held: Vec<_> = (0..10).map(|_| slots.try_take("a").unwrap()).collect();
        assert_eq!(slots.in_flight("a"), 10, "past the cap of 2");
        // The vendor stops answering: nothing finishes for FAST, and the
        // account is held to its cap again.
        tokio::time::advance(FAST).await;
        assert!(slots.try_take("a").is_none());
        // They end after 2 s each: the average is slow now, so even with
        // deliveries finishing the account keeps to its cap.
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(held);
        let _a1 = slots.try_take("a").unwrap();
        let a2 = slots.try_take("a").unwrap();
        assert!(slots.try_take("a").is_none());
        // Slots given back unused (deferred messages) do not make it look
        // fast again.
        a2.unused();
        for _ in 0..20 {
            slots.try_take("a").unwrap().unused();
        }
        let _a2 = slots.try_take("a").unwrap();
        assert!(slots.try_take("a").is_none());
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
        assert_eq!(attempt_number(0, 1, Err(())), 1);
        assert_eq!(attempt_number(0, 0, Ok(None)), 1);
        // Sent back 40 times for its rate-limit turn, no attempt ended yet.
        assert_eq!(attempt_number(0, 41, Ok(None)), 1);
        // Two attempts ended (retrying), then deferrals: the third.
        assert_eq!(
            attempt_number(0, 9, Ok(Some(&record(ActionState::Retrying, 2)))),
            3
        );
        // Delivered but the ack was lost: counted on.
        assert_eq!(
            attempt_number(0, 2, Ok(Some(&record(ActionState::Delivered, 1)))),
            2
        );
        // A failed record is from before this message: the first of it.
        assert_eq!(
            attempt_number(0, 2, Ok(Some(&record(ActionState::Failed, 5)))),
            1
        );
        // Unreadable record: JetStream's count, which can only overcount.
        assert_eq!(attempt_number(0, 7, Err(())), 7);
        // A replay of an action whose five attempts ended numbers on from 6,
        // whether its record was set back to queued or not.
        assert_eq!(attempt_number(5, 1, Err(())), 6);
        assert_eq!(
            attempt_number(5, 2, Ok(Some(&record(ActionState::Failed, 5)))),
            6
        );
        assert_eq!(
            attempt_number(5, 3, Ok(Some(&record(ActionState::Retrying, 6)))),
            7
        );
        assert_eq!(
            attempt_number(5, 3, Ok(Some(&record(ActionState::Queued, 5)))),
            6
        );
        assert_eq!(attempt_number(5, 2, Err(())), 7);
    }
}
