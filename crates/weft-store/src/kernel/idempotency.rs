//! Idempotency keys: a retried request with the same key (per principal) gets the first
//! response back instead of doing the work twice. The key is stored in the same
//! transaction as the work, so a crash cannot record one without the other.

use sea_query::{Expr, Query};
use time::OffsetDateTime;

use super::t;
use crate::tx::timestamp;
use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// A hash of the request; the same key with a different request is a conflict.
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// Makes concurrent requests with the same key wait for each other (PostgreSQL; SQLite has
/// one writer), so exactly one does the work and the others replay its response.
pub async fn lock(tx: &mut Tx, principal: &str, key: &str) -> Result<()> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("idempotency\u{1f}{principal}\u{1f}{key}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn find(tx: &mut Tx, principal: &str, key: &str) -> Result<Option<StoredResponse>> {
    let select = Query::select()
        .columns([t("request_hash"), t("status"), t("response")])
        .from(t("idempotency_keys"))
        .and_where(Expr::col(t("principal")).eq(principal))
        .and_where(Expr::col(t("key")).eq(key))
        .to_owned();
    Ok(match tx.fetch_optional(&select).await? {
        Some(row) => Some(StoredResponse {
            request_hash: row.get("request_hash")?,
            status: u16::try_from(row.get::<i32>("status")?).unwrap_or(200),
            response: row.get("response")?,
        }),
        None => None,
    })
}

pub async fn store(tx: &mut Tx, principal: &str, key: &str, stored: &StoredResponse, at: OffsetDateTime) -> Result<()> {
    let insert = Query::insert()
        .into_table(t("idempotency_keys"))
        .columns([t("principal"), t("key"), t("request_hash"), t("status"), t("response"), t("created_at")])
        .values_panic([
            principal.into(),
            key.into(),
            stored.request_hash.clone().into(),
            i32::from(stored.status).into(),
            stored.response.clone().into(),
            Expr::val(timestamp(tx.backend(), at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Claims `key` for `owner` in the caller's transaction: true the first time, false ever
/// after. A consumer wraps each event's effects with it, keyed by the event's sequence
/// number, so a redelivered event changes nothing twice.
pub async fn claim(tx: &mut Tx, owner: &str, key: &str, at: OffsetDateTime) -> Result<bool> {
    let insert = Query::insert()
        .into_table(t("idempotency_keys"))
        .columns([t("principal"), t("key"), t("request_hash"), t("status"), t("response"), t("created_at")])
        .values_panic([
            owner.into(),
            key.into(),
            "".into(),
            0_i32.into(),
            "".into(),
            Expr::val(timestamp(tx.backend(), at)).into(),
        ])
        .on_conflict(sea_query::OnConflict::columns([t("principal"), t("key")]).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? == 1)
}
