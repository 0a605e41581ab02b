//! Saved views of the list page (`saved_views`): one owner's named list setup of one object
//! type, private or shared with everyone who may read the type. The setup itself (`spec`)
//! is JSON text the façade checks before writing; this module only stores it.

use sea_query::{Cond, Expr, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::uuid;
use crate::tx::timestamp;
use crate::{Database, DbRow, Error, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredView {
    pub id: Uuid,
    pub type_name: String,
    pub owner: Uuid,
    pub name: String,
    pub shared: bool,
    /// JSON text.
    pub spec: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const COLUMNS: [&str; 8] = ["id", "type_name", "owner", "name", "shared", "spec", "created_at", "updated_at"];

fn select() -> SelectStatement {
    Query::select()
        .columns(COLUMNS.map(t))
        .from(t("saved_views"))
        // Shared views first, then by name: the order the picker shows them in.
        .order_by(t("shared"), Order::Desc)
        .order_by(t("name"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned()
}

fn decode(row: &DbRow) -> Result<StoredView> {
    Ok(StoredView {
        id: row.get("id")?,
        type_name: row.get("type_name")?,
        owner: row.get("owner")?,
        name: row.get("name")?,
        shared: row.get("shared")?,
        spec: row.get("spec")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// A unique violation is a name the owner already uses for this type.
fn unique_name(err: Error) -> Error {
    match &err {
        Error::Sql(sqlx::Error::Database(db)) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            Error::Unique { fields: vec!["name".into()] }
        }
        _ => err,
    }
}

pub async fn insert(tx: &mut Tx, v: &StoredView) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("saved_views"))
        .columns(COLUMNS.map(t))
        .values_panic([
            Expr::val(uuid(v.id)).into(),
            v.type_name.as_str().into(),
            Expr::val(uuid(v.owner)).into(),
            v.name.as_str().into(),
            v.shared.into(),
            v.spec.as_str().into(),
            Expr::val(timestamp(backend, v.created_at)).into(),
            Expr::val(timestamp(backend, v.updated_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await.map_err(unique_name)?;
    Ok(())
}

/// Writes a view's name, sharing and spec (its id, type and owner never change).
pub async fn update(tx: &mut Tx, v: &StoredView) -> Result<bool> {
    let update = Query::update()
        .table(t("saved_views"))
        .value(t("name"), v.name.as_str())
        .value(t("shared"), v.shared)
        .value(t("spec"), v.spec.as_str())
        .value(t("updated_at"), Expr::val(timestamp(tx.backend(), v.updated_at)))
        .and_where(Expr::col(t("id")).eq(uuid(v.id)))
        .to_owned();
    Ok(tx.execute(&update).await.map_err(unique_name)? > 0)
}

pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let delete = Query::delete().from_table(t("saved_views")).and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// One view, read in the caller's transaction.
pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<StoredView>> {
    let select = select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode).transpose()
}

/// The views of `type_name` that `owner` sees: its own, and every shared one when
/// `with_shared`.
pub async fn visible(db: &Database, type_name: &str, owner: Uuid, with_shared: bool) -> Result<Vec<StoredView>> {
    let mut whose = Cond::any().add(Expr::col(t("owner")).eq(uuid(owner)));
    if with_shared {
        whose = whose.add(Expr::col(t("shared")).eq(true));
    }
    let select = select().and_where(Expr::col(t("type_name")).eq(type_name)).cond_where(whose).to_owned();
    db.fetch_all(&select).await?.iter().map(decode).collect()
}
