//! SMTP delivery: one small pool of open connections per account, made of
//! lettre `AsyncSmtpConnection`s over streams we open ourselves
//! (`stream`: TCP_NODELAY, SOCKS5, our own TLS settings). A pool belongs to
//! one version of its account: a changed account gets a new pool, and the
//! old one's connections close as they come back.

pub mod failure;
mod session;
pub mod stream;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::delivery::{Account, Outcome};
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use lettre::address::Envelope;
use tokio::sync::Semaphore;

use crate::email::config::SmtpSettings;
use session::Session;

/// An idle connection older than this is closed rather than reused:
/// servers drop idle clients after a while (Postfix after 300 s), and a
/// stale connection costs a failed command.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Accounts whose pools are kept; the least recently used goes first.
const MAX_POOLS: usize = 256;

/// Every account's pool.
#[derive(Default)]
pub struct SmtpPools {
    pools: Mutex<HashMap<String, Arc<Pool>>>,
}

struct Pool {
    version: i64,
    settings: SmtpSettings,
    tls: Result<Arc<rustls::ClientConfig>, String>,
    /// At most `max_connections` sessions exist at once: busy ones hold a
    /// permit. Bounded so a burst of alerts does not open hundreds of
    /// connections that the provider would refuse or throttle.
    permits: Semaphore,
    idle: Mutex<Vec<Session>>,
    last_used: Mutex<Instant>,
}

impl SmtpPools {
    fn pool(&self, account: &Account, settings: SmtpSettings) -> Arc<Pool> {
        let mut pools = self.pools.lock().expect("SMTP pools lock");
        if let Some(pool) = pools.get(&account.id)
            && pool.version == account.version
            && pool.settings == settings
        {
            *pool.last_used.lock().expect("pool clock") = Instant::now();
            return Arc::clone(pool);
        }
        if pools.len() >= MAX_POOLS
            && !pools.contains_key(&account.id)
            && let Some(oldest) = pools
                .iter()
                .min_by_key(|(_, pool)| *pool.last_used.lock().expect("pool clock"))
                .map(|(id, _)| id.clone())
        {
            pools.remove(&oldest);
        }
        let pool = Arc::new(Pool {
            version: account.version,
            tls: tls::client_config(&settings.tls),
            permits: Semaphore::new(settings.max_connections),
            settings,
            idle: Mutex::new(Vec::new()),
            last_used: Mutex::new(Instant::now()),
        });
        pools.insert(account.id.clone(), Arc::clone(&pool));
        pool
    }

    /// Sends `message` to the envelope's recipients over one of the
    /// account's connections.
    /// Connections go only to addresses `policy` allows.
    pub async fn send(
        &self,
        account: &Account,
        settings: SmtpSettings,
        envelope: &Envelope,
        message: &[u8],
        policy: &Policy,
    ) -> Outcome {
        let pool = self.pool(account, settings);
        let server = pool.settings.server();
        let tls = match &pool.tls {
            Ok(tls) => tls,
            Err(reason) => return Outcome::permanent(ErrorKind::InvalidConfig, reason.clone()),
        };
        let _permit = pool
            .permits
            .acquire()
            .await
            .expect("pool semaphore never closed");
        let timeout = pool.settings.timeout;
        // A reused connection may have been closed by the server while
        // idle; that shows at MAIL FROM, before anything was accepted, so
        // one fresh connection may try again at once.
        if let Some(mut session) = pool.take_idle() {
            match session.send(envelope, message, timeout).await {
                Ok(()) => {
                    pool.put_back(session);
                    return Outcome::delivered();
                }
                Err(failure) if failure.stale_connection() => {}
                Err(failure) => return failure.outcome(&server),
            }
        }
        let mut session = match Session::open(&pool.settings, tls, policy).await {
            Ok(session) => session,
            Err(failure) => return failure.outcome(&server),
        };
        match session.send(envelope, message, timeout).await {
            Ok(()) => {
                pool.put_back(session);
                Outcome::delivered()
            }
            Err(failure) => failure.outcome(&server),
        }
    }
}

impl Pool {
    fn take_idle(&self) -> Option<Session> {
        let mut idle = self.idle.lock().expect("idle sessions lock");
        while let Some(session) = idle.pop() {
            if session.last_used.elapsed() < IDLE_TIMEOUT {
                return Some(session);
            }
            tokio::spawn(session.close());
        }
        None
    }

    fn put_back(&self, session: Session) {
        self.idle.lock().expect("idle sessions lock").push(session);
    }
}
