//! Per-account send rates (`delivery.rate_limits` in `HERALD_CONFIG`): a
//! token bucket per account that makes a delivery wait for its turn rather
//! than fail, so a burst of alerts to one Slack webhook is spread out instead
//! of being answered with 429s. The runtime asks before each send
//! (`reserve`), and a message whose turn is later goes back to JetStream
//! until then instead of waiting in the worker.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use herald_config::RateLimit;
use tokio::time::Instant;

/// How often buckets that are full again are forgotten (a new bucket starts
/// full, so forgetting them changes nothing): memory stays bounded by the
/// accounts active in the last minute, and the sweep's cost is paid once a
/// minute rather than on every call.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A reserved turn not claimed this long after it came is forgotten: its
/// message went to another replica (which keeps its own buckets) or was
/// dropped.
const RESERVATION_KEPT: Duration = Duration::from_secs(300);

/// How early a message may come back for its turn and still take it: the
/// server's redelivery delay starts after our clock read, so in practice a
/// message is never early; this only absorbs clock granularity.
const TURN_SLACK: Duration = Duration::from_millis(20);

/// One account's allowance, enforced for every connector type that has a
/// limit.
pub struct RateLimiter {
    /// By connector type: the configured limit, or else the type's default
    /// (its spec's documented vendor limit). `None` is a configured "off",
    /// which beats the default.
    limits: BTreeMap<String, Option<Limit>>,
    buckets: Mutex<Buckets>,
}

/// A usable limit: positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limit {
    per_second: f64,
    burst: f64,
}

impl Limit {
    /// `None` for "unlimited": a rate of 0 (the documented off switch), or
    /// a negative or non-finite one. A burst of 0 would never let anything
    /// through, so it counts as 1.
    fn from_config(limit: &RateLimit) -> Option<Limit> {
        (limit.per_second.is_finite() && limit.per_second > 0.0).then(|| Limit {
            per_second: limit.per_second,
            burst: f64::from(limit.burst.max(1)),
        })
    }
}

struct Buckets {
    /// By connector type, then account id: looked up without allocating.
    by_type: HashMap<String, HashMap<String, Bucket>>,
    /// Turns promised by `reserve` to messages sent back to wait, by their
    /// key (the stream sequence), with when the turn comes.
    reserved: HashMap<u64, Instant>,
    swept: Instant,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            by_type: HashMap::new(),
            reserved: HashMap::new(),
            swept: Instant::now(),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    /// May go below zero: each unit below is a send that `acquire` has
    /// already promised a later turn.
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, limit: Limit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second).min(limit.burst);
        self.updated = now;
    }

    /// How long until the bucket holds one whole token.
    fn wait_for_one(&self, limit: Limit) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / limit.per_second).max(0.0))
    }
}

impl RateLimiter {
    /// `limits` is keyed by connector type; types without an entry use
    /// their spec's default (Slack: 1 per second, bursts of 5; most
    /// others unlimited).
    pub fn new(limits: &BTreeMap<String, RateLimit>) -> RateLimiter {
        let defaults = herald_connectors::catalog()
            .all()
            .iter()
            .filter_map(|spec| {
                let limit = spec.extras.default_rate_limit?;
                let limit = RateLimit {
                    per_second: limit.per_second,
                    burst: limit.burst,
                };
                Some((spec.id.to_owned(), Limit::from_config(&limit)))
            });
        let configured = limits
            .iter()
            .map(|(kind, limit)| (kind.clone(), Limit::from_config(limit)));
        RateLimiter {
            // Configured last, so it replaces a default.
            limits: defaults.chain(configured).collect(),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// Waits until `account_id` may send one more message; returns at once
    /// when its type is unlimited. The turn is reserved when called, so
    /// waiters on one account go in the order they asked. Dropping the
    /// future while it waits gives up that turn without returning it.
    ///
    /// A long queue on one account means long waits here: a caller holding
    /// a scarce slot (a concurrency permit, an ack deadline) should rather
    /// ask `try_acquire` and come back later.
    pub async fn acquire(&self, connector_type: &str, account_id: &str) {
        let Some(limit) = self.limit(connector_type) else {
            return;
        };
        let wait = self.with_bucket(connector_type, account_id, limit, |bucket| {
            bucket.tokens -= 1.0;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / limit.per_second)
            }
        });
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token if one is there (`Duration::ZERO`), else returns how
    /// long until one will be, taking nothing.
    pub fn try_acquire(&self, connector_type: &str, account_id: &str) -> Duration {
        let Some(limit) = self.limit(connector_type) else {
            return Duration::ZERO;
        };
        self.with_bucket(connector_type, account_id, limit, |bucket| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                Duration::ZERO
            } else {
                bucket.wait_for_one(limit)
            }
        })
    }

    /// The turn of message `key` (its stream sequence: the same on every
    /// redelivery) to send for `account_id`: `Duration::ZERO` is now (the
    /// token is taken), anything else is how long until its turn, which is
    /// reserved for that key, so waiters on one account go in the order they
    /// first asked however often they come back. The caller does not wait:
    /// it hands the message back to JetStream for that long.
    pub fn reserve(&self, connector_type: &str, account_id: &str, key: u64) -> Duration {
        let Some(limit) = self.limit(connector_type) else {
            return Duration::ZERO;
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if let Some(&turn) = buckets.reserved.get(&key) {
            if turn <= now + TURN_SLACK {
                buckets.reserved.remove(&key);
                return Duration::ZERO;
            }
            return turn - now;
        }
        drop(buckets);
        let wait = self.with_bucket(connector_type, account_id, limit, |bucket| {
            bucket.tokens -= 1.0;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / limit.per_second)
            }
        });
        if !wait.is_zero() {
            let mut buckets = self.buckets.lock().expect("rate limiter lock");
            buckets.reserved.insert(key, now + wait);
        }
        wait
    }

    fn limit(&self, connector_type: &str) -> Option<Limit> {
        self.limits.get(connector_type).copied().flatten()
    }

    fn with_bucket<T>(
        &self,
        connector_type: &str,
        account_id: &str,
        limit: Limit,
        take: impl FnOnce(&mut Bucket) -> T,
    ) -> T {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if now.saturating_duration_since(buckets.swept) >= SWEEP_EVERY {
            buckets.sweep(now, |kind| self.limit(kind));
        }
        let buckets = &mut *buckets;
        let accounts = match buckets.by_type.get_mut(connector_type) {
            Some(accounts) => accounts,
            None => buckets
                .by_type
                .entry(connector_type.to_owned())
                .or_default(),
        };
        let bucket = match accounts.get_mut(account_id) {
            Some(bucket) => bucket,
            None => accounts.entry(account_id.to_owned()).or_insert(Bucket {
                tokens: limit.burst,
                updated: now,
            }),
        };
        bucket.refill(limit, now);
        take(bucket)
    }
}

