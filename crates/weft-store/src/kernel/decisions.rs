//! Deployed decision models (DMN XML), versioned per model name.

use sea_query::{Expr, Order, Query};
use time::OffsetDateTime;

use super::t;
use crate::tx::timestamp;
use crate::{Database, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    pub name: String,
    pub version: i64,
    pub namespace: String,
    pub xml: String,
    pub deployed_at: OffsetDateTime,
    pub deployed_by: String,
}

/// Stores the next version of `name`; returns its number. Two concurrent deployments of
/// one name cannot both take the same number: the primary key refuses the second.
pub async fn deploy(tx: &mut Tx, name: &str, namespace: &str, xml: &str, by: &str, at: OffsetDateTime) -> Result<i64> {
    let latest = Query::select()
        .expr_as(Expr::col(t("version")).max(), t("v"))
        .from(t("decisions"))
        .and_where(Expr::col(t("name")).eq(name))
        .to_owned();
    let version = match tx.fetch_optional(&latest).await? {
        Some(row) => row.get::<Option<i64>>("v")?.unwrap_or(0) + 1,
        None => 1,
    };
    let insert = Query::insert()
        .into_table(t("decisions"))
        .columns([t("name"), t("version"), t("namespace"), t("xml"), t("deployed_at"), t("deployed_by")])
        .values_panic([
            name.into(),
            version.into(),
            namespace.into(),
            xml.into(),
            Expr::val(timestamp(tx.backend(), at)).into(),
            by.into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(version)
}

fn decode(row: &crate::DbRow, with_xml: bool) -> Result<StoredDecision> {
    Ok(StoredDecision {
        name: row.get("name")?,
        version: row.get("version")?,
        namespace: row.get("namespace")?,
        xml: if with_xml { row.get("xml")? } else { String::new() },
        deployed_at: row.get("deployed_at")?,
        deployed_by: row.get("deployed_by")?,
    })
}

/// Every version of every model (without the XML), newest first per name.
pub async fn list(db: &Database, name: Option<&str>) -> Result<Vec<StoredDecision>> {
    let mut select = Query::select();
    select
        .columns([t("name"), t("version"), t("namespace"), t("deployed_at"), t("deployed_by")])
        .from(t("decisions"))
        .order_by(t("name"), Order::Asc)
        .order_by(t("version"), Order::Desc);
    if let Some(name) = name {
        select.and_where(Expr::col(t("name")).eq(name));
    }
    db.fetch_all(&select).await?.iter().map(|r| decode(r, false)).collect()
}

/// One version (the newest when `version` is `None`), with its XML.
pub async fn get(db: &Database, name: &str, version: Option<i64>) -> Result<Option<StoredDecision>> {
    let mut select = Query::select();
    select
        .columns([t("name"), t("version"), t("namespace"), t("xml"), t("deployed_at"), t("deployed_by")])
        .from(t("decisions"))
        .and_where(Expr::col(t("name")).eq(name))
        .order_by(t("version"), Order::Desc)
        .limit(1);
    if let Some(v) = version {
        select.and_where(Expr::col(t("version")).eq(v));
    }
    db.fetch_optional(&select).await?.map(|r| decode(&r, true)).transpose()
}
