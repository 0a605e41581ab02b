//! The registry of declared object types: the declaration as applied, per type.

use sea_query::{Expr, OnConflict, Order, Query};
use time::OffsetDateTime;

use super::t;
use crate::tx::timestamp;
use crate::{Database, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredType {
    pub name: String,
    pub app: String,
    pub revision: i64,
    /// The declaration JSON as applied.
    pub declaration: String,
}

pub async fn all(db: &Database) -> Result<Vec<RegisteredType>> {
    let select = Query::select()
        .columns([t("name"), t("app"), t("revision"), t("declaration")])
        .from(t("object_types"))
        .order_by(t("name"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(RegisteredType {
                name: row.get("name")?,
                app: row.get("app")?,
                revision: row.get("revision")?,
                declaration: row.get("declaration")?,
            })
        })
        .collect()
}

/// Records `declaration` as the current one of its type, bumping the revision.
pub async fn save(tx: &mut Tx, name: &str, app: &str, declaration: &str, at: OffsetDateTime) -> Result<i64> {
    let backend = tx.backend();
    let upsert = Query::insert()
        .into_table(t("object_types"))
        .columns([t("name"), t("app"), t("revision"), t("declaration"), t("created_at"), t("updated_at")])
        .values_panic([
            name.into(),
            app.into(),
            1_i64.into(),
            declaration.into(),
            Expr::val(timestamp(backend, at)).into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(
            OnConflict::column(t("name"))
                .value(t("revision"), Expr::cust("object_types.revision + 1"))
                .update_columns([t("app"), t("declaration"), t("updated_at")])
                .to_owned(),
        )
        .returning_col(t("revision"))
        .to_owned();
    let row = tx.fetch_optional(&upsert).await?.ok_or(sqlx::Error::RowNotFound)?;
    row.get("revision")
}
