//! The SQLite write connection, held directly (rusqlite) by the writer thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own and hands each statement
//! across threads and back; a unit of work that awaits ten statements in turn paid ten
//! round trips of thread wake-ups, several times what SQLite itself spent. The writer
//! thread owns this connection instead and runs every statement on its own stack.
//!
//! It links the same SQLite library as sqlx (one `libsqlite3-sys`, bundled), renders
//! statements with the same sea-query builder, binds values as sea-query-binder binds them
//! for sqlx, and decodes columns as sqlx's SQLite decoders do (`DirectDecode`), so a unit of
//! work reads and writes exactly what it did through sqlx. Failures become the same
//! `sqlx::Error::Database` (extended result code, SQLite's message, the same `ErrorKind`),
//! so the callers' mapping of constraint failures is unchanged.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::types::{ToSqlOutput, Value as Owned, ValueRef};
use rusqlite::{Connection, OpenFlags, Statement, ffi};
use sqlx::error::{BoxDynError, DatabaseError, ErrorKind};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description as fd;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

use crate::{Error, Result, StoreOptions, Synchronous};

/// Statements of the direct connection are reported on this target (SQL and seconds), as
/// sqlx reports its own on `sqlx::query`; nothing is timed unless a subscriber listens.
pub const STATEMENT_TARGET: &str = "weft_store::sqlite";

/// Prepared statements kept per connection (sqlx keeps 100). Each declared type has a
/// handful of statement shapes; the kernel a few dozen.
const STATEMENT_CACHE: usize = 512;

/// The writer thread's connection.
pub struct DirectConn {
    conn: Connection,
    /// Set when the transaction in progress appended outbox events; the writer takes it
    /// after the commit to wake the outbox's readers (`outbox::wakeups`).
    appended: std::sync::atomic::AtomicBool,
    /// The write-ahead log, when durability is the writer's to make (`Synchronous::Full`
    /// on a file): the connection then commits without waiting for the disk, and the
    /// writer's syncer flushes this file before any commit in it is acknowledged.
    wal: Option<std::path::PathBuf>,
}

impl fmt::Debug for DirectConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DirectConn")
    }
}

/// Pages the log may hold before the commit that passes it checkpoints (see `open`).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4_000;

