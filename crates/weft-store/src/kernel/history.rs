//! Field-level history: one entry per command that changed a record, with the diff.

use sea_query::{Expr, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::shapes::shaped_variant;
use crate::tx::{Rendered, timestamp};
use crate::{Backend, Database, Result, Tx};

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub type_name: String,
    pub record_id: Uuid,
    /// The record's version after the command.
    pub version: i64,
    /// `create`, `update`, `transition:approve`, `delete`, `restore`.
    pub command: String,
    pub actor: String,
    /// JSON text: `[{"field": "qty", "from": 1, "to": 2}, …]` plus command-specific keys;
    /// `[]` for a create (its values are the row's, see `weft-workspace::created_values`).
    pub changes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredHistory {
    pub id: i64,
    pub at: OffsetDateTime,
    pub version: i64,
    pub command: String,
    pub actor: String,
    pub changes: serde_json::Value,
}

pub async fn append(tx: &mut Tx, entry: &HistoryEntry, at: OffsetDateTime) -> Result<()> {
    append_many(tx, std::slice::from_ref(entry), at).await
}

/// Several entries in as few statements as the parameter limit allows.
pub async fn append_many(tx: &mut Tx, entries: &[HistoryEntry], at: OffsetDateTime) -> Result<()> {
    for statement in render_many(tx.backend(), entries, at) {
        tx.execute_rendered(statement).await?;
    }
    Ok(())
}

/// `append_many`'s statements, rendered for `backend` before their transaction.
pub fn render_many(backend: Backend, entries: &[HistoryEntry], at: OffsetDateTime) -> Vec<Rendered> {
    let mut rendered = Vec::new();
    // Seven columns: far below the parameter limit at `MAX_ROWS`.
    const COLUMNS: usize = 7;
    let stamp = timestamp(backend, at);
    for chunk in crate::recurring_chunks(entries, crate::MAX_ROWS) {
        let mut values = Vec::with_capacity(chunk.len() * COLUMNS);
        for entry in chunk {
            values.extend([
                entry.type_name.as_str().into(),
                entry.record_id.into(),
                entry.version.into(),
                entry.command.as_str().into(),
                entry.actor.as_str().into(),
                stamp.clone(),
                entry.changes.as_str().into(),
            ]);
        }
        rendered.push(shaped_variant(backend, "history.insert", chunk.len(), values, |v| {
            let mut insert = Query::insert()
                .into_table(t("history"))
                .columns([
                    t("type_name"),
                    t("record_id"),
                    t("version"),
                    t("command"),
                    t("actor"),
                    t("at"),
                    t("changes"),
                ])
                .to_owned();
            for row in v.chunks(COLUMNS) {
                insert.values_panic(row.iter().cloned().map(Into::into));
            }
            insert
        }));
    }
    rendered
}

/// A record's history, oldest first.
pub async fn for_record(db: &Database, type_name: &str, record_id: Uuid) -> Result<Vec<StoredHistory>> {
    let select = Query::select()
        .columns([t("id"), t("at"), t("version"), t("command"), t("actor"), t("changes")])
        .from(t("history"))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(record_id))
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
            let changes: String = row.get("changes")?;
            Ok(StoredHistory {
                id: row.get("id")?,
                at: row.get("at")?,
                version: row.get("version")?,
                command: row.get("command")?,
                actor: row.get("actor")?,
                changes: serde_json::from_str(&changes).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
