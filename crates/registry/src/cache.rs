//! Recently read accounts, so that the hot reads (`GetAccount`,
//! `ResolveAccount`: every action a worker delivers) skip the database.
//! Entries hold the sealed form; secrets are opened per call.
//!
//! Staleness is bounded three ways: this registry's own writes replace or
//! drop the entry at once; writes by other replicas (PostgreSQL) arrive as
//! `herald.account.changed` and drop it; and an entry older than the TTL is
//! read again, in case NATS was away.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::store::StoredAccount;

/// How long another replica's write may go unseen when NATS is down.
pub const TTL: Duration = Duration::from_secs(5);
/// Beyond this many entries the cache starts over rather than grow.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct AccountCache {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, (Arc<StoredAccount>, Instant)>,
    /// Bumped by every invalidation, so a read that started before a write
    /// cannot put the pre-write row back after it.
    epoch: u64,
}

impl AccountCache {
    pub fn get(&self, id: &str) -> Option<Arc<StoredAccount>> {
        let inner = self.inner.read().expect("cache lock");
        match inner.entries.get(id) {
            Some((account, at)) if at.elapsed() < TTL => Some(account.clone()),
            _ => None,
        }
    }

    /// The epoch to pass to [`AccountCache::fill`] after reading the database.
    pub fn epoch(&self) -> u64 {
        self.inner.read().expect("cache lock").epoch
    }

    /// Remembers a row read from the database, unless anything was
    /// invalidated since `epoch` was taken.
    pub fn fill(&self, epoch: u64, account: Arc<StoredAccount>) {
        let mut inner = self.inner.write().expect("cache lock");
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner
            .entries
            .insert(account.id.clone(), (account, Instant::now()));
    }

    pub fn invalidate(&self, id: &str) {
        let mut inner = self.inner.write().expect("cache lock");
        inner.epoch += 1;
        inner.entries.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret_box::Sealed;

    fn row(id: &str, version: i64) -> Arc<StoredAccount> {
        Arc::new(StoredAccount {
            id: id.into(),
            connector_type: "slack".into(),
            name: id.into(),
            config: Default::default(),
            secret_fields: vec![],
            secrets: Sealed {
                key_id: "k".into(),
                bytes: vec![],
            },
            config_hidden: false,
            version,
            created_at: 0,
            updated_at: 0,
        })
    }

    #[test]
    fn a_read_older_than_a_write_is_not_cached() {
        let cache = AccountCache::default();
        let before_write = cache.epoch();
        cache.invalidate("a"); // a write lands while the read is in flight
        cache.fill(before_write, row("a", 1));
        assert!(cache.get("a").is_none());
        let epoch = cache.epoch();
        cache.fill(epoch, row("a", 2));
        assert_eq!(cache.get("a").unwrap().version, 2);
        cache.invalidate("a");
        assert!(cache.get("a").is_none());
    }
}
