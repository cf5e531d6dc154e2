//! The streams and buckets, declared at every start with create-or-update,
//! so that an operator's changed setting (replicas, duplicate window) is
//! applied to an existing stream instead of silently ignored.
//!
//! Retention, and why:
//! - ACTIONS (`herald.action.>`): work queue. Each action is delivered by
//!   exactly one consumer (the durable of its type, filtered on its own
//!   subject) and is removed once acked or terminated; nothing else reads it,
//!   and unacked actions stay stored however long a vendor is down.
//! - EVENTS (`herald.event`): work queue, for the same reason: ingest's one
//!   durable consumer takes each event once, and events published while
//!   ingest is down wait for it.
//! - RESULTS (`herald.result.>`): limits, with a maximum age. Results are
//!   read by anyone who cares (dashboards, `heraldctl`, tests) without
//!   taking them from each other, and are history, not work.
//! - DEAD (`herald.dead.>`): limits, with no age limit: a dead letter stays
//!   until an operator replays or purges it; losing one would lose an alert.
//! - status bucket: the latest state of each action (history 1), expiring
//!   after the configured time.
//! - idempotency bucket: the action ids given to each idempotency key (and
//!   the hash of the event they were given to),
//!   kept far longer than the duplicate window, so a resubmission days later
//!   still gets the same ids and is not delivered again.
//! - alerts bucket (`herald_alerts`): each alert's lifecycle record
//!   (status, counts, the actions that opened its vendor objects), kept
//!   after its last event for the configured time.
//!
//! Size: every stream has a `max_bytes`, so that a flood cannot fill the
//! disk. What holds work (ACTIONS, EVENTS) or alerts that did not arrive
//! (DEAD) refuses new messages when full (`DiscardPolicy::New`: ingest
//! answers 503 and the producer retries, and nothing accepted is ever
//! dropped). RESULTS and both buckets drop their oldest entries instead:
//! they are records, and a full status bucket that refused writes would
//! stop ingest from accepting any event (each writes a `queued` record)
//! until its TTL freed room. An idempotency key evicted that way only
//! matters to a resubmission older than every key the bucket still holds.

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use herald_config::EnvError;

use crate::Subjects;

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error("cannot declare stream {name}: {source}")]
    Stream {
        name: String,
        source: async_nats::jetstream::context::CreateStreamError,
    },
    #[error("cannot declare bucket {name}")]
    Bucket {
        name: String,
        #[source]
        source: async_nats::jetstream::context::CreateStreamError,
    },
    #[error("cannot open stream {name}")]
    Open {
        name: String,
        #[source]
        source: async_nats::jetstream::context::GetStreamError,
    },
    #[error("cannot open bucket {name}")]
    OpenBucket {
        name: String,
        #[source]
        source: async_nats::jetstream::context::KeyValueError,
    },
}

/// Messaging settings, from the environment (see `Settings::from_env`).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub subjects: Subjects,
    /// HERALD_NATS_REPLICAS: 1 on a single server, 3 in a cluster.
    pub replicas: usize,
    /// HERALD_DUPLICATE_WINDOW: how long JetStream remembers a Nats-Msg-Id.
    pub duplicate_window: Duration,
    /// HERALD_RESULTS_MAX_AGE
    pub results_max_age: Duration,
    /// HERALD_STATUS_TTL: how long GetActionStatus can answer for an action.
    pub status_ttl: Duration,
    /// HERALD_IDEMPOTENCY_TTL: how long an idempotency key is remembered.
    pub idempotency_ttl: Duration,
    /// HERALD_ALERTS_TTL: how long an alert's record outlives its last
    /// event (each event rewrites it).
    pub alerts_ttl: Duration,
    /// The most bytes each stream stores (HERALD_*_MAX_BYTES).
    pub max_bytes: MaxBytes,
}

