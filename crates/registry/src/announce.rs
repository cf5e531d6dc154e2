//! Tells the rest of Herald that an account changed (`herald.account.changed`
//! with its id and version, never its content) or a route did
//! (`herald.route.changed`), so ingest and workers drop
//! their cached copy. NATS is optional for the registry: when it is down,
//! saving still works and the announcement is queued by the client until it
//! reconnects, or dropped after a short wait; caches elsewhere also expire
//! on their own.

use std::time::Duration;

use std::sync::Arc;

use futures::StreamExt;
use herald_proto::v1::{AccountChanged, RouteChanged};
use prost::Message;

use crate::cache::AccountCache;

/// How long an RPC may wait for the NATS client to take an announcement.
const PUBLISH_WAIT: Duration = Duration::from_millis(250);

pub struct Announcer {
    client: Option<async_nats::Client>,
    /// `herald` (HERALD_SUBJECT_PREFIX).
    prefix: String,
    subject: String,
    /// `herald.route.changed`
    route_subject: String,
}

impl Announcer {
    /// Connects in the background: a NATS server that is down at start
    /// delays announcements, never the registry.
    pub async fn connect(url: &str, subject_prefix: &str) -> Announcer {
        let subject = format!("{subject_prefix}.account.changed");
        let route_subject = format!("{subject_prefix}.route.changed");
        let client = async_nats::ConnectOptions::new()
            .name("herald-registry")
            .retry_on_initial_connect()
            .connect(url)
            .await;
        match client {
            Ok(client) => Announcer {
                client: Some(client),
                prefix: subject_prefix.to_owned(),
                subject,
                route_subject,
            },
            Err(error) => {
                tracing::warn!(%error, nats.url = %url, "account changes will not be announced");
                Announcer {
                    client: None,
                    prefix: subject_prefix.to_owned(),
                    subject,
                    route_subject,
                }
            }
        }
    }

    /// For a registry run without NATS at all.
    pub fn disabled() -> Announcer {
        Announcer {
            client: None,
            prefix: String::new(),
            subject: String::new(),
            route_subject: String::new(),
        }
    }

    /// The connection and the subject prefix; `None` without NATS.
    pub fn nats(&self) -> Option<(async_nats::Client, herald_messaging::Subjects)> {
        let client = self.client.clone()?;
        Some((client, herald_messaging::Subjects::new(self.prefix.clone())))
    }

    /// The DEAD stream, through the same NATS connection; `None` for a
    /// registry run without NATS.
    pub fn dead_letters(&self) -> Option<herald_messaging::dead_letters::DeadLetters> {
        let client = self.client.clone()?;
        Some(herald_messaging::dead_letters::DeadLetters::new(
            client,
            herald_messaging::Subjects::new(self.prefix.clone()),
        ))
    }

    /// Drops cached accounts that any registry replica announces as changed.
    pub fn drop_changed_from(&self, cache: Arc<AccountCache>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let subject = self.subject.clone();
        tokio::spawn(async move {
            let mut changes = match client.subscribe(subject).await {
                Ok(changes) => changes,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch account changes; cached accounts expire on their own");
                    return;
                }
            };
            while let Some(message) = changes.next().await {
                match AccountChanged::decode(message.payload) {
                    Ok(changed) => cache.invalidate(&changed.id),
                    Err(error) => {
                        tracing::warn!(%error, "undecodable account change announcement ignored")
                    }
                }
            }
        });
    }

    pub async fn route_changed(&self, id: &str, version: i64, deleted: bool) {
        let payload = RouteChanged {
            id: id.to_owned(),
            version,
            deleted,
        }
        .encode_to_vec();
        self.publish(&self.route_subject, payload, "route", id)
            .await;
    }

    pub async fn account_changed(
        &self,
        id: &str,
        version: i64,
        connector_type: &str,
        deleted: bool,
    ) {
        let payload = AccountChanged {
            id: id.to_owned(),
            version,
            deleted,
            connector_type: connector_type.to_owned(),
        }
        .encode_to_vec();
        self.publish(&self.subject, payload, "account", id).await;
    }

    async fn publish(&self, subject: &str, payload: Vec<u8>, what: &str, id: &str) {
        let Some(client) = &self.client else { return };
        match tokio::time::timeout(
            PUBLISH_WAIT,
            client.publish(subject.to_owned(), payload.into()),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, what, id, "could not announce a change")
            }
            Err(_) => {
                tracing::warn!(
                    what,
                    id,
                    "NATS is not taking messages; change not announced"
                )
            }
        }
    }
}