impl Buckets {
    /// Forgets the buckets that are full again, and turns long unclaimed.
    fn sweep(&mut self, now: Instant, limit_of: impl Fn(&str) -> Option<Limit>) {
        self.swept = now;
        self.reserved
            .retain(|_, turn| now.saturating_duration_since(*turn) < RESERVATION_KEPT);
        self.by_type.retain(|kind, accounts| {
            match limit_of(kind) {
                Some(limit) => accounts.retain(|_, bucket| {
                    bucket.refill(limit, now);
                    bucket.tokens < limit.burst
                }),
                None => accounts.clear(),
            }
            !accounts.is_empty()
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_type.values().map(HashMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: &[(&str, f64, u32)]) -> BTreeMap<String, RateLimit> {
        entries
            .iter()
            .map(|(kind, per_second, burst)| {
                (
                    kind.to_string(),
                    RateLimit {
                        per_second: *per_second,
                        burst: *burst,
                    },
                )
            })
            .collect()
    }

    /// Runs `acquire` and reports how long it waited (paused time).
    async fn waited(limiter: &RateLimiter, kind: &str, account: &str) -> Duration {
        let start = Instant::now();
        limiter.acquire(kind, account).await;
        start.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn slack_default_bursts_then_spaces() {
        let limiter = RateLimiter::new(&BTreeMap::new());
        for _ in 0..5 {
            assert_eq!(waited(&limiter, "slack", "a").await, Duration::ZERO);
        }
        assert_eq!(waited(&limiter, "slack", "a").await, Duration::from_secs(1));
        assert_eq!(waited(&limiter, "slack", "a").await, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_types_never_wait() {
        let limiter = RateLimiter::new(&BTreeMap::new());
        for _ in 0..10_000 {
            assert_eq!(limiter.try_acquire("webhook", "a"), Duration::ZERO);
        }
        let unlimited = herald_connectors::catalog()
            .all()
            .iter()
            .filter(|spec| spec.extras.default_rate_limit.is_none());
        for spec in unlimited {
            assert_eq!(waited(&limiter, spec.id, "a").await, Duration::ZERO);
        }
        assert_eq!(
            limiter.buckets.lock().unwrap().len(),
            0,
            "no bucket for unlimited types"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_have_their_own_buckets() {
        let limiter = RateLimiter::new(&limits(&[("teams", 2.0, 1)]));
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(
            limiter.try_acquire("teams", "a"),
            Duration::from_millis(500)
        );
        assert_eq!(limiter.try_acquire("teams", "b"), Duration::ZERO);
        assert_eq!(
            limiter.try_acquire("teams", "b"),
            Duration::from_millis(500)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_takes_nothing_while_waiting() {
        let limiter = RateLimiter::new(&limits(&[("teams", 4.0, 2)]));
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(
            limiter.try_acquire("teams", "a"),
            Duration::from_millis(250)
        );
        assert_eq!(
            limiter.try_acquire("teams", "a"),
            Duration::from_millis(250)
        );
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(
            limiter.try_acquire("teams", "a"),
            Duration::from_millis(150)
        );
        tokio::time::advance(Duration::from_millis(150)).await;
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        // Idle long enough, the bucket refills to its burst and no further.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(
            limiter.try_acquire("teams", "a"),
            Duration::from_millis(250)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_take_turns_in_order() {
        let limiter = std::sync::Arc::new(RateLimiter::new(&limits(&[("slack", 10.0, 1)])));
        let start = Instant::now();
        let waits: Vec<_> = (0..4)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire("slack", "a").await;
                    start.elapsed()
                })
            })
            .collect();
        let mut done = Vec::new();
        for wait in waits {
            done.push(wait.await.unwrap());
        }
        let ms: Vec<u128> = done.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 100, 200, 300]);
        // Reservations count against try_acquire too.
        assert_eq!(
            limiter.try_acquire("slack", "a"),
            Duration::from_millis(100)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reserved_turns_are_kept_for_their_message_however_often_it_comes_back() {
        let limiter = RateLimiter::new(&limits(&[("slack", 2.0, 2)]));
        // Messages 1 and 2 spend the burst; 3, 4 and 5 get turns 0.5 s apart.
        assert_eq!(limiter.reserve("slack", "a", 1), Duration::ZERO);
        assert_eq!(limiter.reserve("slack", "a", 2), Duration::ZERO);
        assert_eq!(limiter.reserve("slack", "a", 3), Duration::from_millis(500));
        assert_eq!(
            limiter.reserve("slack", "a", 4),
            Duration::from_millis(1000)
        );
        assert_eq!(
            limiter.reserve("slack", "a", 5),
            Duration::from_millis(1500)
        );
        // Another account has its own bucket.
        assert_eq!(limiter.reserve("slack", "b", 6), Duration::ZERO);
        // Back too early, message 4 keeps its place rather than queueing again.
        tokio::time::advance(Duration::from_millis(400)).await;
        assert_eq!(limiter.reserve("slack", "a", 4), Duration::from_millis(600));
        // Message 3 on time takes its turn; a newcomer queues behind 5.
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(limiter.reserve("slack", "a", 3), Duration::ZERO);
        assert_eq!(
            limiter.reserve("slack", "a", 7),
            Duration::from_millis(1500)
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(limiter.reserve("slack", "a", 4), Duration::ZERO);
        // Late is fine too; a claimed turn is not claimed twice.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(limiter.reserve("slack", "a", 5), Duration::ZERO);
        assert_eq!(limiter.reserve("slack", "a", 7), Duration::ZERO);
        assert!(limiter.buckets.lock().unwrap().reserved.is_empty());
        // Unlimited types never reserve anything.
        for key in 100..200 {
            assert_eq!(limiter.reserve("teams", "a", key), Duration::ZERO);
        }
        assert!(limiter.buckets.lock().unwrap().reserved.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn unclaimed_turns_are_forgotten() {
        let limiter = RateLimiter::new(&limits(&[("slack", 1.0, 1)]));
        assert_eq!(limiter.reserve("slack", "a", 1), Duration::ZERO);
        assert_eq!(limiter.reserve("slack", "a", 2), Duration::from_secs(1));
        // Message 2 went to another replica and never comes back here.
        tokio::time::advance(RESERVATION_KEPT + Duration::from_secs(2)).await;
        assert_eq!(limiter.reserve("slack", "a", 3), Duration::ZERO);
        assert!(limiter.buckets.lock().unwrap().reserved.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn configured_limit_beats_the_slack_default() {
        let limiter = RateLimiter::new(&limits(&[("slack", 10.0, 1)]));
        assert_eq!(limiter.try_acquire("slack", "a"), Duration::ZERO);
        assert_eq!(
            limiter.try_acquire("slack", "a"),
            Duration::from_millis(100)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_rate_turns_the_limit_off() {
        let limiter = RateLimiter::new(&limits(&[("slack", 0.0, 5), ("teams", f64::NAN, 1)]));
        for _ in 0..100 {
            assert_eq!(waited(&limiter, "slack", "a").await, Duration::ZERO);
            assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn zero_burst_still_sends() {
        let limiter = RateLimiter::new(&limits(&[("teams", 1.0, 0)]));
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::ZERO);
        assert_eq!(limiter.try_acquire("teams", "a"), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_full_buckets_are_forgotten() {
        let limiter = RateLimiter::new(&BTreeMap::new());
        for n in 0..1000 {
            limiter.try_acquire("slack", &n.to_string());
        }
        // `busy` keeps sending at its rate, so its bucket never fills up.
        for _ in 0..5 {
            limiter.try_acquire("slack", "busy");
        }
        for _ in 1..SWEEP_EVERY.as_secs() {
            tokio::time::advance(Duration::from_secs(1)).await;
            assert_eq!(limiter.try_acquire("slack", "busy"), Duration::ZERO);
        }
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1001);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(limiter.try_acquire("slack", "busy"), Duration::ZERO);
        let buckets = limiter.buckets.lock().unwrap();
        assert_eq!(buckets.len(), 1, "only `busy` is left");
        assert!(buckets.by_type["slack"].contains_key("busy"));
        drop(buckets);
        assert_eq!(limiter.try_acquire("slack", "busy"), Duration::from_secs(1));
    }
}
