//! A throwaway PostgreSQL database per test, on a server that is already
//! running (the machine's own, or `HERALD_TEST_POSTGRES_URL`). PostgreSQL
//! tests are optional on a developer machine and required in CI.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// Names the server to create test databases on (a URL whose role may
/// `CREATE DATABASE`; its database is only used to connect).
pub const POSTGRES_URL_ENV: &str = "HERALD_TEST_POSTGRES_URL";

/// Set to `1` to turn "no PostgreSQL server" from a skip into a panic (CI
/// sets it, so a suite that silently skipped cannot pass).
pub const REQUIRE_POSTGRES_ENV: &str = "HERALD_TEST_REQUIRE_POSTGRES";

/// The server used when `HERALD_TEST_POSTGRES_URL` is not set: the local one,
/// with trust auth as `scripts/setup.sh` and the CI machine have it.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long a server may take to answer before it counts as absent.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long dropping a database may take before we leave it behind.
const DROP_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh database for one test, dropped on the server when this value is
/// dropped, even with connections still open to it.
///
/// Returns `None` when no server answers within ~2 s, so the test can return
/// early; panics instead when `HERALD_TEST_REQUIRE_POSTGRES=1`.
///
/// ```no_run
/// # async fn example() {
/// let Some(db) = herald_test_support::postgres_database().await else {
///     return; // no PostgreSQL here; CI requires it
/// };
/// let pool = db.pool().await;
/// sqlx::query("CREATE TABLE t (id BIGINT)").execute(&pool).await.unwrap();
/// # }
/// ```
///
/// # Panics
/// When the server answers but the database cannot be created (e.g. the role
/// lacks `CREATEDB`), and when PostgreSQL is required but absent.
pub async fn postgres_database() -> Option<PgDatabase> {
    let server_url =
        std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    match PgDatabase::create(&server_url).await {
        Ok(db) => Some(db),
        Err(unavailable) if postgres_required() => panic!(
            "{unavailable}. {REQUIRE_POSTGRES_ENV} is set, so PostgreSQL tests may not be skipped: \
             start the server (scripts/setup.sh) or point {POSTGRES_URL_ENV} at one \
             (postgres://USER:PASSWORD@HOST:PORT/postgres, a role with CREATEDB)."
        ),
        Err(unavailable) => {
            eprintln!(
                "skipping PostgreSQL test: {unavailable} (set {POSTGRES_URL_ENV} to use another \
                 server, {REQUIRE_POSTGRES_ENV}=1 to fail instead)"
            );
            None
        }
    }
}

fn postgres_required() -> bool {
    std::env::var(REQUIRE_POSTGRES_ENV)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// No PostgreSQL server could be used at the given URL.
#[derive(Debug, thiserror::Error)]
#[error("no PostgreSQL server answered at {url}: {reason}")]
pub struct PostgresUnavailable {
    /// The server URL, without its password.
    pub url: String,
    pub reason: String,
}

/// A database named `herald_test_<random>` that exists as long as this value.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl PgDatabase {
    /// Creates a fresh database on the server at `server_url`; the lower-level
    /// form of [`postgres_database`], without the environment and the skip.
    ///
    /// # Panics
    /// When the server answers but refuses to create the database.
    pub async fn create(server_url: &str) -> Result<PgDatabase, PostgresUnavailable> {
        let unavailable = |reason: String| PostgresUnavailable {
            url: redact_password(server_url),
            reason,
        };
        let mut admin =
            match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(server_url)).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(err)) => return Err(unavailable(err.to_string())),
                Err(_) => return Err(unavailable(format!("no answer within {CONNECT_TIMEOUT:?}"))),
            };

        // Made of hex digits only, so it is safe to splice into SQL (which
        // cannot take a database name as a bind parameter).
        let name = format!("herald_test_{:016x}", rand::random::<u64>());
        if let Err(err) = sqlx::raw_sql(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut admin)
            .await
        {
            panic!(
                "PostgreSQL at {} answered but could not create database {name}: {err}. \
                 Point {POSTGRES_URL_ENV} at a role with CREATEDB.",
                redact_password(server_url)
            );
        }
        let _ = admin.close().await;

        let mut url = url::Url::parse(server_url)
            .unwrap_or_else(|err| panic!("{} is not a URL: {err}", redact_password(server_url)));
        url.set_path(&format!("/{name}"));
        Ok(PgDatabase {
            name,
            url: url.into(),
            server_url: server_url.to_owned(),
        })
    }

    /// Connection URL of this database (same server, role and options as the
    /// server URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name, `herald_test_<16 hex digits>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL it was created from (the server's maintenance database).
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// A small pool connected to this database.
    ///
    /// # Panics
    /// When it cannot connect.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .connect(&self.url)
            .await
            .unwrap_or_else(|err| panic!("connecting to test database {}: {err}", self.name))
    }
}

impl Drop for PgDatabase {
    /// Drops the database, best effort (a failure is printed, not raised).
    ///
    /// It runs on a thread of its own with its own runtime, so it works
    /// whether or not the test is inside a tokio runtime, and whichever
    /// flavour (blocking a current-thread runtime's only thread is fine: the
    /// work does not need it).
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::Builder::new()
            .name(format!("drop-{name}"))
            .spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|err| err.to_string())?;
                runtime.block_on(async {
                    tokio::time::timeout(DROP_TIMEOUT, drop_database(&server_url, &name))
                        .await
                        .map_err(|_| format!("no answer within {DROP_TIMEOUT:?}"))?
                })
            });
        let outcome = match dropper {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("the dropping thread panicked".into())),
            Err(err) => Err(err.to_string()),
        };
        if let Err(reason) = outcome {
            eprintln!(
                "warning: test database {} was not dropped: {reason}",
                self.name
            );
        }
    }
}

async fn drop_database(server_url: &str, name: &str) -> Result<(), String> {
    let mut admin = PgConnection::connect(server_url)
        .await
        .map_err(|err| err.to_string())?;
    // FORCE (PostgreSQL 13+) ends sessions still open on it, e.g. a pool the
    // test did not close; older servers reject the syntax, so fall back.
    let forced = sqlx::raw_sql(AssertSqlSafe(format!(
        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
    )))
    .execute(&mut admin)
    .await;
    if forced.is_err() {
        sqlx::raw_sql(AssertSqlSafe(format!(
            r#"DROP DATABASE IF EXISTS "{name}""#
        )))
        .execute(&mut admin)
        .await
        .map_err(|err| err.to_string())?;
    }
    let _ = admin.close().await;
    Ok(())
}

fn redact_password(server_url: &str) -> String {
    match url::Url::parse(server_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.into()
        }
        Ok(url) => url.into(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}
