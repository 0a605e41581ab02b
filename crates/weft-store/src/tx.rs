//! One transaction over either backend. Statements are built with sea-query and rendered
//! for the backend at hand, so callers never write a dialect-specific placeholder.

use std::sync::Arc;

use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_binder::SqlxBinder;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Sqlite, Transaction};

use crate::direct::{DirectConn, DirectDecode, DirectRow};
use crate::writer::BoxFuture;
use crate::{Backend, Database, Result};

/// The PostgreSQL advisory lock key of `Tx::lock_event_log` (also passed to the audit
/// append function, `audit::append_many`).
pub(crate) const EVENT_LOG_LOCK: i64 = 7_766_554_433;

pub enum Tx {
    /// A pooled SQLite connection's transaction (reads).
    Sqlite(Transaction<'static, Sqlite>),
    /// The SQLite writer thread's own connection, inside the transaction of its current
    /// batch (the writer begins, settles and commits it; see `writer`). Statements run on
    /// the calling thread: their futures complete without suspending.
    SqliteDirect(Box<DirectConn>),
    Postgres(Transaction<'static, Postgres>),
}

/// A statement rendered for a backend before its transaction: building and rendering a
/// large insert is work the caller's thread can do, leaving the SQLite writer thread (which
/// every write waits for) only the statement itself. `set_value` fills in a value known only
/// inside the transaction (a number from the naming series).
#[derive(Debug)]
pub struct Rendered {
    /// Shared with the kept text of its shape (`shapes`), when it has one.
    sql: Arc<str>,
    values: sea_query::Values,
}

impl Rendered {
    pub fn new<S: SqlxBinder>(backend: Backend, statement: &S) -> Rendered {
        let (sql, values) = match backend {
            Backend::Sqlite => statement.build_sqlx(SqliteQueryBuilder),
            Backend::Postgres => statement.build_sqlx(PostgresQueryBuilder),
        };
        Rendered { sql: Arc::from(sql), values: values.0 }
    }

    pub(crate) fn from_parts(sql: Arc<str>, values: Vec<sea_query::Value>) -> Rendered {
        Rendered { sql, values: sea_query::Values(values) }
    }

    pub fn sql(&self) -> Arc<str> {
        Arc::clone(&self.sql)
    }

    /// The bound values, in placeholder order.
    pub fn values(&self) -> &[sea_query::Value] {
        &self.values.0
    }

    /// Replaces the `index`th bound value (in placeholder order).
    pub fn set_value(&mut self, index: usize, value: sea_query::Value) {
        if let Some(slot) = self.values.0.get_mut(index) {
            *slot = value;
        }
    }
}

/// A row from either backend; `DbRow::get` decodes columns from it.
pub enum DbRow {
    Sqlite(SqliteRow),
    /// A row read on the writer thread's connection (owned values).
    SqliteDirect(DirectRow),
    Postgres(PgRow),
}

impl Database {
    /// A read-only transaction: one consistent snapshot for several reads. Writes go
    /// through `Database::write`.
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Database::Sqlite(store) => Tx::Sqlite(store.readers.begin().await?),
            Database::Postgres(pg) => Tx::Postgres(pg.pool.begin().await?),
        })
    }

    /// Runs a read statement outside any transaction.
    pub async fn fetch_all<S: SqlxBinder>(&self, statement: &S) -> Result<Vec<DbRow>> {
        Ok(match self {
            Database::Sqlite(store) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values).fetch_all(&store.readers).await?.into_iter().map(DbRow::Sqlite).collect()
            }
            Database::Postgres(pg) => {
                let pool = &pg.pool;
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values).fetch_all(pool).await?.into_iter().map(DbRow::Postgres).collect()
            }
        })
    }

    /// A read by key (a primary or unique key, or an indexed key with a handful of rows):
    /// its first row. On SQLite it runs on the calling thread (`lookups`); never use it for
    /// a scan, a count or an aggregate.
    pub async fn lookup<S: SqlxBinder>(&self, statement: &S) -> Result<Option<DbRow>> {
        match self {
            Database::Sqlite(store) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                Ok(store.lookups.with(|conn| conn.fetch_optional(&sql, &values.0.0))?.map(DbRow::SqliteDirect))
            }
            Database::Postgres(_) => self.fetch_optional(statement).await,
        }
    }

    /// `lookup` of a statement rendered already (a kept shape: `shapes`).
    pub async fn lookup_rendered(&self, statement: Rendered) -> Result<Option<DbRow>> {
        match self {
            Database::Sqlite(store) => Ok(store
                .lookups
                .with(|conn| conn.fetch_optional(&statement.sql, &statement.values.0))?
                .map(DbRow::SqliteDirect)),
            Database::Postgres(pg) => {
                let pool = &pg.pool;
                let values = sea_query_binder::SqlxValues(statement.values);
                Ok(sqlx::query_with(&statement.sql, values).fetch_optional(pool).await?.map(DbRow::Postgres))
            }
        }
    }

    /// `lookup_all` of a statement rendered already (a kept shape: `shapes`).
    pub async fn lookup_all_rendered(&self, statement: Rendered) -> Result<Vec<DbRow>> {
        match self {
            Database::Sqlite(store) => Ok(store
                .lookups
                .with(|conn| conn.fetch_all(&statement.sql, &statement.values.0))?
                .into_iter()
                .map(DbRow::SqliteDirect)
                .collect()),
            Database::Postgres(pg) => {
                let pool = &pg.pool;
                let values = sea_query_binder::SqlxValues(statement.values);
                Ok(sqlx::query_with(&statement.sql, values)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(DbRow::Postgres)
                    .collect())
            }
        }
    }

    /// The rows of a read by key (the lines of one record, the tasks of one instance): as
    /// `lookup`, all rows.
    pub async fn lookup_all<S: SqlxBinder>(&self, statement: &S) -> Result<Vec<DbRow>> {
        match self {
            Database::Sqlite(store) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                Ok(store
                    .lookups
                    .with(|conn| conn.fetch_all(&sql, &values.0.0))?
                    .into_iter()
                    .map(DbRow::SqliteDirect)
                    .collect())
            }
            Database::Postgres(_) => self.fetch_all(statement).await,
        }
    }

    pub async fn fetch_optional<S: SqlxBinder>(&self, statement: &S) -> Result<Option<DbRow>> {
        Ok(match self {
            Database::Sqlite(store) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values).fetch_optional(&store.readers).await?.map(DbRow::Sqlite)
            }
            Database::Postgres(pg) => {
                let pool = &pg.pool;
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values).fetch_optional(pool).await?.map(DbRow::Postgres)
            }
        })
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) | Tx::SqliteDirect(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn commit(self) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => tx.commit().await?,
                // (The writer commits its batches itself; this also closes the connection.)
                Tx::SqliteDirect(conn) => conn.commit()?,
                Tx::Postgres(tx) => tx.commit().await?,
            }
            Ok(())
        })
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::SqliteDirect(conn) => conn.rollback()?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Executes a statement and returns the number of rows it affected.
    pub async fn execute<S: SqlxBinder>(&mut self, statement: &S) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values).execute(&mut **tx).await?.rows_affected()
            }
            Tx::SqliteDirect(conn) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                conn.execute(&sql, &values.0.0)?
            }
            Tx::Postgres(tx) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values).execute(&mut **tx).await?.rows_affected()
            }
        })
    }

    /// Runs a statement rendered for this transaction's backend.
    pub async fn execute_rendered(&mut self, statement: Rendered) -> Result<u64> {
        let values = sea_query_binder::SqlxValues(statement.values);
        Ok(match self {
            Tx::Sqlite(tx) => sqlx::query_with(&statement.sql, values).execute(&mut **tx).await?.rows_affected(),
            Tx::SqliteDirect(conn) => conn.execute(&statement.sql, &values.0.0)?,
            Tx::Postgres(tx) => sqlx::query_with(&statement.sql, values).execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// `fetch_all` of a statement rendered already (a kept shape: `shapes`).
    pub async fn fetch_all_rendered(&mut self, statement: Rendered) -> Result<Vec<DbRow>> {
        let values = sea_query_binder::SqlxValues(statement.values);
        Ok(match self {
            Tx::Sqlite(tx) => sqlx::query_with(&statement.sql, values)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
            Tx::SqliteDirect(conn) => {
                conn.fetch_all(&statement.sql, &values.0.0)?.into_iter().map(DbRow::SqliteDirect).collect()
            }
            Tx::Postgres(tx) => sqlx::query_with(&statement.sql, values)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Postgres)
                .collect(),
        })
    }

    /// `fetch_optional` of a statement rendered already (a kept shape: `shapes`).
    pub async fn fetch_optional_rendered(&mut self, statement: Rendered) -> Result<Option<DbRow>> {
        let values = sea_query_binder::SqlxValues(statement.values);
        Ok(match self {
            Tx::Sqlite(tx) => {
                sqlx::query_with(&statement.sql, values).fetch_optional(&mut **tx).await?.map(DbRow::Sqlite)
            }
            Tx::SqliteDirect(conn) => conn.fetch_optional(&statement.sql, &values.0.0)?.map(DbRow::SqliteDirect),
            Tx::Postgres(tx) => {
                sqlx::query_with(&statement.sql, values).fetch_optional(&mut **tx).await?.map(DbRow::Postgres)
            }
        })
    }

    pub async fn fetch_all<S: SqlxBinder>(&mut self, statement: &S) -> Result<Vec<DbRow>> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values).fetch_all(&mut **tx).await?.into_iter().map(DbRow::Sqlite).collect()
            }
            Tx::SqliteDirect(conn) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                conn.fetch_all(&sql, &values.0.0)?.into_iter().map(DbRow::SqliteDirect).collect()
            }
            Tx::Postgres(tx) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values).fetch_all(&mut **tx).await?.into_iter().map(DbRow::Postgres).collect()
            }
        })
    }

    pub async fn fetch_optional<S: SqlxBinder>(&mut self, statement: &S) -> Result<Option<DbRow>> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values).fetch_optional(&mut **tx).await?.map(DbRow::Sqlite)
            }
            Tx::SqliteDirect(conn) => {
                let (sql, values) = statement.build_sqlx(SqliteQueryBuilder);
                conn.fetch_optional(&sql, &values.0.0)?.map(DbRow::SqliteDirect)
            }
            Tx::Postgres(tx) => {
                let (sql, values) = statement.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values).fetch_optional(&mut **tx).await?.map(DbRow::Postgres)
            }
        })
    }

    /// Runs one statement of raw SQL (DDL rendered for this backend, savepoints).
    // Boxed futures: the writer task is spawned, and spelling out `Send` here spares the
    // compiler a higher-ranked inference it cannot make through sqlx's executors.
    pub fn execute_ddl<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => sqlx::query(sql).persistent(false).execute(&mut **tx).await.map(|_| ())?,
                Tx::SqliteDirect(conn) => conn.execute_batch(sql)?,
                Tx::Postgres(tx) => sqlx::query(sql).persistent(false).execute(&mut **tx).await.map(|_| ())?,
            }
            Ok(())
        })
    }

    /// Runs a fixed statement, prepared once per connection (savepoints run per unit of
    /// work, so they are worth caching).
    fn execute_static(&mut self, sql: &'static str) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => sqlx::query(sql).execute(&mut **tx).await.map(|_| ())?,
                Tx::SqliteDirect(conn) => conn.execute_static(sql)?,
                Tx::Postgres(tx) => sqlx::query(sql).execute(&mut **tx).await.map(|_| ())?,
            }
            Ok(())
        })
    }

    /// Sets the savepoint of one unit of work; a failed unit rolls back to it without
    /// undoing its neighbours in the same group commit.
    pub fn savepoint(&mut self) -> BoxFuture<'_, Result<()>> {
        self.execute_static("SAVEPOINT weft_unit")
    }

    pub fn release(&mut self) -> BoxFuture<'_, Result<()>> {
        self.execute_static("RELEASE SAVEPOINT weft_unit")
    }

    pub fn rollback_to(&mut self) -> BoxFuture<'_, Result<()>> {
        self.execute_static("ROLLBACK TO SAVEPOINT weft_unit")
    }

    /// Serialises the tail of concurrent PostgreSQL transactions that append to the audit
    /// chain and the outbox, so sequence numbers are handed out in commit order and no
    /// consumer can skip an event that commits late. SQLite has one writer already.
    /// `audit::append_many` takes it itself; call it before appending events alone.
    pub async fn lock_event_log(&mut self) -> Result<()> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(EVENT_LOG_LOCK).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Arranges for the outbox's readers to be woken once this transaction commits
    /// (`outbox::wakeups`): on SQLite the writer signals its own process; on PostgreSQL the
    /// outbox insert itself returns a `NOTIFY` (`outbox::render_many`), delivered at commit
    /// to every process listening (none on rollback).
    pub(crate) async fn wake_outbox_readers(&mut self) -> Result<()> {
        match self {
            Tx::SqliteDirect(conn) => conn.mark_appended(),
            // Pooled SQLite transactions are for reads.
            Tx::Postgres(_) | Tx::Sqlite(_) => {}
        }
        Ok(())
    }
}

