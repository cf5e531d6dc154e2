//! The delivery history's rows: one per ended attempt, keyed by action id
//! and attempt number, so that a result delivered twice is stored once.

use super::{AccountStore, StoreError};

/// One ended attempt, as stored (times in milliseconds since the epoch).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub action_id: String,
    pub attempt: i64,
    pub event_id: String,
    pub account_id: String,
    pub connector_type: String,
    /// Empty when the action is not about an alert.
    pub alert_key: String,
    /// `delivered`, `retrying`, `failed`.
    pub state: String,
    /// `network`, `vendor_rejected`, ...; empty when delivered.
    pub error_kind: String,
    pub error: String,
    /// HTTP status or SMTP reply code; 0 when the vendor did not answer.
    pub vendor_status: i64,
    /// The first bytes of the vendor's answer (the worker never puts
    /// credentials there), capped again here.
    pub vendor_excerpt: String,
    /// JSON object of the vendor's handles.
    pub handles: String,
    pub latency_ms: i64,
    pub trace_id: String,
    pub started_at: i64,
    pub finished_at: i64,
}

/// What `GET /v1/deliveries` filters on; empty strings and zeros are "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFilter {
    pub account_id: String,
    pub connector_type: String,
    pub state: String,
    pub alert_key: String,
    /// Finished at or after (ms); 0 = any.
    pub since: i64,
    /// Finished before (ms); 0 = any.
    pub until: i64,
}

/// Where a page ends, newest first: the last row's finish time, action id
/// and attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub finished_at: i64,
    pub action_id: String,
    pub attempt: i64,
}

impl After {
    /// The page token of a page whose last row is `row`:
    /// `<finished ms>.<attempt>.<action id>`.
    pub fn token(row: &DeliveryRow) -> String {
        format!("{}.{}.{}", row.finished_at, row.attempt, row.action_id)
    }

    /// A token [`After::token`] made; `None` for anything else.
    pub fn parse(token: &str) -> Option<After> {
        let mut parts = token.splitn(3, '.');
        let finished_at = parts.next()?.parse().ok()?;
        let attempt = parts.next()?.parse().ok()?;
        let action_id = parts.next().filter(|p| !p.is_empty())?;
        Some(After {
            finished_at,
            action_id: action_id.to_owned(),
            attempt,
        })
    }
}

/// What [`AccountStore::delivery_counts`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Account,
    ConnectorType,
}

/// The attempts of one account or connector type in a window.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryCount {
    /// The account id or the connector type.
    pub key: String,
    pub delivered: i64,
    pub retrying: i64,
    pub failed: i64,
    pub avg_latency_ms: f64,
    pub max_latency_ms: i64,
}

/// The attempts that finished in one bucket of time.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SeriesPoint {
    /// The bucket's start (ms since the epoch).
    pub start: i64,
    pub delivered: i64,
    pub retrying: i64,
    pub failed: i64,
}

/// The per-state sums both aggregates select.
macro_rules! state_sums {
    () => {
        "SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) AS delivered, \
         SUM(CASE WHEN state = 'retrying' THEN 1 ELSE 0 END) AS retrying, \
         SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed"
    };
}

/// A SELECT of every column, as the `&'static str` sqlx wants.
macro_rules! select_deliveries {
    ($rest:literal) => {
        concat!(
            "SELECT action_id, attempt, event_id, account_id, connector_type, alert_key, state, ",
            "error_kind, error, vendor_status, vendor_excerpt, handles, latency_ms, trace_id, ",
            "started_at, finished_at FROM deliveries ",
            $rest
        )
    };
}

