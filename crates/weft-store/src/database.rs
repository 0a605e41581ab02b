//! The connection pools. One enum, one variant per backend: the rest of Weft never sees
//! which one it talks to except through `Backend` where SQL dialects differ.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::{DatabaseLocation, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// SQLite's `synchronous` pragma. `Full` is the durable default: with WAL, `Normal` can lose
/// the last commits on power loss (never corrupts), which a business system should not do
/// unless an operator chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    Off,
    Normal,
    #[default]
    Full,
    Extra,
}

impl FromStr for Synchronous {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Synchronous::Off),
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            "extra" => Ok(Synchronous::Extra),
            other => Err(format!("unknown synchronous mode `{other}` (expected off, normal, full or extra)")),
        }
    }
}

/// How much of an SQLite database file its readers map into memory (`PRAGMA mmap_size`).
/// Without it each connection copies every page it reads out of the OS cache into its own
/// 2 MiB page cache: a list that filters a thousand rows re-read them all on every query
/// (`pread` and its copy were most of the list's time in `perf`). Mapped, the readers share
/// the OS cache and read pages in place. The pool's readers only: the writer's pages are its
/// own, and reads by key (`lookups`) read too few pages per statement to pay for remapping
/// the file after every write.
/// The most SQLite's build allows (`SQLITE_MAX_MMAP_SIZE`, just under 2 GiB); pages past it
/// are read as before.
pub(crate) const READ_MMAP_BYTES: u64 = 0x7fff_0000;

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub location: DatabaseLocation,
    pub sqlite_synchronous: Synchronous,
    /// Upper bound of pooled connections (PostgreSQL; SQLite readers).
    pub max_connections: u32,
    /// How long to wait for the database at start and for a pooled connection later.
    pub connect_timeout: Duration,
    /// How long an SQLite writer waits for the lock before failing.
    pub busy_timeout: Duration,
}

impl StoreOptions {
    pub fn new(location: DatabaseLocation) -> Self {
        StoreOptions {
            location,
            sqlite_synchronous: Synchronous::default(),
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// PostgreSQL: the pool, and how a write's commit is made durable.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// Present with `PgCommit::FlushAfter`, absent with `Synchronous`.
    pub(crate) flusher: Option<crate::pg_flush::Flusher>,
}

/// How `Database::write` waits for durability on PostgreSQL.
///
/// Writes that append to the outbox and the audit chain hold one advisory lock until they
/// commit (`Tx::lock_event_log`), so that sequence numbers and chain links commit in order.
/// A synchronous COMMIT holds that lock through its WAL flush, which serialises every such
/// write behind one flush at a time and leaves PostgreSQL's group commit nothing to group.
/// With `FlushAfter` the COMMIT only inserts its WAL (lock released at once), and the write
/// then waits for a flush outside the lock, where concurrent writers share flushes. The
/// caller hears of its write only once it is durable, as with the SQLite writer's syncer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgCommit {
    /// COMMIT waits for its flush (the server's `synchronous_commit`).
    Synchronous,
    /// COMMIT with `synchronous_commit = off`, then a tiny transaction that writes one WAL
    /// record (`pg_logical_emit_message`) and commits at the server's `synchronous_commit`:
    /// its flush covers every earlier commit, ours included. Chosen at connect when the
    /// role may execute that function.
    FlushAfter,
}

/// SQLite: a pool of readers, and one write connection held by the writer thread.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) readers: SqlitePool,
    /// One sqlx connection, for migrations (sqlx's migrator) only.
    pub(crate) write_pool: SqlitePool,
    pub(crate) writer: crate::writer::Writer,
    /// Bumped by the writer after each commit that appended outbox events.
    pub(crate) appended: tokio::sync::watch::Receiver<u64>,
    /// Reads by key, on the calling thread (`Database::lookup`).
    pub(crate) lookups: std::sync::Arc<crate::lookups::Lookups>,
}

