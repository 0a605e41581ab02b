//! Org units (a tree of departments, each with a manager) and who belongs to which unit.
//! The workspace keeps the whole tree in memory; these are its loads and writes. Every
//! write runs inside a command's transaction, after `lock` (PostgreSQL: org changes are
//! serialised, so two concurrent moves cannot make a cycle together).

use sea_query::{Expr, Func, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::{opt_uuid, uuid};
use crate::tx::{opt_timestamp, timestamp};
use crate::{Database, DbRow, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUnit {
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub parent: Option<Uuid>,
    pub manager: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub archived_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub unit: Uuid,
    pub principal: Uuid,
    pub primary: bool,
}

/// What the org commands need to know about a principal (the principals table belongs to
/// identity; this is a read of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo {
    pub id: Uuid,
    /// `member`, `guest` or `service`.
    pub kind: String,
    /// `active`, `invited` or `disabled`.
    pub status: String,
    pub display_name: String,
}

impl PrincipalInfo {
    pub fn is_member(&self) -> bool {
        self.kind == "member"
    }

    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// Serialises org and delegation changes on PostgreSQL (SQLite has one writer already).
pub async fn lock(tx: &mut Tx) -> Result<()> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('weft.org', 0))").execute(&mut **tx).await?;
    }
    Ok(())
}

