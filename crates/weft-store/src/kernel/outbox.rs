//! The event outbox. Every committed change appends its events here in the same
//! transaction; consumers read them in sequence order and keep a durable offset each.
//!
//! **Invariant:** sequence numbers are handed out in commit order (SQLite has one writer;
//! PostgreSQL writers take `Tx::lock_event_log` first), so a consumer that has seen `n`
//! has seen every event numbered below `n`.

use sea_query::{Expr, OnConflict, Order, Query};
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::t;
use crate::shapes::shaped_variant;
use crate::tx::{DbRow, timestamp};
use crate::{Backend, Database, Rendered, Result, Tx};

/// The PostgreSQL notification channel a commit that appended events notifies.
macro_rules! channel {
    () => {
        "weft_outbox"
    };
}
pub(crate) const CHANNEL: &str = channel!();
/// `pg_notify` on `CHANNEL`, as the PostgreSQL outbox insert returns it.
const NOTIFY: &str = concat!("pg_notify('", channel!(), "', '')");

#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Dotted snake_case: `record.created`, `record.transitioned`, `type.declared`.
    pub kind: String,
    pub type_name: String,
    pub record_id: Option<Uuid>,
    pub actor: String,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub kind: String,
    pub type_name: String,
    pub record_id: Option<Uuid>,
    pub actor: String,
    pub payload: serde_json::Value,
}

pub async fn append(tx: &mut Tx, event: &NewEvent, at: OffsetDateTime) -> Result<()> {
    append_many(tx, std::slice::from_ref(event), at).await
}

/// Appends events in order (their sequence numbers follow the slice order).
pub async fn append_many(tx: &mut Tx, events: &[NewEvent], at: OffsetDateTime) -> Result<()> {
    let statements = render_many(tx.backend(), events, at);
    append_rendered(tx, statements).await
}

/// `append_many`'s statements, rendered before the transaction so that a writer runs only
/// the statements (`append_rendered`).
pub fn render_many(backend: Backend, events: &[NewEvent], at: OffsetDateTime) -> Vec<Rendered> {
    let mut out = Vec::new();
    const COLUMNS: usize = 6;
    let stamp = timestamp(backend, at);
    for chunk in crate::recurring_chunks(events, crate::MAX_ROWS) {
        let mut values = Vec::with_capacity(chunk.len() * COLUMNS);
        for event in chunk {
            values.extend([
                stamp.clone(),
                event.kind.as_str().into(),
                event.type_name.as_str().into(),
                event.record_id.into(),
                event.actor.as_str().into(),
                event.payload.to_string().into(),
            ]);
        }
        // One shape per row count (the recurring chunk sizes keep those few).
        out.push(shaped_variant(backend, "outbox.insert", chunk.len(), values, |v| {
            let mut insert = Query::insert()
                .into_table(t("outbox"))
                .columns([t("at"), t("kind"), t("type_name"), t("record_id"), t("actor"), t("payload")])
                .to_owned();
            for row in v.chunks(COLUMNS) {
                insert.values_panic(row.iter().cloned().map(Into::into));
            }
            // PostgreSQL: the readers' wake-up (`wakeups`) rides on the insert, one round
            // trip fewer while the event log's lock is held; notifications with the same
            // channel and payload fold into one per transaction.
            if backend == Backend::Postgres {
                insert.returning(Query::returning().expr(Expr::cust(NOTIFY)));
            }
            insert
        }));
    }
    out
}

/// Appends events rendered by `render_many`.
pub async fn append_rendered(tx: &mut Tx, statements: Vec<Rendered>) -> Result<()> {
    let any = !statements.is_empty();
    for statement in statements {
        tx.execute_rendered(statement).await?;
    }
    if any {
        tx.wake_outbox_readers().await?;
    }
    Ok(())
}