impl DirectConn {
    /// Opens the write connection with the settings of sqlx's (`Database::connect`): WAL,
    /// foreign keys on, the busy timeout, the chosen `synchronous`.
    pub(crate) fn open(path: &Path, options: &StoreOptions) -> Result<DirectConn> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(convert)?;
        conn.busy_timeout(options.busy_timeout).map_err(convert)?;
        let synchronous = match options.sqlite_synchronous {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        };
        // `journal_mode` answers with a row; the others with none.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(convert)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Sql(sqlx::Error::Protocol(format!("SQLite refused WAL mode (journal_mode is {mode})"))));
        }
        // At FULL, SQLite would wait for the disk inside every COMMIT, and nothing else could
        // be written meanwhile. The writer instead commits at NORMAL (the log is written, not
        // yet flushed) and answers a batch only once its syncer has flushed the log
        // (`writer`), so the next batch is written while the last one is being flushed.
        // NORMAL keeps the flushes SQLite owes checkpoints and the log's reuse.
        let wal = match (options.sqlite_synchronous, conn.path()) {
            (Synchronous::Full, Some(file)) if !file.is_empty() => {
                Some(std::path::PathBuf::from(format!("{file}-wal")))
            }
            _ => None,
        };
        let synchronous = if wal.is_some() { "NORMAL" } else { synchronous };
        // Every unit of a batch runs in a savepoint, so SQLite copies each page a unit first
        // touches into a statement journal. By default that journal spills to a temporary
        // file past 64 KiB and every later copy is a `pwrite`: a batch of hundreds of units
        // made several times more writes to it than to the log. In memory it is a copy.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; PRAGMA temp_store = MEMORY;"
        ))
        .map_err(convert)?;
        // SQLite checkpoints the log inside the commit that takes it past this many pages, on
        // the writer's thread, which then waits for the database file's flush. At its default
        // of 1,000 pages that wait was the writer's most frequent reason to stop under a stream
        // of creates, and the hot pages (index roots, the event log's tail) were copied again
        // at every checkpoint. At 4,000 (a log of about 16 MB at most before it is reused) the
        // procurement benchmark's creates ran 15–25% faster, with the same tail latency
        // (BENCHMARKS.md, 2026-12-05).
        conn.query_row(&format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}"), [], |_| Ok(()))
            .map_err(convert)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(DirectConn { conn, appended: std::sync::atomic::AtomicBool::new(false), wal })
    }

    /// A read-only connection for reads by key on the calling thread (`lookups`). The
    /// database is in WAL mode already (the writer's connection opened it first).
    pub(crate) fn open_reader(path: &Path, options: &StoreOptions) -> Result<DirectConn> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(convert)?;
        conn.busy_timeout(options.busy_timeout).map_err(convert)?;
        // Not mapped (`mmap_size` stays 0), unlike the pool's readers. A read that finds the
        // log changed since its last one (under writes, nearly every read) drops its page cache
        // and, when mapped, unmaps the whole file, to map it again at its first page: an
        // `munmap` with its TLB shootdown and fresh page faults for a read of a handful of
        // pages. `pread`ing those pages costs less (the processes benchmark: about 20% more
        // instances/s at 64 tasks in six alternated pairs, about 15% less CPU).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(DirectConn { conn, appended: std::sync::atomic::AtomicBool::new(false), wal: None })
    }

    /// No transaction is open on the connection.
    pub(crate) fn is_idle(&self) -> bool {
        self.conn.is_autocommit()
    }

    /// The log file the writer must flush before it acknowledges a commit; `None` when
    /// SQLite's own `synchronous` setting decides.
    pub(crate) fn wal_to_flush(&self) -> Option<&Path> {
        self.wal.as_deref()
    }

    /// What `PRAGMA name` answers (tests check the connection's settings with it).
    pub fn pragma(&self, name: &str) -> Result<SqliteValue> {
        self.conn
            .query_row(&format!("PRAGMA {name}"), [], |row| Ok(SqliteValue::from(row.get_ref(0)?)))
            .map_err(convert)
    }

    /// Notes that the transaction in progress appended outbox events.
    pub(crate) fn mark_appended(&self) {
        self.appended.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the transaction just ended had appended outbox events (and forgets it).
    pub(crate) fn take_appended(&self) -> bool {
        self.appended.swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs one statement with its parameters to the end; the rows it changed.
    pub(crate) fn execute(&self, sql: &str, values: &[sea_query::Value]) -> Result<u64> {
        traced(sql, || {
            let mut stmt = self.conn.prepare_cached(sql).map_err(convert)?;
            bind(&mut stmt, values)?;
            let mut rows = stmt.raw_query();
            while rows.next().map_err(convert)?.is_some() {}
            drop(rows);
            Ok(self.conn.changes())
        })
    }

    /// Runs one statement and collects every row it returns.
    pub(crate) fn fetch_all(&self, sql: &str, values: &[sea_query::Value]) -> Result<Vec<DirectRow>> {
        self.fetch(sql, values, usize::MAX)
    }

    /// Runs one statement and keeps its first row (the rest are not read).
    pub(crate) fn fetch_optional(&self, sql: &str, values: &[sea_query::Value]) -> Result<Option<DirectRow>> {
        Ok(self.fetch(sql, values, 1)?.into_iter().next())
    }

    fn fetch(&self, sql: &str, values: &[sea_query::Value], limit: usize) -> Result<Vec<DirectRow>> {
        traced(sql, || {
            let mut stmt = self.conn.prepare_cached(sql).map_err(convert)?;
            bind(&mut stmt, values)?;
            let columns: Arc<[Box<str>]> = stmt.column_names().into_iter().map(Box::from).collect();
            let width = columns.len();
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while out.len() < limit {
                let Some(row) = rows.next().map_err(convert)? else { break };
                let mut cells = Vec::with_capacity(width);
                for i in 0..width {
                    cells.push(SqliteValue::from(row.get_ref(i).map_err(convert)?));
                }
                out.push(DirectRow { columns: columns.clone(), values: cells.into_boxed_slice() });
            }
            Ok(out)
        })
    }

    /// Runs raw SQL, possibly several statements (DDL), without caching it.
    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        traced(sql, || self.conn.execute_batch(sql).map_err(convert))
    }

    /// Runs a fixed statement without parameters, prepared once (savepoints, BEGIN, COMMIT).
    pub(crate) fn execute_static(&self, sql: &'static str) -> Result<()> {
        self.execute(sql, &[]).map(|_| ())
    }

    /// Opens the batch's transaction. `IMMEDIATE` takes the write lock now, so a wait for
    /// another process's writer happens here, under the busy timeout, rather than fail a
    /// unit halfway.
    pub(crate) fn begin(&self) -> Result<()> {
        self.execute_static("BEGIN IMMEDIATE")
    }

    pub(crate) fn commit(&self) -> Result<()> {
        self.execute_static("COMMIT")
    }

    /// Rolls back whatever transaction is open (none: nothing to do).
    pub(crate) fn rollback(&self) -> Result<()> {
        if self.conn.is_autocommit() { Ok(()) } else { self.execute_static("ROLLBACK") }
    }
}

