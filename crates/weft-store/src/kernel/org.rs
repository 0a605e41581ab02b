//! Org units (a tree of departments, each with a manager) and who belongs to which unit.
//! The workspace keeps the whole tree in memory; these are its loads and writes.

use sea_query::{Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::{Database, Result};

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

pub async fn units(db: &Database) -> Result<Vec<StoredUnit>> {
    let select = Query::select()
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
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
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
        })
        .collect()
}

pub async fn memberships(db: &Database) -> Result<Vec<Membership>> {
    let select = Query::select()
        .columns([t("unit_id"), t("principal_id"), t("is_primary")])
        .from(t("unit_members"))
        .order_by(t("principal_id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| Ok(Membership { unit: row.get("unit_id")?, principal: row.get("principal_id")?, primary: row.get("is_primary")? }))
        .collect()
}

