//! Weft's storage layer: the only crate that names a table or speaks SQL.
//!
//! SQLite (WAL, in the data folder) is the embedded default; PostgreSQL is first-class.
//! Both dialects have their own migration folder with the same migration names.
#![forbid(unsafe_code)]

mod database;
mod direct;
mod error;
pub mod kernel;
mod location;
mod lookups;
mod migrate;
mod pg_flush;
pub mod shapes;
mod statement_sizes;
mod tx;
mod writer;

pub use database::{Backend, Database, PgCommit, PgStore, SqliteStore, StoreOptions, Synchronous};
pub use direct::{DirectConn, DirectDecode, DirectRow, STATEMENT_TARGET, SqliteDirectError, SqliteValue};
pub use error::{Error, Result};
pub use location::DatabaseLocation;
pub use migrate::{MigrationPlan, MigrationStatus, PlannedMigration};
pub use statement_sizes::{MAX_ROWS, recurring_chunks};
pub use tx::{DbRow, Rendered, Tx, format_utc, now, timestamp, to_micros};
pub use writer::BoxFuture;
pub mod records;
