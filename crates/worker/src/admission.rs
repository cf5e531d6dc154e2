//! Whether a message may start now, decided before it takes any of the
//! worker's time: its account's share of the deliveries in flight
//! (`delivery.max_in_flight_per_account`), and which attempt it is. The
//! rate limit's turn is the other half (`rate_limit`). The runtime calls
//! these; they are pure, or nearly, so the policy is tested without NATS.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_proto::v1::{ActionState, ActionStatusRecord};
use rand::Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

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
    lanes: Mutex<Lanes>,
}

struct Lanes {
    by_account: HashMap<String, Arc<Lane>>,
    swept: Instant,
}

/// One account's slots, and when one was last given back.
struct Lane {
    slots: Arc<Semaphore>,
    /// Microseconds after `epoch` (0: never).
    released: AtomicU64,
    epoch: Instant,
}

impl Lane {
    fn released_within(&self, window: Duration) -> bool {
        let released = self.released.load(Ordering::Relaxed);
        released != 0
            && self.epoch.elapsed().as_micros() as u64 <= released + window.as_micros() as u64
    }
}

/// One delivery's slot; given back when dropped.
pub struct AccountSlot {
    lane: Arc<Lane>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for AccountSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSlot").finish_non_exhaustive()
    }
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let now = (self.lane.epoch.elapsed().as_micros() as u64).max(1);
        self.lane.released.store(now, Ordering::Relaxed);
    }
}

/// An account at its cap: the message may wait briefly for a slot if the
/// account's deliveries are finishing (`wait`), else it goes back to
/// JetStream.
pub struct AccountBusy {
    lane: Option<Arc<Lane>>,
}

/// A slot given back this recently means the account's deliveries are
/// finishing quickly: a message waits for the next one (holding its permit,
/// which then is queueing, not starving anyone) rather than go back to
/// JetStream, so one busy but fast account, the usual case, costs no NAKs.
const FLOWING: Duration = Duration::from_millis(100);
/// The longest such a wait lasts before the message goes back after all.
const FLOWING_WAIT: Duration = Duration::from_millis(100);
/// How often lanes of idle accounts are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

impl AccountSlots {
    pub fn new(max: usize) -> AccountSlots {
        AccountSlots {
            max: max.max(1),
            lanes: Mutex::new(Lanes {
                by_account: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// A slot for one more delivery of `account_id` if it has fewer than
    /// its maximum in flight. No await: this is on every delivery's path.
    pub fn try_take(&self, account_id: &str) -> Result<AccountSlot, AccountBusy> {
        let lane = self.lane(account_id);
        match lane.slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(AccountSlot {
                lane,
                _permit: permit,
            }),
            Err(_) => Err(AccountBusy {
                lane: lane.released_within(FLOWING).then_some(lane),
            }),
        }
    }

    fn lane(&self, account_id: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().expect("account slots lock");
        if lanes.swept.elapsed() >= SWEEP_EVERY {
            let max = self.max;
            // A lane nobody holds (no slot taken, no waiter) is idle; a new
            // one starts the same way.
            lanes.by_account.retain(|_, lane| {
                Arc::strong_count(lane) > 1 || lane.slots.available_permits() < max
            });
            lanes.swept = Instant::now();
        }
        if let Some(lane) = lanes.by_account.get(account_id) {
            return lane.clone();
        }
        let lane = Arc::new(Lane {
            slots: Arc::new(Semaphore::new(self.max)),
            released: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        lanes.by_account.insert(account_id.to_owned(), lane.clone());
        lane
    }

    /// Deliveries of `account_id` in flight now.
    pub fn in_flight(&self, account_id: &str) -> usize {
        let lanes = self.lanes.lock().expect("account slots lock");
        lanes
            .by_account
            .get(account_id)
            .map_or(0, |lane| self.max - lane.slots.available_permits())
    }
}

impl std::fmt::Debug for AccountBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountBusy")
            .field("flowing", &self.lane.is_some())
            .finish()
    }
}

impl AccountBusy {
    /// Waits up to `FLOWING_WAIT` for a slot if the account's deliveries
    /// are finishing; `None` sends the message back to JetStream.
    pub async fn wait(self) -> Option<AccountSlot> {
        let lane = self.lane?;
        let permit = tokio::time::timeout(FLOWING_WAIT, lane.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        Some(AccountSlot {
            lane,
            _permit: permit,
        })
    }
}

/// The shortest and longest time a message of an account at its cap is
/// sent back to JetStream for.
const BUSY_FIRST: Duration = Duration::from_millis(250);
const BUSY_MAX: Duration = Duration::from_secs(5);

/// How long a message whose account is at its cap (and not finishing
/// deliveries quickly) goes back to JetStream,
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

    #[tokio::test(start_paused = true)]
    async fn an_account_at_its_cap_gets_no_slot_until_one_is_given_back() {
        let slots = AccountSlots::new(2);
        let a1 = slots.try_take("a").unwrap();
        let _a2 = slots.try_take("a").unwrap();
        let busy = slots.try_take("a").unwrap_err();
        // Nothing finished yet: a stuck vendor, so no waiting.
        assert!(busy.lane.is_none());
        assert!(busy.wait().await.is_none());
        // Other accounts are not affected.
        let b1 = slots.try_take("b").unwrap();
        assert_eq!((slots.in_flight("a"), slots.in_flight("b")), (2, 1));
        drop(a1);
        let _a3 = slots.try_take("a").unwrap();
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
    async fn a_flowing_account_waits_briefly_and_a_stuck_one_not_at_all() {
        let slots = Arc::new(AccountSlots::new(1));
        let first = slots.try_take("a").unwrap();
        drop(first);
        let held = slots.try_take("a").unwrap();
        // A slot came back just now: the next message waits for one.
        let busy = slots.try_take("a").unwrap_err();
        assert!(busy.lane.is_some());
        let waiting = tokio::spawn(busy.wait());
        tokio::time::advance(Duration::from_millis(30)).await;
        drop(held);
        let slot = waiting.await.unwrap().expect("the slot given back");
        // Nothing given back for longer than FLOWING: no waiting.
        tokio::time::advance(FLOWING + Duration::from_millis(1)).await;
        let busy = slots.try_take("a").unwrap_err();
        assert!(busy.lane.is_none(), "nothing came back lately");
        // A slot held past FLOWING_WAIT: the waiter gives up.
        drop(slot);
        let held = slots.try_take("a").unwrap();
        let busy = slots.try_take("a").unwrap_err();
        let started = Instant::now();
        assert!(busy.wait().await.is_none());
        assert_eq!(started.elapsed(), FLOWING_WAIT);
        drop(held);
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
