//! The delivery history's queries, as gRPC (`herald.v1.History`), REST and
//! the console ask them: the filter checked (a known connector type, one of
//! the stored states, a window that ends after it starts), pages of
//! [`MAX_PAGE_SIZE`] at most with opaque tokens, counts over a window.

use herald_catalog::echo;
use herald_connectors::catalog;

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Registry, RegistryError};
use crate::store::{After, CountBy, DeliveryCount, DeliveryFilter, DeliveryRow, SeriesPoint};

/// The states an attempt is stored with.
pub const HISTORY_STATES: &[&str] = &["delivered", "retrying", "failed"];

/// One page of attempts, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub rows: Vec<DeliveryRow>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// The counts' window when the caller gives no start: the last hour.
const DEFAULT_WINDOW_MS: i64 = 3600 * 1000;

/// A counts window as callers give it (`until` 0 = now, no `since` = an
/// hour before the end) as `(since, end)` in milliseconds.
pub fn counts_window(since: Option<i64>, until: i64) -> (i64, i64) {
    let end = if until == 0 {
        crate::history::now_ms()
    } else {
        until
    };
    (since.unwrap_or(end - DEFAULT_WINDOW_MS), end)
}

fn bad(field: &str, message: impl Into<String>) -> RegistryError {
    RegistryError::BadQuery {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// `since` before `until`, when both are given.
fn check_window(since: i64, until: i64) -> Result<(), RegistryError> {
    if since < 0 {
        return Err(bad("since", "must not be before 1970"));
    }
    if until != 0 && until <= since {
        return Err(bad("until", "must be after since"));
    }
    Ok(())
}

impl Registry {
    /// `filter` as the store matches it: the connector type by its id (an
    /// alias such as `.slack` is accepted), the state one of
    /// [`HISTORY_STATES`].
    pub fn history_filter(
        &self,
        mut filter: DeliveryFilter,
    ) -> Result<DeliveryFilter, RegistryError> {
        if !filter.connector_type.is_empty() {
            filter.connector_type = catalog()
                .get(&filter.connector_type)
                .map(|spec| spec.id.to_owned())
                .ok_or_else(|| {
                    bad(
                        "connector_type",
                        format!("unknown connector type {}", echo(&filter.connector_type)),
                    )
                })?;
        }
        if !filter.state.is_empty() && !HISTORY_STATES.contains(&filter.state.as_str()) {
            return Err(bad(
                "state",
                format!("one of {}", HISTORY_STATES.join(", ")),
            ));
        }
        check_window(filter.since, filter.until)?;
        Ok(filter)
    }

    /// Attempts matching `filter`, newest first: `page_size` of them (0
    /// means 100) after the page `page_token` ended.
    pub async fn deliveries(
        &self,
        filter: DeliveryFilter,
        page_size: usize,
        page_token: &str,
    ) -> Result<HistoryPage, RegistryError> {
        let filter = self.history_filter(filter)?;
        let page_size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n > MAX_PAGE_SIZE => {
                return Err(bad("page_size", format!("must be 1..{MAX_PAGE_SIZE}")));
            }
            n => n,
        };
        let after = match page_token {
            "" => None,
            token => Some(
                After::parse(token)
                    .ok_or_else(|| bad("page_token", "not a page token this API gave"))?,
            ),
        };
        let mut rows = self
            .store()
            .deliveries(&filter, after.as_ref(), page_size as i64 + 1)
            .await?;
        let next_page_token = if rows.len() > page_size {
            rows.truncate(page_size);
            rows.last().map(After::token).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(HistoryPage {
            rows,
            next_page_token,
        })
    }

    /// Every stored attempt of one action, first first.
    pub async fn attempts(&self, action_id: &str) -> Result<Vec<DeliveryRow>, RegistryError> {
        let rows = self.store().attempts(action_id).await?;
        if rows.is_empty() {
            return Err(RegistryError::NoAttempts(action_id.to_owned()));
        }
        Ok(rows)
    }

    /// Attempts per account or connector type that finished in
    /// `[since, until)` (ms; `until` 0 = now), most attempts first.
    pub async fn delivery_counts(
        &self,
        by: CountBy,
        since: i64,
        until: i64,
    ) -> Result<Vec<DeliveryCount>, RegistryError> {
        check_window(since, until)?;
        Ok(self.store().delivery_counts(by, since, until).await?)
    }

    /// Attempts per `bucket_ms` in `[since, until)`, oldest first; buckets
    /// without attempts are left out.
    pub async fn delivery_series(
        &self,
        since: i64,
        until: i64,
        bucket_ms: i64,
    ) -> Result<Vec<SeriesPoint>, RegistryError> {
        check_window(since, until)?;
        if bucket_ms < 1000 {
            return Err(bad("bucket", "must be at least a second"));
        }
        Ok(self
            .store()
            .delivery_series(since, until, bucket_ms)
            .await?)
    }
}
