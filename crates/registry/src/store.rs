//! Where registered accounts and routes live: SQLite by default (a file under
//! `herald-data/`, created on first start), PostgreSQL when the URL says so.
//! The two backends share every SQL statement (`$n` placeholders work on
//! both); only the migrations differ. Every write is conditional on the
//! version the caller read, which is how concurrent puts are detected.

use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::secret_box::Sealed;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the registry database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot create the directory {path} for the registry database: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("migrating the registry database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the registry database did not answer in time")]
    Unavailable(#[source] sqlx::Error),
    #[error("registry database error")]
    Database(#[source] sqlx::Error),
    #[error("stored account {id} is corrupt: {reason}")]
    Corrupt { id: String, reason: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StoreError::Unavailable(e),
            e => StoreError::Database(e),
        }
    }
}

/// An account as stored: secrets only as ciphertext.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAccount {
    pub id: String,
    pub connector_type: String,
    pub name: String,
    pub config: Map<String, Value>,
    pub secret_fields: Vec<String>,
    pub secrets: Sealed,
    /// Kibana's `exposeConfig: false`: readers see no config.
    pub config_hidden: bool,
    pub version: i64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    connector_type: String,
    name: String,
    config: String,
    secret_fields: String,
    secrets: Vec<u8>,
    key_id: String,
    config_hidden: bool,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AccountRow> for StoredAccount {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            id: row.id.clone(),
            reason,
        };
        let config =
            serde_json::from_str(&row.config).map_err(|e| corrupt(format!("config: {e}")))?;
        let secret_fields = serde_json::from_str(&row.secret_fields)
            .map_err(|e| corrupt(format!("secret_fields: {e}")))?;
        Ok(StoredAccount {
            config,
            secret_fields,
            secrets: Sealed {
                key_id: row.key_id,
                bytes: row.secrets,
            },
            id: row.id,
            connector_type: row.connector_type,
            name: row.name,
            config_hidden: row.config_hidden,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A route as stored: its document (without id and name) as JSON text,
/// which the registry reads back into a `RouteDocument`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredRoute {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub version: i64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A SELECT of every column, as the `&'static str` sqlx wants.
macro_rules! select_accounts {
    ($rest:literal) => {
        concat!(
            "SELECT id, connector_type, name, config, secret_fields, secrets, key_id, config_hidden, version, created_at, updated_at FROM accounts ",
            $rest
        )
    };
}

#[derive(Debug, Clone)]
pub enum AccountStore {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on whichever pool the store holds; the body is
/// compiled once per backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            AccountStore::Sqlite($pool) => $body,
            AccountStore::Postgres($pool) => $body,
        }
    };
}

// After `on_pool!`, which it uses.
mod deliveries;
pub use deliveries::{After, CountBy, DeliveryCount, DeliveryFilter, DeliveryRow, SeriesPoint};