/// Times a statement and reports it when someone listens (`--count-statements`).
fn traced<T>(sql: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
    if !tracing::enabled!(target: STATEMENT_TARGET, tracing::Level::TRACE) {
        return run();
    }
    let started = Instant::now();
    let outcome = run();
    let elapsed_secs = started.elapsed().as_secs_f64();
    tracing::trace!(target: STATEMENT_TARGET, elapsed_secs = elapsed_secs, db.statement = sql, ok = outcome.is_ok(), "statement");
    outcome
}

/// Binds sea-query's values as sea-query-binder binds them for sqlx's SQLite driver (and
/// so as sqlx's encoders store them): booleans as 0/1, UUIDs as 16-byte blobs, dates and
/// times as text in sqlx's formats.
fn bind(stmt: &mut Statement<'_>, values: &[sea_query::Value]) -> Result<()> {
    use sea_query::Value as V;
    let expected = stmt.parameter_count();
    if expected != values.len() {
        return Err(Error::Sql(sqlx::Error::Protocol(format!(
            "the statement takes {expected} parameters, {} were given",
            values.len()
        ))));
    }
    for (i, value) in values.iter().enumerate() {
        let int = |v: Option<i64>| v.map_or(ToSqlOutput::Owned(Owned::Null), |v| ToSqlOutput::Owned(Owned::Integer(v)));
        let text =
            |s: Option<String>| s.map_or(ToSqlOutput::Owned(Owned::Null), |s| ToSqlOutput::Owned(Owned::Text(s)));
        let out: ToSqlOutput<'_> = match value {
            V::Bool(v) => int(v.map(i64::from)),
            V::TinyInt(v) => int(v.map(i64::from)),
            V::SmallInt(v) => int(v.map(i64::from)),
            V::Int(v) => int(v.map(i64::from)),
            V::BigInt(v) => int(*v),
            V::TinyUnsigned(v) => int(v.map(i64::from)),
            V::SmallUnsigned(v) => int(v.map(i64::from)),
            V::Unsigned(v) => int(v.map(i64::from)),
            V::BigUnsigned(v) => match v.map(i64::try_from).transpose() {
                Ok(v) => int(v),
                Err(e) => return Err(Error::Sql(sqlx::Error::Encode(Box::new(e)))),
            },
            V::Float(v) => v.map_or(ToSqlOutput::Owned(Owned::Null), |v| ToSqlOutput::Owned(Owned::Real(f64::from(v)))),
            V::Double(v) => v.map_or(ToSqlOutput::Owned(Owned::Null), |v| ToSqlOutput::Owned(Owned::Real(v))),
            V::String(v) => match v {
                Some(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
                None => ToSqlOutput::Owned(Owned::Null),
            },
            V::Char(v) => text(v.map(String::from)),
            V::Bytes(v) => match v {
                Some(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b.as_slice())),
                None => ToSqlOutput::Owned(Owned::Null),
            },
            V::Uuid(v) => match v {
                Some(id) => ToSqlOutput::Borrowed(ValueRef::Blob(id.as_bytes().as_slice())),
                None => ToSqlOutput::Owned(Owned::Null),
            },
            V::TimeDate(v) => {
                text(v.as_deref().map(|d| d.format(&fd!("[year]-[month]-[day]"))).transpose().map_err(encode)?)
            }
            V::TimeTime(v) => text(
                v.as_deref()
                    .map(|t| t.format(&fd!("[hour]:[minute]:[second].[subsecond]")))
                    .transpose()
                    .map_err(encode)?,
            ),
            V::TimeDateTime(v) => text(
                v.as_deref()
                    .map(|t| t.format(&fd!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]")))
                    .transpose()
                    .map_err(encode)?,
            ),
            V::TimeDateTimeWithTimeZone(v) => {
                text(v.as_deref().map(|t| t.format(&Rfc3339)).transpose().map_err(encode)?)
            }
        };
        stmt.raw_bind_parameter(i + 1, out).map_err(convert)?;
    }
    Ok(())
}

fn encode(e: time::error::Format) -> Error {
    Error::Sql(sqlx::Error::Encode(Box::new(e)))
}

/// A failure of SQLite, as sqlx's `SqliteError` presents it: the extended result code, the
/// message, and the same `ErrorKind` for constraint failures.
#[derive(Debug)]
pub struct SqliteDirectError {
    code: i32,
    message: String,
}