/// The `max_bytes` of each stream and bucket. The defaults (about 2.4 GiB
/// together) suit one node; JetStream refuses streams whose limits add up
/// to more than its store may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxBytes {
    /// HERALD_ACTIONS_MAX_BYTES (1 GiB): actions waiting for a worker.
    pub actions: i64,
    /// HERALD_EVENTS_MAX_BYTES (256 MiB): `herald.event` events waiting for ingest.
    pub events: i64,
    /// HERALD_RESULTS_MAX_BYTES (512 MiB): the oldest results go first.
    pub results: i64,
    /// HERALD_DEAD_MAX_BYTES (256 MiB): dead letters until replayed or purged.
    pub dead: i64,
    /// HERALD_STATUS_MAX_BYTES (256 MiB): the status bucket.
    pub status: i64,
    /// HERALD_IDEMPOTENCY_MAX_BYTES (128 MiB): the idempotency bucket.
    pub idempotency: i64,
    /// HERALD_ALERTS_MAX_BYTES (64 MiB): the `herald_alerts` bucket.
    pub alerts: i64,
}

impl Default for MaxBytes {
    fn default() -> Self {
        const MIB: i64 = 1024 * 1024;
        MaxBytes {
            actions: 1024 * MIB,
            events: 256 * MIB,
            results: 512 * MIB,
            dead: 256 * MIB,
            status: 256 * MIB,
            idempotency: 128 * MIB,
            alerts: 64 * MIB,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Settings {
            subjects: Subjects::new("herald"),
            replicas: 1,
            duplicate_window: Duration::from_secs(600),
            results_max_age: Duration::from_secs(7 * DAY),
            status_ttl: Duration::from_secs(7 * DAY),
            idempotency_ttl: Duration::from_secs(30 * DAY),
            alerts_ttl: Duration::from_secs(30 * DAY),
            max_bytes: MaxBytes::default(),
        }
    }
}

impl Settings {
    /// Reads HERALD_SUBJECT_PREFIX, HERALD_NATS_REPLICAS and the durations
    /// (`10m`, `7d` is written `168h`) named above.
    pub fn from_env() -> Result<Settings, EnvError> {
        let mut s = Settings::default();
        if let Ok(prefix) = std::env::var("HERALD_SUBJECT_PREFIX") {
            s.subjects = Subjects::new(prefix);
        }
        if let Ok(v) = std::env::var("HERALD_NATS_REPLICAS") {
            s.replicas = match v.parse() {
                Ok(n @ 1..=5) => n,
                _ => {
                    return Err(EnvError::new(
                        "HERALD_NATS_REPLICAS",
                        format!("`{v}` is not 1..5"),
                    ));
                }
            };
        }
        for (name, field) in [
            ("HERALD_DUPLICATE_WINDOW", &mut s.duplicate_window),
            ("HERALD_RESULTS_MAX_AGE", &mut s.results_max_age),
            ("HERALD_STATUS_TTL", &mut s.status_ttl),
            ("HERALD_IDEMPOTENCY_TTL", &mut s.idempotency_ttl),
            ("HERALD_ALERTS_TTL", &mut s.alerts_ttl),
        ] {
            if let Ok(v) = std::env::var(name) {
                *field = herald_config::parse_duration(&v).map_err(|e| EnvError::new(name, e))?;
            }
        }
        let m = &mut s.max_bytes;
        for (name, field) in [
            ("HERALD_ACTIONS_MAX_BYTES", &mut m.actions),
            ("HERALD_EVENTS_MAX_BYTES", &mut m.events),
            ("HERALD_RESULTS_MAX_BYTES", &mut m.results),
            ("HERALD_DEAD_MAX_BYTES", &mut m.dead),
            ("HERALD_STATUS_MAX_BYTES", &mut m.status),
            ("HERALD_IDEMPOTENCY_MAX_BYTES", &mut m.idempotency),
            ("HERALD_ALERTS_MAX_BYTES", &mut m.alerts),
        ] {
            if let Ok(v) = std::env::var(name) {
                *field = match v.trim().parse::<i64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(EnvError::new(
                            name,
                            format!("`{v}` is not a positive number of bytes"),
                        ));
                    }
                };
            }
        }
        Ok(s)
    }
}

/// Handles on everything declared.
#[derive(Clone)]
pub struct Declared {
    pub jetstream: jetstream::Context,
    pub actions: stream::Stream,
    pub events: stream::Stream,
    pub dead: stream::Stream,
    pub status: kv::Store,
    pub idempotency: kv::Store,
    /// `herald_alerts`: each alert's lifecycle record.
    pub alerts: kv::Store,
    pub settings: Settings,
}