impl AccountStore {
    /// Opens (creating when needed) and migrates the database at `url`:
    /// `sqlite://path`, `sqlite::memory:` or `postgres://...`.
    pub async fn connect(url: &str) -> Result<AccountStore, StoreError> {
        let open = |source| StoreError::Open {
            url: redact_url(url),
            source,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(open)?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            return Ok(AccountStore::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open)?
            .create_if_missing(true)
            // WAL lets readers run beside the writer; NORMAL sync is durable
            // across application crashes, which is what WAL mode promises.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let filename = options.get_filename();
        let in_memory =
            filename.as_os_str().is_empty() || filename.to_string_lossy().contains(":memory:");
        if !in_memory && let Some(dir) = filename.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists once per connection: keep one.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open)?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(AccountStore::Sqlite(pool))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            AccountStore::Sqlite(_) => "sqlite",
            AccountStore::Postgres(_) => "postgres",
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredAccount>, StoreError> {
        let sql = select_accounts!("WHERE id = $1");
        let row: Option<AccountRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        row.map(StoredAccount::try_from).transpose()
    }

    /// Up to `limit` accounts with an id after `after`, by id; of one type
    /// when `connector_type` is given; when `query` is not empty, only those
    /// whose id or name holds it (ASCII case-insensitive: SQLite's `LOWER`
    /// folds only ASCII, and both backends must answer alike).
    pub async fn list(
        &self,
        connector_type: Option<&str>,
        after: &str,
        query: &str,
        limit: i64,
    ) -> Result<Vec<StoredAccount>, StoreError> {
        let sql = select_accounts!(
            "WHERE ($1 = '' OR connector_type = $1) AND id > $2 \
             AND ($3 = '' OR LOWER(id) LIKE $3 ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\') \
             ORDER BY id LIMIT $4"
        );
        let pattern = like_pattern(query);
        let t = connector_type.unwrap_or("");
        let rows: Vec<AccountRow> = on_pool!(self, pool => sqlx::query_as(sql).bind(t).bind(after).bind(&pattern).bind(limit).fetch_all(pool).await?);
        rows.into_iter().map(StoredAccount::try_from).collect()
    }

    /// Inserts a new account; false when the id is already taken.
    pub async fn insert(&self, a: &StoredAccount) -> Result<bool, StoreError> {
        let sql = "INSERT INTO accounts (id, connector_type, name, config, secret_fields, secrets, key_id, version, created_at, updated_at, config_hidden) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING";
        let (config, fields) = (
            Value::Object(a.config.clone()).to_string(),
            serde_json::to_string(&a.secret_fields).expect("strings serialize"),
        );
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(&a.id).bind(&a.connector_type).bind(&a.name).bind(&config).bind(&fields)
            .bind(&a.secrets.bytes).bind(&a.secrets.key_id).bind(a.version).bind(a.created_at).bind(a.updated_at)
            .bind(a.config_hidden)
            .execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    /// Replaces the account if its stored version is still `expected`;
    /// false when someone else changed or deleted it meanwhile.
    pub async fn update(&self, a: &StoredAccount, expected: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE accounts SET connector_type = $2, name = $3, config = $4, secret_fields = $5, secrets = $6, key_id = $7, \
                   version = $8, updated_at = $9, config_hidden = $11 WHERE id = $1 AND version = $10";
        let (config, fields) = (
            Value::Object(a.config.clone()).to_string(),
            serde_json::to_string(&a.secret_fields).expect("strings serialize"),
        );
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(&a.id).bind(&a.connector_type).bind(&a.name).bind(&config).bind(&fields)
            .bind(&a.secrets.bytes).bind(&a.secrets.key_id).bind(a.version).bind(a.updated_at).bind(expected)
            .bind(a.config_hidden)
            .execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    /// Deletes the account if its stored version is still `expected`.
    pub async fn delete(&self, id: &str, expected: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM accounts WHERE id = $1 AND version = $2";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(expected).execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    /// Accounts whose secrets were sealed by a key other than `key_id`.
    pub async fn sealed_by_other_keys(
        &self,
        key_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredAccount>, StoreError> {
        let sql = select_accounts!("WHERE key_id <> $1 ORDER BY id LIMIT $2");
        let rows: Vec<AccountRow> = on_pool!(self, pool => sqlx::query_as(sql).bind(key_id).bind(limit).fetch_all(pool).await?);
        rows.into_iter().map(StoredAccount::try_from).collect()
    }

    /// Swaps the ciphertext of an unchanged account (key rotation); the
    /// version stays, since nothing a reader sees has changed.
    pub async fn reseal(
        &self,
        id: &str,
        version: i64,
        old: &Sealed,
        new: &Sealed,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE accounts SET secrets = $1, key_id = $2 WHERE id = $3 AND version = $4 AND key_id = $5";
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(&new.bytes).bind(&new.key_id).bind(id).bind(version).bind(&old.key_id)
            .execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    pub async fn get_route(&self, id: &str) -> Result<Option<StoredRoute>, StoreError> {
        let sql = "SELECT id, name, definition, version, created_at, updated_at FROM routes WHERE id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?))
    }

    /// Up to `limit` routes with an id after `after`, by id.
    pub async fn list_routes(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StoredRoute>, StoreError> {
        let sql = "SELECT id, name, definition, version, created_at, updated_at FROM routes \
                   WHERE id > $1 ORDER BY id LIMIT $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(pool).await?),
        )
    }

    /// Inserts a new route; false when the id is already taken.
    pub async fn insert_route(&self, r: &StoredRoute) -> Result<bool, StoreError> {
        let sql = "INSERT INTO routes (id, name, definition, version, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(&r.id).bind(&r.name).bind(&r.definition).bind(r.version).bind(r.created_at).bind(r.updated_at)
            .execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    /// Replaces the route if its stored version is still `expected`.
    pub async fn update_route(&self, r: &StoredRoute, expected: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE routes SET name = $2, definition = $3, version = $4, updated_at = $5 \
                   WHERE id = $1 AND version = $6";
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(&r.id).bind(&r.name).bind(&r.definition).bind(r.version).bind(r.updated_at).bind(expected)
            .execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    /// Deletes the route if its stored version is still `expected`.
    pub async fn delete_route(&self, id: &str, expected: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM routes WHERE id = $1 AND version = $2";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(expected).execute(pool).await?.rows_affected());
        Ok(done == 1)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())?);
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// `%query%`, lowercased (ASCII), with LIKE's wildcards escaped; empty for
/// an empty query (no filter).
fn like_pattern(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    p
}

/// A database URL fit for a log line: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:[redacted]{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:[redacted]@h:5432/db"
        );
        assert_eq!(
            redact_url("sqlite://herald-data/registry.db"),
            "sqlite://herald-data/registry.db"
        );
    }
}