impl Database {
    /// Opens the pool and proves the database answers. Errors name the host (never the
    /// password) and the likely fix.
    pub async fn connect(options: &StoreOptions) -> Result<Self> {
        match &options.location {
            DatabaseLocation::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| Error::Connect {
                        backend: "SQLite",
                        target: path.display().to_string(),
                        reason: format!("cannot create folder {}: {e}", parent.display()),
                        hint: "check that the data folder (--data) is writable".into(),
                    })?;
                }
                let connect = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(options.busy_timeout)
                    .synchronous(match options.sqlite_synchronous {
                        Synchronous::Off => SqliteSynchronous::Off,
                        Synchronous::Normal => SqliteSynchronous::Normal,
                        Synchronous::Full => SqliteSynchronous::Full,
                        Synchronous::Extra => SqliteSynchronous::Extra,
                    });
                let fail = |e: sqlx::Error| Error::Connect {
                    backend: "SQLite",
                    target: path.display().to_string(),
                    reason: e.to_string(),
                    hint: "check that the data folder (--data) exists and is writable".into(),
                };
                // The write connection first: it creates the file and switches it to WAL.
                let write_pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(options.connect_timeout.max(options.busy_timeout))
                    .connect_with(connect.clone())
                    .await
                    .map_err(fail)?;
                let readers = SqlitePoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(options.connect_timeout)
                    .connect_with(connect.read_only(true).pragma("mmap_size", READ_MMAP_BYTES.to_string()))
                    .await
                    .map_err(fail)?;
                // The writer thread's own connection, with the same settings.
                let direct = {
                    let path = path.clone();
                    let options = options.clone();
                    tokio::task::spawn_blocking(move || crate::direct::DirectConn::open(&path, &options))
                        .await
                        .map_err(|e| fail(sqlx::Error::Protocol(e.to_string())))?
                        .map_err(|e| match e {
                            Error::Sql(e) => fail(e),
                            other => other,
                        })?
                };
                let (signal, appended) = tokio::sync::watch::channel(0);
                let writer = crate::writer::Writer::start(direct, tokio::runtime::Handle::current(), signal)
                    .map_err(|e| fail(sqlx::Error::Io(e)))?;
                let lookups = std::sync::Arc::new(crate::lookups::Lookups::new(path.clone(), options.clone()));
                Ok(Database::Sqlite(SqliteStore { readers, write_pool, writer, appended, lookups }))
            }
            DatabaseLocation::Postgres(url) => {
                let target = options.location.target();
                let connect = PgConnectOptions::from_str(url.as_str()).map_err(|e| Error::InvalidUrl {
                    url: options.location.redacted(),
                    reason: scrub(&e.to_string(), url),
                })?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
                    .acquire_timeout(options.connect_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| Error::Connect {
                        backend: "PostgreSQL",
                        target: target.clone(),
                        reason: scrub(&e.to_string(), url),
                        hint: postgres_hint(&e, &target),
                    })?;
                // A role that may not emit a WAL message commits synchronously, as before.
                let may_emit = sqlx::query_scalar::<_, bool>(
                    "SELECT has_function_privilege('pg_catalog.pg_logical_emit_message(boolean, text, text)', 'execute')",
                )
                .fetch_one(&pool)
                .await
                .unwrap_or(false);
                let flusher = may_emit.then(|| crate::pg_flush::Flusher::start(pool.clone()));
                Ok(Database::Postgres(PgStore { pool, flusher }))
            }
        }
    }

    /// How writes are made durable on PostgreSQL (`None` on SQLite).
    pub fn postgres_commit(&self) -> Option<PgCommit> {
        match self {
            Database::Sqlite(_) => None,
            Database::Postgres(pg) => {
                Some(if pg.flusher.is_some() { PgCommit::FlushAfter } else { PgCommit::Synchronous })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Database::Sqlite(store) => {
                sqlx::query("SELECT 1").execute(&store.readers).await?;
            }
            Database::Postgres(pg) => {
                sqlx::query("SELECT 1").execute(&pg.pool).await?;
            }
        }
        Ok(())
    }

    /// Closes every pooled connection; later calls fail. Used at shutdown (and by tests
    /// that need an unreachable database).
    pub async fn close(&self) {
        match self {
            Database::Sqlite(store) => {
                store.lookups.close();
                store.readers.close().await;
                store.writer.close().await;
                store.write_pool.close().await;
            }
            Database::Postgres(pg) => pg.pool.close().await,
        }
    }
}

fn postgres_hint(err: &sqlx::Error, target: &str) -> String {
    let text = err.to_string().to_ascii_lowercase();
    if text.contains("password authentication failed") || text.contains("authentication") {
        "check the user name and password in database_url (WEFT_DATABASE_URL)".into()
    } else if text.contains("does not exist") {
        "create the database first (e.g. `createdb weft`) or fix its name in database_url".into()
    } else if matches!(err, sqlx::Error::PoolTimedOut) || text.contains("refused") || text.contains("timed out") {
        format!(
            "is PostgreSQL running and listening on {target}? Check the host and port in database_url (WEFT_DATABASE_URL)"
        )
    } else if text.contains("failed to lookup") || text.contains("name or service not known") {
        "the host name in database_url cannot be resolved; check it for typos".into()
    } else {
        "check database_url (WEFT_DATABASE_URL) and that the server accepts connections from this host".into()
    }
}

/// Driver messages may quote the connection string; make sure no password survives.
fn scrub(message: &str, url: &url::Url) -> String {
    match url.password() {
        Some(pw) if !pw.is_empty() => message.replace(pw, "redacted"),
        _ => message.to_owned(),
    }
}