fn unit_select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("name"),
            t("code"),
            t("parent_id"),
            t("manager_id"),
            t("created_at"),
            t("updated_at"),
            t("archived_at"),
        ])
        .from(t("org_units"))
        .order_by(t("name"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned()
}

fn decode_unit(row: &DbRow) -> Result<StoredUnit> {
    Ok(StoredUnit {
        id: row.get("id")?,
        name: row.get("name")?,
        code: row.get("code")?,
        parent: row.get("parent_id")?,
        manager: row.get("manager_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        archived_at: row.get("archived_at")?,
    })
}

fn membership_select() -> SelectStatement {
    Query::select()
        .columns([t("unit_id"), t("principal_id"), t("is_primary")])
        .from(t("unit_members"))
        .order_by(t("principal_id"), Order::Asc)
        .order_by(t("unit_id"), Order::Asc)
        .to_owned()
}

fn decode_membership(row: &DbRow) -> Result<Membership> {
    Ok(Membership { unit: row.get("unit_id")?, principal: row.get("principal_id")?, primary: row.get("is_primary")? })
}

/// Every unit, archived ones included, by name.
pub async fn units(db: &Database) -> Result<Vec<StoredUnit>> {
    db.fetch_all(&unit_select()).await?.iter().map(decode_unit).collect()
}

/// Every unit, read in the caller's transaction (the tree a change is checked against).
pub async fn units_in(tx: &mut Tx) -> Result<Vec<StoredUnit>> {
    tx.fetch_all(&unit_select()).await?.iter().map(decode_unit).collect()
}

pub async fn memberships(db: &Database) -> Result<Vec<Membership>> {
    db.fetch_all(&membership_select()).await?.iter().map(decode_membership).collect()
}

/// Every membership, read in the caller's transaction.
pub async fn memberships_in(tx: &mut Tx) -> Result<Vec<Membership>> {
    tx.fetch_all(&membership_select()).await?.iter().map(decode_membership).collect()
}

/// One unit, read in the caller's transaction.
pub async fn unit(tx: &mut Tx, id: Uuid) -> Result<Option<StoredUnit>> {
    let select = unit_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode_unit).transpose()
}

/// The unit whose code is `code`, compared without regard to case, other than `except`.
pub async fn unit_with_code(tx: &mut Tx, code: &str, except: Option<Uuid>) -> Result<Option<Uuid>> {
    let mut select = Query::select()
        .column(t("id"))
        .from(t("org_units"))
        .and_where(Expr::expr(Func::lower(Expr::col(t("code")))).eq(code.to_lowercase()))
        .to_owned();
    if let Some(except) = except {
        select.and_where(Expr::col(t("id")).ne(uuid(except)));
    }
    Ok(match tx.fetch_optional(&select).await? {
        Some(row) => Some(row.get("id")?),
        None => None,
    })
}

pub async fn insert_unit(tx: &mut Tx, unit: &StoredUnit) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("org_units"))
        .columns([
            t("id"),
            t("name"),
            t("code"),
            t("parent_id"),
            t("manager_id"),
            t("created_at"),
            t("updated_at"),
            t("archived_at"),
        ])
        .values_panic([
            Expr::val(uuid(unit.id)).into(),
            unit.name.as_str().into(),
            Expr::val(sea_query::Value::String(unit.code.clone().map(Box::new))).into(),
            Expr::val(opt_uuid(unit.parent)).into(),
            Expr::val(opt_uuid(unit.manager)).into(),
            Expr::val(timestamp(backend, unit.created_at)).into(),
            Expr::val(timestamp(backend, unit.updated_at)).into(),
            Expr::val(opt_timestamp(backend, unit.archived_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Writes every column of `unit` but its id and creation time.
pub async fn update_unit(tx: &mut Tx, unit: &StoredUnit) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("org_units"))
        .value(t("name"), unit.name.as_str())
        .value(t("code"), Expr::val(sea_query::Value::String(unit.code.clone().map(Box::new))))
        .value(t("parent_id"), Expr::val(opt_uuid(unit.parent)))
        .value(t("manager_id"), Expr::val(opt_uuid(unit.manager)))
        .value(t("updated_at"), Expr::val(timestamp(backend, unit.updated_at)))
        .value(t("archived_at"), Expr::val(opt_timestamp(backend, unit.archived_at)))
        .and_where(Expr::col(t("id")).eq(uuid(unit.id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// The units `principal` belongs to, read in the caller's transaction.
pub async fn memberships_of(tx: &mut Tx, principal: Uuid) -> Result<Vec<Membership>> {
    let select = membership_select().and_where(Expr::col(t("principal_id")).eq(uuid(principal))).to_owned();
    tx.fetch_all(&select).await?.iter().map(decode_membership).collect()
}

/// The members of `unit` (not of units below it), read in the caller's transaction.
pub async fn members_of(tx: &mut Tx, unit: Uuid) -> Result<Vec<Membership>> {
    let select = membership_select().and_where(Expr::col(t("unit_id")).eq(uuid(unit))).to_owned();
    tx.fetch_all(&select).await?.iter().map(decode_membership).collect()
}

pub async fn insert_membership(tx: &mut Tx, m: &Membership) -> Result<()> {
    let insert = Query::insert()
        .into_table(t("unit_members"))
        .columns([t("unit_id"), t("principal_id"), t("is_primary")])
        .values_panic([Expr::val(uuid(m.unit)).into(), Expr::val(uuid(m.principal)).into(), m.primary.into()])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Removes one membership; whether it existed.
pub async fn delete_membership(tx: &mut Tx, unit: Uuid, principal: Uuid) -> Result<bool> {
    let delete = Query::delete()
        .from_table(t("unit_members"))
        .and_where(Expr::col(t("unit_id")).eq(uuid(unit)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// Makes `unit` the primary unit of `principal` (who must belong to it) and every other
/// unit of theirs not primary. Cleared first, so the one-primary index never sees two.
pub async fn set_primary(tx: &mut Tx, principal: Uuid, unit: Uuid) -> Result<bool> {
    let clear = Query::update()
        .table(t("unit_members"))
        .value(t("is_primary"), false)
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("unit_id")).ne(uuid(unit)))
        .to_owned();
    tx.execute(&clear).await?;
    let set = Query::update()
        .table(t("unit_members"))
        .value(t("is_primary"), true)
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("unit_id")).eq(uuid(unit)))
        .to_owned();
    Ok(tx.execute(&set).await? > 0)
}

fn principal_select() -> SelectStatement {
    Query::select()
        .columns([t("id"), t("kind"), t("status"), t("display_name")])
        .from(t("principals"))
        .order_by(t("id"), Order::Asc)
        .to_owned()
}

fn decode_principal(row: &DbRow) -> Result<PrincipalInfo> {
    Ok(PrincipalInfo {
        id: row.get("id")?,
        kind: row.get("kind")?,
        status: row.get("status")?,
        display_name: row.get("display_name")?,
    })
}

/// Kind, status and name of one principal, read in the caller's transaction.
pub async fn principal_info(tx: &mut Tx, id: Uuid) -> Result<Option<PrincipalInfo>> {
    let select = principal_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode_principal).transpose()
}

/// Kind, status and name of several principals (those that exist).
pub async fn principal_infos(db: &Database, ids: &[Uuid]) -> Result<Vec<PrincipalInfo>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let select = principal_select().and_where(Expr::col(t("id")).is_in(ids.iter().map(|id| uuid(*id)))).to_owned();
    db.fetch_all(&select).await?.iter().map(decode_principal).collect()
}
