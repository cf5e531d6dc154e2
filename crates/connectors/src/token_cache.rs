//! OAuth access tokens, cached per account until shortly before they
//! expire, so a burst of actions costs one token request, not one each.
//! Generic over how a token is obtained (a JWT bearer grant for ServiceNow,
//! client credentials for the two webhook types, see `auth`): the
//! connector hands in the request, the cache keeps what came back. A token the vendor refuses (401) is dropped,
//! and a changed account (new version) never reuses its old token.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::delivery::Account;
use crate::delivery::fields::Secret;
use tokio::time::Instant;

/// How long before its expiry a token is replaced: a token that expires on
/// its way to the vendor costs a refused request.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What a token endpoint gave.
pub struct AccessToken {
    /// What goes after `Authorization: ` (`Bearer abc`).
    pub authorization: Secret,
    /// `expires_in`.
    pub lifetime: Duration,
}

/// A token to use, and whether it was just fetched (a refused fresh token
/// means the credentials are wrong, a refused cached one may only be stale).
#[derive(Debug, Clone)]
pub struct Token {
    pub authorization: Secret,
    pub fresh: bool,
}

struct Cached {
    version: i64,
    authorization: Secret,
    refresh_at: Instant,
}

/// One slot per account. The slot's async lock is held while a token is
/// fetched, so concurrent deliveries for one account wait for that one
/// request instead of each making their own.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

impl TokenCache {
    /// The account's token: the cached one while it has more than a minute
    /// left, else a new one from `fetch`, which is then cached.
    pub async fn get<E, F, Fut>(&self, account: &Account, fetch: F) -> Result<Token, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, E>>,
    {
        let slot = self.slot(&account.id);
        let mut cached = slot.lock().await;
        if let Some(entry) = cached.as_ref()
            && entry.version == account.version
            && Instant::now() < entry.refresh_at
        {
            return Ok(Token {
                authorization: entry.authorization.clone(),
                fresh: false,
            });
        }
        *cached = None;
        let token = fetch().await?;
        let keep_for = token.lifetime.saturating_sub(REFRESH_MARGIN);
        if !keep_for.is_zero() {
            *cached = Some(Cached {
                version: account.version,
                authorization: token.authorization.clone(),
                refresh_at: Instant::now() + keep_for,
            });
        }
        Ok(Token {
            authorization: token.authorization,
            fresh: true,
        })
    }

    /// Drops `token` after the vendor refused it. A newer token fetched
    /// meanwhile by another delivery stays.
    pub async fn forget(&self, account: &Account, token: &Token) {
        let slot = self.slot(&account.id);
        let mut cached = slot.lock().await;
        if cached
            .as_ref()
            .is_some_and(|entry| entry.authorization == token.authorization)
        {
            *cached = None;
        }
    }

    fn slot(&self, account_id: &str) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        let mut slots = self.slots.lock().expect("token cache lock");
        Arc::clone(slots.entry(account_id.to_owned()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::delivery::testing::account;
    use serde_json::json;

    /// A fetch that counts its calls and hands out `token-<n>`.
    async fn fetch(calls: &AtomicU32, lifetime: u64) -> Result<AccessToken, String> {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(AccessToken {
            authorization: Secret::new(format!("Bearer token-{n}")),
            lifetime: Duration::from_secs(lifetime),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn reused_until_a_minute_before_expiry() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let account = account("webhook", json!({}), json!({}));
        let first = cache.get(&account, || fetch(&calls, 1800)).await.unwrap();
        assert!(first.fresh);
        let again = cache.get(&account, || fetch(&calls, 1800)).await.unwrap();
        assert_eq!(
            (again.authorization.expose(), again.fresh),
            ("Bearer token-1", false)
        );
        tokio::time::advance(Duration::from_secs(1800 - 61)).await;
        let still = cache.get(&account, || fetch(&calls, 1800)).await.unwrap();
        assert_eq!(still.authorization.expose(), "Bearer token-1");
        tokio::time::advance(Duration::from_secs(2)).await;
        let renewed = cache.get(&account, || fetch(&calls, 1800)).await.unwrap();
        assert_eq!(
            (renewed.authorization.expose(), renewed.fresh),
            ("Bearer token-2", true)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_token_is_dropped_and_a_new_version_fetches_anew() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let mut account = account("webhook", json!({}), json!({}));
        let first = cache.get(&account, || fetch(&calls, 3600)).await.unwrap();
        cache.forget(&account, &first).await;
        let second = cache.get(&account, || fetch(&calls, 3600)).await.unwrap();
        assert_eq!(second.authorization.expose(), "Bearer token-2");
        // Forgetting a token that is no longer cached keeps the newer one.
        cache.forget(&account, &first).await;
        let kept = cache.get(&account, || fetch(&calls, 3600)).await.unwrap();
        assert_eq!(
            (kept.authorization.expose(), kept.fresh),
            ("Bearer token-2", false)
        );
        account.version += 1;
        let changed = cache.get(&account, || fetch(&calls, 3600)).await.unwrap();
        assert_eq!(changed.authorization.expose(), "Bearer token-3");
    }

    #[tokio::test]
    async fn short_lived_and_failed_fetches_are_not_cached() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let account = account("webhook", json!({}), json!({}));
        cache.get(&account, || fetch(&calls, 30)).await.unwrap();
        cache.get(&account, || fetch(&calls, 30)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let failed: Result<Token, String> = cache
            .get(&account, || async { Err("refused".to_owned()) })
            .await;
        assert_eq!(failed.unwrap_err(), "refused");
        assert!(
            cache
                .get(&account, || fetch(&calls, 3600))
                .await
                .unwrap()
                .fresh
        );
    }

    #[tokio::test]
    async fn concurrent_deliveries_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU32::new(0));
        let account = Arc::new(account("webhook", json!({}), json!({})));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, calls, account) = (cache.clone(), calls.clone(), account.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(&account, || async {
                        tokio::task::yield_now().await;
                        fetch(&calls, 3600).await
                    })
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().authorization.expose(), "Bearer token-1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