impl fmt::Display for SqliteDirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteDirectError {}

impl DatabaseError for SqliteDirectError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// rusqlite's errors as the store's (see `SqliteDirectError`).
pub(crate) fn convert(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let code = failure.extended_code;
            let message = message.unwrap_or_else(|| ffi::code_to_str(code).to_owned());
            Error::Sql(sqlx::Error::Database(Box::new(SqliteDirectError { code, message })))
        }
        other => Error::Sql(sqlx::Error::Protocol(other.to_string())),
    }
}

/// One column value as SQLite returned it (its storage class). Text is kept as bytes:
/// decoding it as a string checks UTF-8 then, as sqlx does.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(Box<[u8]>),
    Blob(Box<[u8]>),
}

impl From<ValueRef<'_>> for SqliteValue {
    fn from(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Null => SqliteValue::Null,
            ValueRef::Integer(i) => SqliteValue::Integer(i),
            ValueRef::Real(f) => SqliteValue::Real(f),
            ValueRef::Text(t) => SqliteValue::Text(t.into()),
            ValueRef::Blob(b) => SqliteValue::Blob(b.into()),
        }
    }
}

impl SqliteValue {
    fn type_name(&self) -> &'static str {
        match self {
            SqliteValue::Null => "NULL",
            SqliteValue::Integer(_) => "INTEGER",
            SqliteValue::Real(_) => "REAL",
            SqliteValue::Text(_) => "TEXT",
            SqliteValue::Blob(_) => "BLOB",
        }
    }

    /// `sqlite3_value_int64`: what sqlx's integer decoders read (NULL reads as 0).
    fn int64(&self) -> i64 {
        match self {
            SqliteValue::Integer(i) => *i,
            _ => 0,
        }
    }

    /// `sqlite3_value_blob`: the bytes of a text or blob (empty for NULL).
    fn bytes(&self) -> &[u8] {
        match self {
            SqliteValue::Text(b) | SqliteValue::Blob(b) => b,
            _ => &[],
        }
    }

    fn text(&self) -> std::result::Result<&str, BoxDynError> {
        Ok(std::str::from_utf8(self.bytes())?)
    }
}

/// A row read by the writer thread: owned values, column names shared by the rows of one
/// statement.
#[derive(Debug, Clone)]
pub struct DirectRow {
    columns: Arc<[Box<str>]>,
    values: Box<[SqliteValue]>,
}

impl DirectRow {
    pub(crate) fn get<T: DirectDecode>(&self, column: &str) -> Result<T> {
        // As sqlx: the last column of that name wins.
        let index = self
            .columns
            .iter()
            .rposition(|c| &**c == column)
            .ok_or_else(|| Error::Sql(sqlx::Error::ColumnNotFound(column.to_owned())))?;
        T::decode_direct(&self.values[index])
            .map_err(|source| Error::Sql(sqlx::Error::ColumnDecode { index: format!("{column:?}"), source }))
    }
}

/// Decoding a column read on the direct SQLite connection, exactly as sqlx's SQLite
/// decoders decode it: the same storage classes accepted (a mismatch is an error, a NULL
/// read into a non-`Option` gives what sqlx gives), the same text formats for dates and
/// times. `DbRow::get` requires it beside sqlx's `Decode`.
pub trait DirectDecode: Sized {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError>;
}

fn mismatch<T>(rust: &str, sql: &str, value: &SqliteValue) -> std::result::Result<T, BoxDynError> {
    Err(format!(
        "mismatched types; Rust type `{rust}` (as SQL type `{sql}`) is not compatible with SQL type `{}`",
        value.type_name()
    )
    .into())
}

macro_rules! integer {
    ($($t:ty => $sql:literal),*) => {$(
        impl DirectDecode for $t {
            fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
                match value {
                    SqliteValue::Null | SqliteValue::Integer(_) => Ok(<$t>::try_from(value.int64())?),
                    _ => mismatch(stringify!($t), $sql, value),
                }
            }
        }
    )*};
}

integer!(i8 => "INTEGER", i16 => "INTEGER", i32 => "INTEGER", i64 => "INTEGER", u8 => "INTEGER", u16 => "INTEGER", u32 => "INTEGER");

impl DirectDecode for bool {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Integer(_) => Ok(value.int64() != 0),
            _ => mismatch("bool", "BOOLEAN", value),
        }
    }
}

impl DirectDecode for f64 {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null => Ok(0.0),
            SqliteValue::Real(f) => Ok(*f),
            _ => mismatch("f64", "REAL", value),
        }
    }
}