pub async fn declare(
    client: async_nats::Client,
    settings: &Settings,
) -> Result<Declared, MessagingError> {
    let js = jetstream::new(client);
    let s = &settings.subjects;
    let max = &settings.max_bytes;
    // Full means "refuse new messages" unless said otherwise (see above).
    let base = |name: String, subjects: Vec<String>, retention, max_bytes| stream::Config {
        name,
        subjects,
        retention,
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        duplicate_window: settings.duplicate_window,
        max_bytes,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    };
    let actions = base(
        s.stream("ACTIONS"),
        vec![format!("{}.action.>", s.prefix())],
        stream::RetentionPolicy::WorkQueue,
        max.actions,
    );
    let events = base(
        s.stream("EVENTS"),
        vec![s.event()],
        stream::RetentionPolicy::WorkQueue,
        max.events,
    );
    let results = stream::Config {
        max_age: settings.results_max_age,
        discard: stream::DiscardPolicy::Old,
        ..base(
            s.stream("RESULTS"),
            vec![format!("{}.result.>", s.prefix())],
            stream::RetentionPolicy::Limits,
            max.results,
        )
    };
    let dead = base(
        s.stream("DEAD"),
        vec![format!("{}.dead.>", s.prefix())],
        stream::RetentionPolicy::Limits,
        max.dead,
    );
    for config in [&actions, &events, &results, &dead] {
        js.create_or_update_stream(config.clone())
            .await
            .map_err(|source| MessagingError::Stream {
                name: config.name.clone(),
                source,
            })?;
    }
    let get = |name: String| {
        let js = js.clone();
        async move {
            js.get_stream(&name)
                .await
                .map_err(|source| MessagingError::Open {
                    name: name.clone(),
                    source,
                })
        }
    };
    let status = bucket(
        &js,
        s.bucket("status"),
        settings.status_ttl,
        max.status,
        settings,
    )
    .await?;
    let idempotency = bucket(
        &js,
        s.bucket("idempotency"),
        settings.idempotency_ttl,
        max.idempotency,
        settings,
    )
    .await?;
    let alerts = bucket(
        &js,
        s.bucket("alerts"),
        settings.alerts_ttl,
        max.alerts,
        settings,
    )
    .await?;
    Ok(Declared {
        actions: get(actions.name).await?,
        events: get(events.name).await?,
        dead: get(dead.name).await?,
        jetstream: js,
        status,
        idempotency,
        alerts,
        settings: settings.clone(),
    })
}

/// A key-value bucket is a stream named `KV_<bucket>`. It is declared as
/// such, with the settings async-nats gives new buckets, because the
/// client's bucket helpers ask for account details whose reply from a 2.9
/// server it cannot parse.
async fn bucket(
    js: &jetstream::Context,
    name: String,
    max_age: Duration,
    max_bytes: i64,
    settings: &Settings,
) -> Result<kv::Store, MessagingError> {
    let config = stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age,
        max_bytes,
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        // Oldest first, see the module's comment on size.
        discard: stream::DiscardPolicy::Old,
        // A bucket's window may not exceed its max_age.
        duplicate_window: max_age.min(Duration::from_secs(120)),
        ..Default::default()
    };
    js.create_or_update_stream(config)
        .await
        .map_err(|source| MessagingError::Bucket {
            name: name.clone(),
            source,
        })?;
    js.get_key_value(name.clone())
        .await
        .map_err(|source| MessagingError::OpenBucket { name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_bytes_come_from_the_environment() {
        // nextest runs each test in a process of its own.
        // SAFETY: no other thread reads the environment meanwhile.
        unsafe {
            std::env::set_var("HERALD_ACTIONS_MAX_BYTES", "2048");
            std::env::set_var("HERALD_RESULTS_MAX_BYTES", " 4096 ");
        }
        let s = Settings::from_env().unwrap();
        assert_eq!(s.max_bytes.actions, 2048);
        assert_eq!(s.max_bytes.results, 4096);
        assert_eq!(s.max_bytes.dead, MaxBytes::default().dead);
        for bad in ["0", "-1", "1GiB"] {
            // SAFETY: as above.
            unsafe { std::env::set_var("HERALD_DEAD_MAX_BYTES", bad) };
            let error = Settings::from_env().unwrap_err().to_string();
            assert!(error.starts_with("HERALD_DEAD_MAX_BYTES: "), "{error}");
        }
    }
}
