//! Out-of-office delegations: one member lets another act for them (tasks and approvals)
//! over an inclusive range of dates. Dates are `YYYY-MM-DD` text on both backends, so text
//! order is date order. A revoked delegation is kept (with `revoked_at`) for the record.

use sea_query::{Cond, Expr, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::uuid;
use crate::tx::timestamp;
use crate::{Database, DbRow, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelegation {
    pub id: Uuid,
    pub from: Uuid,
    pub to: Uuid,
    /// First day, `YYYY-MM-DD`, inclusive.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub ends_on: String,
    pub reason: String,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub revoked_at: Option<OffsetDateTime>,
}

fn select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("from_principal"),
            t("to_principal"),
            t("starts_on"),
            t("ends_on"),
            t("reason"),
            t("created_at"),
            t("created_by"),
            t("revoked_at"),
        ])
        .from(t("delegations"))
        .order_by(t("starts_on"), Order::Asc)
        .order_by(t("created_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned()
}

fn decode(row: &DbRow) -> Result<StoredDelegation> {
    Ok(StoredDelegation {
        id: row.get("id")?,
        from: row.get("from_principal")?,
        to: row.get("to_principal")?,
        starts_on: row.get("starts_on")?,
        ends_on: row.get("ends_on")?,
        reason: row.get("reason")?,
        created_at: row.get("created_at")?,
        created_by: row.get("created_by")?,
        revoked_at: row.get("revoked_at")?,
    })
}

pub async fn insert(tx: &mut Tx, d: &StoredDelegation) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("delegations"))
        .columns([
            t("id"),
            t("from_principal"),
            t("to_principal"),
            t("starts_on"),
            t("ends_on"),
            t("reason"),
            t("created_at"),
            t("created_by"),
        ])
        .values_panic([
            Expr::val(uuid(d.id)).into(),
            Expr::val(uuid(d.from)).into(),
            Expr::val(uuid(d.to)).into(),
            d.starts_on.as_str().into(),
            d.ends_on.as_str().into(),
            d.reason.as_str().into(),
            Expr::val(timestamp(backend, d.created_at)).into(),
            d.created_by.as_str().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// One delegation, read in the caller's transaction.
pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<StoredDelegation>> {
    let select = select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode).transpose()
}

/// Marks a delegation revoked; false when it was revoked already (or does not exist).
pub async fn revoke(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("delegations"))
        .value(t("revoked_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Delegations of `from` not revoked whose range shares a day with `starts_on..=ends_on`.
pub async fn overlapping(tx: &mut Tx, from: Uuid, starts_on: &str, ends_on: &str) -> Result<Vec<StoredDelegation>> {
    let select = select()
        .and_where(Expr::col(t("from_principal")).eq(uuid(from)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .and_where(Expr::col(t("starts_on")).lte(ends_on))
        .and_where(Expr::col(t("ends_on")).gte(starts_on))
        .to_owned();
    tx.fetch_all(&select).await?.iter().map(decode).collect()
}

/// Every delegation `principal` gave or received, revoked ones included.
pub async fn of_principal(db: &Database, principal: Uuid) -> Result<Vec<StoredDelegation>> {
    let select = select()
        .cond_where(
            Cond::any()
                .add(Expr::col(t("from_principal")).eq(uuid(principal)))
                .add(Expr::col(t("to_principal")).eq(uuid(principal))),
        )
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode).collect()
}

/// Every delegation; `active_on` keeps only those in force on that day (`YYYY-MM-DD`).
pub async fn all(db: &Database, active_on: Option<&str>) -> Result<Vec<StoredDelegation>> {
    let mut select = select();
    if let Some(day) = active_on {
        in_force(&mut select, day);
    }
    db.fetch_all(&select).await?.iter().map(decode).collect()
}

fn in_force(select: &mut SelectStatement, day: &str) {
    select
        .and_where(Expr::col(t("revoked_at")).is_null())
        .and_where(Expr::col(t("starts_on")).lte(day))
        .and_where(Expr::col(t("ends_on")).gte(day));
}

/// The delegations from `from` in force on `day`, optionally only those to `to`.
pub async fn in_force_from(db: &Database, from: Uuid, to: Option<Uuid>, day: &str) -> Result<Vec<StoredDelegation>> {
    let mut select = select().and_where(Expr::col(t("from_principal")).eq(uuid(from))).to_owned();
    if let Some(to) = to {
        select.and_where(Expr::col(t("to_principal")).eq(uuid(to)));
    }
    in_force(&mut select, day);
    db.fetch_all(&select).await?.iter().map(decode).collect()
}

/// The delegations to `to` in force on `day` (whom `to` stands in for then).
pub async fn in_force_to(db: &Database, to: Uuid, day: &str) -> Result<Vec<StoredDelegation>> {
    let mut select = select().and_where(Expr::col(t("to_principal")).eq(uuid(to))).to_owned();
    in_force(&mut select, day);
    db.fetch_all(&select).await?.iter().map(decode).collect()
}
