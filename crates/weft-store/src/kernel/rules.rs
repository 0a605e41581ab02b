//! Automation rules (`automation_rules`): one row per rule, its definition JSON text checked
//! by the façade before it is written; this module only stores it.

use sea_query::{Expr, OnConflict, Order, Query, SelectStatement};
use time::OffsetDateTime;

use super::t;
use crate::tx::timestamp;
use crate::{Database, DbRow, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub name: String,
    pub type_name: String,
    pub enabled: bool,
    /// JSON text.
    pub definition: String,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

const COLUMNS: [&str; 6] = ["name", "type_name", "enabled", "definition", "version", "updated_at"];

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS.map(t)).from(t("automation_rules")).order_by(t("name"), Order::Asc).to_owned()
}

fn decode(row: &DbRow) -> Result<StoredRule> {
    Ok(StoredRule {
        name: row.get("name")?,
        type_name: row.get("type_name")?,
        enabled: row.get("enabled")?,
        definition: row.get("definition")?,
        version: row.get("version")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Writes `rule` whole, replacing the row of the same name.
pub async fn put(tx: &mut Tx, rule: &StoredRule) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("automation_rules"))
        .columns(COLUMNS.map(t))
        .values_panic([
            rule.name.as_str().into(),
            rule.type_name.as_str().into(),
            rule.enabled.into(),
            rule.definition.as_str().into(),
            rule.version.into(),
            Expr::val(timestamp(backend, rule.updated_at)).into(),
        ])
        .on_conflict(
            OnConflict::column(t("name"))
                .update_columns(["type_name", "enabled", "definition", "version", "updated_at"].map(t))
                .to_owned(),
        )
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, name: &str) -> Result<bool> {
    let delete = Query::delete().from_table(t("automation_rules")).and_where(Expr::col(t("name")).eq(name)).to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// One rule, read in the caller's transaction.
pub async fn get(tx: &mut Tx, name: &str) -> Result<Option<StoredRule>> {
    let select = select().and_where(Expr::col(t("name")).eq(name)).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode).transpose()
}

/// Every rule, by name.
pub async fn all(db: &Database) -> Result<Vec<StoredRule>> {
    db.fetch_all(&select()).await?.iter().map(decode).collect()
}

/// The enabled rules of `type_name`, by name.
pub async fn enabled_for(db: &Database, type_name: &str) -> Result<Vec<StoredRule>> {
    let select = select()
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("enabled")).eq(true))
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode).collect()
}
