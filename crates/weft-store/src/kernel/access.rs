//! Roles (one JSON document each), which principals hold them, and per-record shares.
//! The workspace loads roles and holdings into memory and compiles them into the access
//! policy; shares are looked up per record and joined into list predicates.

use sea_query::{Expr, OnConflict, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::uuid;
use crate::tx::timestamp;
use crate::{Database, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRole {
    pub name: String,
    /// The role document (`weft_model::access::RoleDef` as JSON).
    pub definition: String,
    pub builtin: bool,
    pub revision: i64,
}

pub async fn roles(db: &Database) -> Result<Vec<StoredRole>> {
    let select = Query::select()
        .columns([t("name"), t("definition"), t("builtin"), t("revision")])
        .from(t("roles"))
        .order_by(t("name"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredRole {
                name: row.get("name")?,
                definition: row.get("definition")?,
                builtin: row.get("builtin")?,
                revision: row.get("revision")?,
            })
        })
        .collect()
}

pub async fn role_exists(tx: &mut Tx, name: &str) -> Result<bool> {
    let select = Query::select().column(t("name")).from(t("roles")).and_where(Expr::col(t("name")).eq(name)).to_owned();
    Ok(tx.fetch_optional(&select).await?.is_some())
}

/// Inserts or replaces a role's document; returns its new revision.
pub async fn put_role(tx: &mut Tx, name: &str, definition: &str, builtin: bool, at: OffsetDateTime) -> Result<i64> {
    let backend = tx.backend();
    let upsert = Query::insert()
        .into_table(t("roles"))
        .columns([t("name"), t("definition"), t("builtin"), t("revision"), t("created_at"), t("updated_at")])
        .values_panic([
            name.into(),
            definition.into(),
            builtin.into(),
            1i64.into(),
            Expr::val(timestamp(backend, at)).into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(
            OnConflict::column(t("name"))
                .value(t("definition"), Expr::val(definition))
                .value(t("revision"), Expr::col((t("roles"), t("revision"))).add(1))
                .value(t("updated_at"), Expr::val(timestamp(backend, at)))
                .to_owned(),
        )
        .returning_col(t("revision"))
        .to_owned();
    let row = tx.fetch_optional(&upsert).await?.ok_or(sqlx::Error::RowNotFound)?;
    row.get("revision")
}

/// Deletes a role (holdings go with it). Returns whether it existed.
pub async fn delete_role(tx: &mut Tx, name: &str) -> Result<bool> {
    let delete = Query::delete().from_table(t("principal_roles")).and_where(Expr::col(t("role")).eq(name)).to_owned();
    tx.execute(&delete).await?;
    let delete = Query::delete().from_table(t("roles")).and_where(Expr::col(t("name")).eq(name)).to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// Every (principal, role) holding.
pub async fn holdings(db: &Database) -> Result<Vec<(Uuid, String)>> {
    let select = Query::select()
        .columns([t("principal_id"), t("role")])
        .from(t("principal_roles"))
        .order_by(t("principal_id"), Order::Asc)
        .order_by(t("role"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|row| Ok((row.get("principal_id")?, row.get("role")?))).collect()
}

/// Replaces the roles `principal` holds.
pub async fn set_holdings(tx: &mut Tx, principal: Uuid, roles: &[String]) -> Result<()> {
    let delete = Query::delete()
        .from_table(t("principal_roles"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    tx.execute(&delete).await?;
    if roles.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(t("principal_roles")).columns([t("principal_id"), t("role")]);
    for role in roles {
        insert.values_panic([Expr::val(uuid(principal)).into(), role.as_str().into()]);
    }
    tx.execute(&insert).await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub type_name: String,
    pub record_id: Uuid,
    pub principal: Uuid,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: OffsetDateTime,
}

/// Grants `share.principal` read on one record; granting again keeps the first grant.
pub async fn put_share(tx: &mut Tx, share: &Share) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("record_shares"))
        .columns([t("type_name"), t("record_id"), t("principal_id"), t("reason"), t("granted_by"), t("granted_at")])
        .values_panic([
            share.type_name.as_str().into(),
            Expr::val(uuid(share.record_id)).into(),
            Expr::val(uuid(share.principal)).into(),
            share.reason.as_str().into(),
            share.granted_by.as_str().into(),
            Expr::val(timestamp(backend, share.granted_at)).into(),
        ])
        .on_conflict(OnConflict::columns([t("type_name"), t("record_id"), t("principal_id")]).do_nothing().to_owned())
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn delete_share(tx: &mut Tx, type_name: &str, record_id: Uuid, principal: Uuid) -> Result<bool> {
    let delete = Query::delete()
        .from_table(t("record_shares"))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

fn share_select(type_name: &str, record_id: Uuid) -> sea_query::SelectStatement {
    Query::select()
        .columns([t("type_name"), t("record_id"), t("principal_id"), t("reason"), t("granted_by"), t("granted_at")])
        .from(t("record_shares"))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .order_by(t("granted_at"), Order::Asc)
        .to_owned()
}

fn decode_share(row: &crate::DbRow) -> Result<Share> {
    Ok(Share {
        type_name: row.get("type_name")?,
        record_id: row.get("record_id")?,
        principal: row.get("principal_id")?,
        reason: row.get("reason")?,
        granted_by: row.get("granted_by")?,
        granted_at: row.get("granted_at")?,
    })
}

pub async fn shares_of_record(db: &Database, type_name: &str, record_id: Uuid) -> Result<Vec<Share>> {
    db.fetch_all(&share_select(type_name, record_id)).await?.iter().map(decode_share).collect()
}

/// Is one record shared with `principal`? Read in the caller's transaction (or snapshot).
pub async fn is_shared(tx: &mut Tx, type_name: &str, record_id: Uuid, principal: Uuid) -> Result<bool> {
    let select =
        share_select(type_name, record_id).and_where(Expr::col(t("principal_id")).eq(uuid(principal))).to_owned();
    Ok(tx.fetch_optional(&select).await?.is_some())
}

pub async fn is_shared_now(db: &Database, type_name: &str, record_id: Uuid, principal: Uuid) -> Result<bool> {
    let select =
        share_select(type_name, record_id).and_where(Expr::col(t("principal_id")).eq(uuid(principal))).to_owned();
    Ok(db.lookup(&select).await?.is_some())
}

/// The types of which some record is shared with `principal` (search skips the others
/// when the principal holds no grant on them).
pub async fn shared_types(db: &Database, principal: Uuid) -> Result<Vec<String>> {
    let select = Query::select()
        .distinct()
        .column(t("type_name"))
        .from(t("record_shares"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|row| row.get("type_name")).collect()
}

/// `record_id IN (records of `type_name` shared with `principal`)` as a sub-select, for
/// list predicates.
pub fn shared_ids(type_name: &str, principal: Uuid) -> sea_query::SelectStatement {
    Query::select()
        .column(t("record_id"))
        .from(t("record_shares"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .to_owned()
}

/// The party of an active (not disabled) principal: `None` when there is no such
/// principal, `Some(None)` for a member or service, `Some(Some(party))` for a guest.
pub async fn active_principal_party(tx: &mut Tx, id: Uuid) -> Result<Option<Option<Uuid>>> {
    let select = Query::select()
        .column(t("party_id"))
        .from(t("principals"))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("status")).ne("disabled"))
        .to_owned();
    match tx.fetch_optional(&select).await? {
        Some(row) => Ok(Some(row.get("party_id")?)),
        None => Ok(None),
    }
}
