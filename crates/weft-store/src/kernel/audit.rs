//! The audit log: append-only and hash-chained. Each entry's hash covers its content and
//! the previous entry's hash, so editing or deleting any entry but the newest breaks every
//! hash after it, and `verify` names the first entry that no longer matches.

use sea_query::{Expr, Order, Query};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::t;
use crate::shapes::{shaped, shaped_variant};
use crate::tx::{DbRow, format_utc, timestamp};
use crate::{Database, Result, Tx};

/// The audit log's columns, in the order written and read.
const COLUMNS: [&str; 9] = ["seq", "at", "actor", "action", "target_type", "target_id", "detail", "prev_hash", "hash"];

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    Intact { entries: u64 },
    Broken { seq: i64, reason: String },
}

fn hash(prev: &str, seq: i64, at: &str, entry: &AuditEntry, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), at, &entry.actor, &entry.action, &entry.target_type, &entry.target_id, detail]
    {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Appends one entry (see `append_many`).
pub async fn append(tx: &mut Tx, entry: &AuditEntry, at: OffsetDateTime) -> Result<i64> {
    append_many(tx, std::slice::from_ref(entry), at).await
}

/// Appends entries in order, chained; returns the last sequence number. Takes the event
/// log's lock (`Tx::lock_event_log`) itself, so concurrent PostgreSQL writers chain one
/// after the other; outbox events appended after it in the transaction are covered too.
///
/// On PostgreSQL a single entry is one round trip: the migration's
/// `weft_audit_append_one` takes the lock, reads the newest entry and inserts the new one
/// chained with the same hash as `hash` (the lock's holder waits for fewer round trips).
pub async fn append_many(tx: &mut Tx, entries: &[AuditEntry], at: OffsetDateTime) -> Result<i64> {
    let backend = tx.backend();
    if let ([entry], Tx::Postgres(pg)) = (entries, &mut *tx) {
        let seq: i64 = sqlx::query_scalar("SELECT weft_audit_append_one($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(crate::tx::EVENT_LOG_LOCK)
            .bind(GENESIS)
            .bind(at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target_type)
            .bind(&entry.target_id)
            .bind(entry.detail.to_string())
            .bind(format_utc(at))
            .fetch_one(&mut **pg)
            .await?;
        return Ok(seq);
    }
    tx.lock_event_log().await?;
    // sea-query binds the limit as a value.
    let last = shaped(backend, "audit_log.last", vec![1_u64.into()], |_| {
        Query::select()
            .columns([t("seq"), t("hash")])
            .from(t("audit_log"))
            .order_by(t("seq"), Order::Desc)
            .limit(1)
            .to_owned()
    });
    let (mut seq, mut prev) = match tx.fetch_optional_rendered(last).await? {
        Some(row) => (row.get::<i64>("seq")?, row.get::<String>("hash")?),
        None => (0, GENESIS.to_owned()),
    };
    let at_text = format_utc(at);
    let stamp = timestamp(backend, at);
    for chunk in crate::recurring_chunks(entries, crate::MAX_ROWS) {
        let mut values = Vec::with_capacity(chunk.len() * COLUMNS.len());
        for entry in chunk {
            seq += 1;
            let detail = entry.detail.to_string();
            let digest = hash(&prev, seq, &at_text, entry, &detail);
            values.extend([
                seq.into(),
                stamp.clone(),
                entry.actor.as_str().into(),
                entry.action.as_str().into(),
                entry.target_type.as_str().into(),
                entry.target_id.as_str().into(),
                detail.into(),
                std::mem::replace(&mut prev, digest.clone()).into(),
                digest.into(),
            ]);
        }
        let insert = shaped_variant(backend, "audit_log.insert", chunk.len(), values, |v| {
            let mut insert = Query::insert().into_table(t("audit_log")).columns(COLUMNS.map(t)).to_owned();
            for row in v.chunks(COLUMNS.len()) {
                insert.values_panic(row.iter().cloned().map(Into::into));
            }
            insert
        });
        tx.execute_rendered(insert).await?;
    }
    Ok(seq)
}

/// Walks the whole chain, oldest first.
pub async fn verify(db: &Database) -> Result<AuditVerdict> {
    const PAGE: u64 = 5_000;
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1_i64;
    loop {
        let page = Query::select()
            .columns(COLUMNS.map(t))
            .from(t("audit_log"))
            .and_where(Expr::col(t("seq")).gte(expected_seq))
            .order_by(t("seq"), Order::Asc)
            .limit(PAGE)
            .to_owned();
        let rows = db.fetch_all(&page).await?;
        let done = (rows.len() as u64) < PAGE;
        for row in rows {
            if let Some(broken) = check_row(&row, expected_seq, &mut prev)? {
                return Ok(broken);
            }
            expected_seq += 1;
        }
        if done {
            return Ok(AuditVerdict::Intact { entries: (expected_seq - 1) as u64 });
        }
    }
}

fn check_row(row: &DbRow, expected_seq: i64, prev: &mut String) -> Result<Option<AuditVerdict>> {
    let seq: i64 = row.get("seq")?;
    if seq != expected_seq {
        return Ok(Some(AuditVerdict::Broken {
            seq: expected_seq,
            reason: format!("entry {expected_seq} is missing"),
        }));
    }
    let stored_prev: String = row.get("prev_hash")?;
    if stored_prev != *prev {
        return Ok(Some(AuditVerdict::Broken { seq, reason: "does not link to the entry before it".into() }));
    }
    let entry = AuditEntry {
        actor: row.get("actor")?,
        action: row.get("action")?,
        target_type: row.get("target_type")?,
        target_id: row.get("target_id")?,
        detail: serde_json::Value::Null,
    };
    let detail: String = row.get("detail")?;
    let at: OffsetDateTime = row.get("at")?;
    let stored_hash: String = row.get("hash")?;
    if hash(prev, seq, &format_utc(at), &entry, &detail) != stored_hash {
        return Ok(Some(AuditVerdict::Broken { seq, reason: "content does not match its hash (edited)".into() }));
    }
    *prev = stored_hash;
    Ok(None)
}