impl DbRow {
    /// Decodes one column; the type must be readable from both backends, and from the
    /// SQLite writer's own connection exactly as sqlx reads it (`DirectDecode`).
    pub fn get<T>(&self, column: &str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, Sqlite>
            + sqlx::Type<Sqlite>
            + for<'r> sqlx::Decode<'r, Postgres>
            + sqlx::Type<Postgres>
            + DirectDecode,
    {
        use sqlx::Row;
        Ok(match self {
            DbRow::Sqlite(row) => row.try_get(column)?,
            DbRow::SqliteDirect(row) => row.get(column)?,
            DbRow::Postgres(row) => row.try_get(column)?,
        })
    }
}

/// Timestamps are bound as fixed-width UTC text on SQLite (so text order is time order and
/// indexes on them work) and as `timestamptz` on PostgreSQL. Both decode to
/// `OffsetDateTime`.
pub fn timestamp(backend: Backend, at: time::OffsetDateTime) -> sea_query::Value {
    let at = at.to_offset(time::UtcOffset::UTC);
    match backend {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(format_utc(at)))),
        Backend::Postgres => sea_query::Value::TimeDateTimeWithTimeZone(Some(Box::new(at))),
    }
}

/// A nullable timestamp bound for `backend` (`NULL` typed as the column is).
pub fn opt_timestamp(backend: Backend, at: Option<time::OffsetDateTime>) -> sea_query::Value {
    match at {
        Some(at) => timestamp(backend, at),
        None => match backend {
            Backend::Sqlite => sea_query::Value::String(None),
            Backend::Postgres => sea_query::Value::TimeDateTimeWithTimeZone(None),
        },
    }
}

/// `2026-11-25T08:00:00.123456Z`: always six fractional digits.
pub fn format_utc(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// The current time, truncated to microseconds (what both backends store).
pub fn now() -> time::OffsetDateTime {
    to_micros(time::OffsetDateTime::now_utc())
}

/// `at` as both backends store it: truncated to microseconds.
pub fn to_micros(at: time::OffsetDateTime) -> time::OffsetDateTime {
    at.replace_nanosecond(at.microsecond() * 1000).unwrap_or(at)
}