impl AccountStore {
    /// Stores `rows` with one statement; a row already stored (the same
    /// action and attempt) is left as it is. Returns how many were new.
    pub async fn insert_deliveries(&self, rows: &[DeliveryRow]) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let added = on_pool!(self, pool => {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO deliveries (action_id, attempt, event_id, account_id, connector_type, \
                 alert_key, state, error_kind, error, vendor_status, vendor_excerpt, handles, latency_ms, \
                 trace_id, started_at, finished_at) ",
            );
            insert.push_values(rows, |mut b, r| {
                b.push_bind(&r.action_id).push_bind(r.attempt).push_bind(&r.event_id)
                    .push_bind(&r.account_id).push_bind(&r.connector_type).push_bind(&r.alert_key)
                    .push_bind(&r.state).push_bind(&r.error_kind).push_bind(&r.error)
                    .push_bind(r.vendor_status).push_bind(&r.vendor_excerpt).push_bind(&r.handles)
                    .push_bind(r.latency_ms).push_bind(&r.trace_id).push_bind(r.started_at)
                    .push_bind(r.finished_at);
            });
            insert.push(" ON CONFLICT (action_id, attempt) DO NOTHING");
            insert.build().execute(pool).await?.rows_affected()
        });
        Ok(added)
    }

    /// Attempts matching `filter`, newest first, after `after`, at most `limit`.
    pub async fn deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<&After>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = select_deliveries!(
            "WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR connector_type = $2) \
             AND ($3 = '' OR state = $3) AND ($4 = '' OR alert_key = $4) \
             AND ($5 = 0 OR finished_at >= $5) AND ($6 = 0 OR finished_at < $6) \
             AND ($7 = 0 OR finished_at < $7 OR (finished_at = $7 AND (action_id < $8 OR (action_id = $8 AND attempt < $9)))) \
             ORDER BY finished_at DESC, action_id DESC, attempt DESC LIMIT $10"
        );
        let (t, a, n) = after.map_or((0, "", 0), |a| {
            (a.finished_at, a.action_id.as_str(), a.attempt)
        });
        let f = filter;
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(&f.account_id).bind(&f.connector_type).bind(&f.state).bind(&f.alert_key)
            .bind(f.since).bind(f.until).bind(t).bind(a).bind(n).bind(limit)
            .fetch_all(pool).await?);
        Ok(rows)
    }

    /// Every stored attempt of one action, first first.
    pub async fn attempts(&self, action_id: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = select_deliveries!("WHERE action_id = $1 ORDER BY attempt");
        let rows: Vec<DeliveryRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(action_id).fetch_all(pool).await?);
        Ok(rows)
    }

    /// Attempts per account or connector type that finished in
    /// `[since, until)` (ms; `until` 0 = no end), most attempts first.
    pub async fn delivery_counts(
        &self,
        by: CountBy,
        since: i64,
        until: i64,
    ) -> Result<Vec<DeliveryCount>, StoreError> {
        macro_rules! counts {
            ($column:literal) => {
                concat!(
                    "SELECT ",
                    $column,
                    " AS key, ",
                    state_sums!(),
                    ", ",
                    "CAST(AVG(latency_ms) AS DOUBLE PRECISION) AS avg_latency_ms, ",
                    "MAX(latency_ms) AS max_latency_ms FROM deliveries ",
                    "WHERE finished_at >= $1 AND ($2 = 0 OR finished_at < $2) ",
                    "GROUP BY ",
                    $column,
                    " ORDER BY COUNT(*) DESC, ",
                    $column
                )
            };
        }
        let sql = match by {
            CountBy::Account => counts!("account_id"),
            CountBy::ConnectorType => counts!("connector_type"),
        };
        let rows: Vec<DeliveryCount> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(since).bind(until).fetch_all(pool).await?);
        Ok(rows)
    }

    /// Attempts per `bucket_ms` of finish time in `[since, until)` (ms;
    /// `until` 0 = no end), oldest first; buckets without attempts are left
    /// out.
    pub async fn delivery_series(
        &self,
        since: i64,
        until: i64,
        bucket_ms: i64,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let sql = concat!(
            "SELECT (finished_at / $3) * $3 AS start, ",
            state_sums!(),
            " FROM deliveries WHERE finished_at >= $1 AND ($2 = 0 OR finished_at < $2) ",
            "GROUP BY 1 ORDER BY 1"
        );
        let rows: Vec<SeriesPoint> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(since).bind(until).bind(bucket_ms.max(1)).fetch_all(pool).await?);
        Ok(rows)
    }

    /// Deletes at most `limit` rows finished before `before` (ms); returns
    /// how many, so a pruner can go on in small batches until none is left.
    pub async fn prune_deliveries(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM deliveries WHERE (action_id, attempt) IN \
                   (SELECT action_id, attempt FROM deliveries WHERE finished_at < $1 LIMIT $2)";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(before).bind(limit)
            .execute(pool).await?.rows_affected());
        Ok(done)
    }
}