impl DirectDecode for String {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Text(_) => Ok(value.text()?.to_owned()),
            _ => mismatch("String", "TEXT", value),
        }
    }
}

impl DirectDecode for Vec<u8> {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Text(_) | SqliteValue::Blob(_) => Ok(value.bytes().to_vec()),
            _ => mismatch("Vec<u8>", "BLOB", value),
        }
    }
}

impl DirectDecode for Uuid {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Text(_) | SqliteValue::Blob(_) => Ok(Uuid::from_slice(value.bytes())?),
            _ => mismatch("uuid::Uuid", "BLOB", value),
        }
    }
}

impl DirectDecode for Date {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Text(_) => Ok(Date::parse(value.text()?, &fd!("[year]-[month]-[day]"))?),
            _ => mismatch("time::Date", "DATE", value),
        }
    }
}

impl DirectDecode for Time {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null | SqliteValue::Text(_) => {
                let text = value.text()?;
                let formats = [
                    fd!("[hour]:[minute]:[second].[subsecond]"),
                    fd!("[hour]:[minute]:[second]"),
                    fd!("[hour]:[minute]"),
                ];
                formats
                    .iter()
                    .find_map(|format| Time::parse(text, format).ok())
                    .ok_or_else(|| format!("invalid time: {text}").into())
            }
            _ => mismatch("time::Time", "TIME", value),
        }
    }
}

impl DirectDecode for PrimitiveDateTime {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Text(_) => {
                let text = value.text()?;
                datetime_from_text(text).ok_or_else(|| format!("invalid datetime: {text}").into())
            }
            SqliteValue::Integer(i) => {
                let at = OffsetDateTime::from_unix_timestamp(*i)?;
                Ok(PrimitiveDateTime::new(at.date(), at.time()))
            }
            // A NULL (sqlx then goes by the column's declared type) or a REAL.
            SqliteValue::Null => Err(format!("invalid datetime: {}", value.text()?).into()),
            SqliteValue::Real(_) | SqliteValue::Blob(_) => mismatch("time::PrimitiveDateTime", "DATETIME", value),
        }
    }
}

impl DirectDecode for OffsetDateTime {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Text(_) => {
                let text = value.text()?;
                offset_datetime_from_text(text).ok_or_else(|| format!("invalid offset datetime: {text}").into())
            }
            SqliteValue::Integer(i) => Ok(OffsetDateTime::from_unix_timestamp(*i)?),
            SqliteValue::Null => Err(format!("invalid offset datetime: {}", value.text()?).into()),
            SqliteValue::Real(_) | SqliteValue::Blob(_) => mismatch("time::OffsetDateTime", "DATETIME", value),
        }
    }
}

impl<T: DirectDecode> DirectDecode for Option<T> {
    fn decode_direct(value: &SqliteValue) -> std::result::Result<Self, BoxDynError> {
        match value {
            SqliteValue::Null => Ok(None),
            value => T::decode_direct(value).map(Some),
        }
    }
}

/// sqlx-sqlite 0.8's `decode_offset_datetime_from_text`: RFC 3339, then a looser form with
/// an optional offset, then a date-time without offset taken as UTC.
fn offset_datetime_from_text(text: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let loose = fd!(
        version = 2,
        "[year]-[month]-[day][optional [ ]][optional [T]][hour]:[minute][optional [:]][optional [[second]]]\
         [optional [.]][optional [[subsecond]]][optional [[offset_hour sign:mandatory]]][optional [:]]\
         [optional [[offset_minute]]]"
    );
    if let Ok(at) = OffsetDateTime::parse(text, &loose) {
        return Some(at);
    }
    datetime_from_text(text).map(PrimitiveDateTime::assume_utc)
}

/// sqlx-sqlite 0.8's `decode_datetime_from_text`.
fn datetime_from_text(text: &str) -> Option<PrimitiveDateTime> {
    if let Ok(at) = PrimitiveDateTime::parse(text, &fd!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]")) {
        return Some(at);
    }
    let spaced = fd!(
        version = 2,
        "[year]-[month]-[day] [hour]:[minute][optional [:]][optional [[second]]][optional [.]]\
         [optional [[subsecond]]][optional [Z]]"
    );
    let t_separated = fd!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute][optional [:]][optional [[second]]][optional [.]]\
         [optional [[subsecond]]][optional [Z]]"
    );
    PrimitiveDateTime::parse(text, &spaced).or_else(|_| PrimitiveDateTime::parse(text, &t_separated)).ok()
}
