//! Naming-series counters. The increment happens in the command's transaction, so a
//! command that fails gives its number back: the series has no gaps. Concurrent writers
//! of the same series queue on the counter row (PostgreSQL) or on the one writer (SQLite).

use crate::{DbRow, Result, Tx};

/// The next number of `type_name`'s series in `period` (starting at 1).
pub async fn next(tx: &mut Tx, type_name: &str, period: &str) -> Result<i64> {
    next_n(tx, type_name, period, 1).await
}

/// Reserves `n` consecutive numbers and returns the last; the first is `last - n + 1`.
pub async fn next_n(tx: &mut Tx, type_name: &str, period: &str, n: i64) -> Result<i64> {
    const SQLITE: &str = "INSERT INTO naming_counters (type_name, period, last_value) VALUES (?, ?, ?) \
         ON CONFLICT (type_name, period) DO UPDATE SET last_value = naming_counters.last_value + excluded.last_value \
         RETURNING last_value";
    const POSTGRES: &str = "INSERT INTO naming_counters (type_name, period, last_value) VALUES ($1, $2, $3) \
         ON CONFLICT (type_name, period) DO UPDATE SET last_value = naming_counters.last_value + excluded.last_value \
         RETURNING last_value";
    let value = match tx {
        Tx::Sqlite(tx) => sqlx::query_scalar(SQLITE).bind(type_name).bind(period).bind(n).fetch_one(&mut **tx).await?,
        Tx::SqliteDirect(conn) => {
            let row = conn
                .fetch_optional(SQLITE, &[type_name.into(), period.into(), n.into()])?
                .ok_or(sqlx::Error::RowNotFound)?;
            DbRow::SqliteDirect(row).get("last_value")?
        }
        Tx::Postgres(tx) => {
            sqlx::query_scalar(POSTGRES).bind(type_name).bind(period).bind(n).fetch_one(&mut **tx).await?
        }
    };
    Ok(value)
}
