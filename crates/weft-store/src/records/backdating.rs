//! Backdating: dating a record's story as it happened when it was loaded later.
//!
//! Every command stamps the record's `created_at`/`updated_at` and its history entry's `at`
//! with the moment of its commit. History loaded in one go (`weft demo` replays a year of a
//! sample company in seconds) would then say that everything happened at the load;
//! [`backdate`] rewrites those times afterwards, with any timestamp field that was stamped at
//! the commit too (an order's `confirmed_at`). The normal command path never calls it.
//!
//! What it leaves alone, on purpose: the audit log (a tamper-evident hash chain that records,
//! truthfully, when the load happened and who did what; rewriting it would break the chain)
//! and the outbox (its events are when the engines were told, and consumers have moved past
//! them or will re-read the rows as they are now).

use std::collections::BTreeMap;

use sea_query::{Alias, Expr, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::schema::Value;

use super::codec::{self, uuid};
use super::spec::{SqlType, Storage, TableSpec};
use crate::kernel::t;
use crate::tx::timestamp;
use crate::{Error, Result, Tx};

/// One history entry's new time and, when given, its new diff (a diff naming a value that
/// was stamped at the commit, as `confirmed_at`, is rewritten with the backdated value).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryTime {
    /// The entry's id (`StoredHistory::id`).
    pub id: i64,
    pub at: OffsetDateTime,
    pub changes: Option<serde_json::Value>,
}

fn refused(spec: &TableSpec, id: Uuid, reason: impl Into<String>) -> Error {
    Error::Backdate { type_name: spec.type_name.clone(), id, reason: reason.into() }
}

/// Dates record `id` of `spec`'s type: each of its history entries gets its time from
/// `entries` (every entry of the record, by id, in history order, times never decreasing,
/// none in the future), the record's `created_at` the first entry's time and `updated_at`
/// the last's, and the declared timestamp `fields` their values.
///
/// Refused with [`Error::Backdate`] (nothing of it is kept once the caller's transaction
/// rolls back) when the entries are not exactly the record's history, would reorder it or
/// lie in the future, when the record is not there, or when a field is not a declared
/// date-time field.
pub async fn backdate(
    tx: &mut Tx,
    spec: &TableSpec,
    id: Uuid,
    entries: &[EntryTime],
    fields: &BTreeMap<String, Value>,
) -> Result<()> {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Err(refused(spec, id, "no history entries were given"));
    };
    if entries.windows(2).any(|w| w[1].at < w[0].at) {
        return Err(refused(
            spec,
            id,
            "the times would reorder its history (each entry's time must not precede the one before)",
        ));
    }
    let now = crate::now();
    if let Some(late) = entries.iter().find(|e| e.at > now) {
        return Err(refused(spec, id, format!("history entry {} would be dated in the future", late.id)));
    }
    let backend = tx.backend();

    // The entries must be the record's whole history, in its order.
    let select = Query::select()
        .column(t("id"))
        .from(t("history"))
        .and_where(Expr::col(t("type_name")).eq(spec.type_name.as_str()))
        .and_where(Expr::col(t("record_id")).eq(id))
        .order_by(t("id"), Order::Asc)
        .to_owned();
    let mut stored = Vec::new();
    for row in tx.fetch_all(&select).await? {
        stored.push(row.get::<i64>("id")?);
    }
    let given: Vec<i64> = entries.iter().map(|e| e.id).collect();
    if stored != given {
        return Err(refused(
            spec,
            id,
            format!("the entries given ({given:?}) are not its history ({stored:?}), in order"),
        ));
    }

    let mut update = Query::update();
    update
        .table(Alias::new(&spec.table))
        .value(Alias::new("created_at"), Expr::val(timestamp(backend, first.at)))
        .value(Alias::new("updated_at"), Expr::val(timestamp(backend, last.at)));
    for (name, value) in fields {
        let field = spec
            .field(name)
            .filter(|f| matches!(f.storage, Storage::Column { sql: SqlType::Timestamp, .. }))
            .ok_or_else(|| refused(spec, id, format!("`{name}` is not a date-time field of the type")))?;
        if !matches!(value, Value::DateTime(at) if *at <= now) {
            return Err(refused(spec, id, format!("`{name}` must be set to a date-time not in the future")));
        }
        for (column, v) in codec::encode(backend, field, value)? {
            update.value(Alias::new(&column), Expr::val(v));
        }
    }
    update.and_where(Expr::col(Alias::new("id")).eq(uuid(id)));
    if tx.execute(&update).await? != 1 {
        return Err(refused(spec, id, "the record is not there"));
    }

    for entry in entries {
        let mut update = Query::update();
        update.table(t("history")).value(t("at"), Expr::val(timestamp(backend, entry.at)));
        if let Some(changes) = &entry.changes {
            update.value(t("changes"), changes.to_string());
        }
        update.and_where(Expr::col(t("id")).eq(entry.id));
        if tx.execute(&update).await? != 1 {
            return Err(refused(spec, id, format!("history entry {} is not there", entry.id)));
        }
    }
    Ok(())
}