/// A signal that changes soon after a commit appended events to the outbox, so a reader
/// can wait for it instead of polling: on SQLite, every commit of this process's writer;
/// on PostgreSQL, every commit of any process (`LISTEN weft_outbox`, on a connection of
/// its own held by a task that ends when the receiver is dropped or the pool closes).
/// Best effort: a reader still polls now and then, for SQLite commits of other processes
/// and for notifications lost while PostgreSQL reconnects. When the signal ends (its
/// sender dropped), `changed()` fails: poll from then on.
pub async fn wakeups(db: &Database) -> watch::Receiver<u64> {
    match db {
        Database::Sqlite(store) => store.appended.clone(),
        Database::Postgres(pg) => {
            let (signal, receiver) = watch::channel(0u64);
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pg.pool).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for outbox commits; readers poll");
                    return receiver;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for outbox commits; readers poll");
                return receiver;
            }
            tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(_) => {
                            signal.send_modify(|n| *n = n.wrapping_add(1));
                            if signal.is_closed() {
                                break;
                            }
                        }
                        Err(sqlx::Error::PoolClosed) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox notifications interrupted; retrying");
                            // Whatever was notified meanwhile is lost: let the readers look.
                            signal.send_modify(|n| *n = n.wrapping_add(1));
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            if signal.is_closed() {
                                break;
                            }
                        }
                    }
                }
            });
            receiver
        }
    }
}

/// Events after `after`, oldest first, at most `limit`.
pub async fn read_after(db: &Database, after: i64, limit: u64) -> Result<Vec<StoredEvent>> {
    let select = Query::select()
        .columns([t("seq"), t("at"), t("kind"), t("type_name"), t("record_id"), t("actor"), t("payload")])
        .from(t("outbox"))
        .and_where(Expr::col(t("seq")).gt(after))
        .order_by(t("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode).collect()
}

fn decode(row: &DbRow) -> Result<StoredEvent> {
    let payload: String = row.get("payload")?;
    Ok(StoredEvent {
        seq: row.get("seq")?,
        at: row.get("at")?,
        kind: row.get("kind")?,
        type_name: row.get("type_name")?,
        record_id: row.get("record_id")?,
        actor: row.get("actor")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}

/// The newest sequence number (0 when empty).
pub async fn head(db: &Database) -> Result<i64> {
    let select = Query::select().expr_as(Expr::col(t("seq")).max(), t("head")).from(t("outbox")).to_owned();
    let row = db.fetch_optional(&select).await?;
    Ok(match row {
        Some(row) => row.get::<Option<i64>>("head")?.unwrap_or(0),
        None => 0,
    })
}

/// A consumer's durable offset (0 when it has never run).
pub async fn offset(db: &Database, consumer: &str) -> Result<i64> {
    let select = Query::select()
        .column(t("position"))
        .from(t("consumer_offsets"))
        .and_where(Expr::col(t("name")).eq(consumer))
        .to_owned();
    Ok(match db.fetch_optional(&select).await? {
        Some(row) => row.get("position")?,
        None => 0,
    })
}

/// Moves a consumer's offset forward (never backwards), in the caller's transaction so a
/// consumer can commit its effects and its progress together.
pub async fn advance(tx: &mut Tx, consumer: &str, position: i64, at: OffsetDateTime) -> Result<()> {
    let backend = tx.backend();
    // `GREATEST` is PostgreSQL's, `MAX(a, b)` SQLite's scalar form; render per backend.
    let sql_greatest = match backend {
        crate::Backend::Sqlite => "MAX(consumer_offsets.position, excluded.position)",
        crate::Backend::Postgres => "GREATEST(consumer_offsets.position, excluded.position)",
    };
    let upsert = Query::insert()
        .into_table(t("consumer_offsets"))
        .columns([t("name"), t("position"), t("updated_at")])
        .values_panic([consumer.into(), position.into(), Expr::val(timestamp(backend, at)).into()])
        .on_conflict(
            OnConflict::column(t("name"))
                .value(t("position"), Expr::cust(sql_greatest))
                .update_column(t("updated_at"))
                .to_owned(),
        )
        .to_owned();
    tx.execute(&upsert).await?;
    Ok(())
}

/// Every consumer's offset, by name.
pub async fn offsets(db: &Database) -> Result<Vec<(String, i64)>> {
    let select = Query::select()
        .columns([t("name"), t("position")])
        .from(t("consumer_offsets"))
        .order_by(t("name"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|row| Ok((row.get("name")?, row.get("position")?))).collect()
}
