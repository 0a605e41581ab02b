//! Principals (members, guests, service accounts) with their sign-in secrets: the password
//! hash (a PHC string), the TOTP secret, the count of consecutive failed sign-ins and the
//! lock they lead to, and the hashed recovery codes. The workspace decides; this module
//! only reads and writes rows.

use sea_query::{Expr, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::{opt_uuid, uuid};
use crate::shapes::shaped;
use crate::tx::{opt_timestamp, timestamp};
use crate::{Database, DbRow, Error, Result, Tx};

/// One row of `principals`. `kind` is `member`, `guest` or `service`; `status` is
/// `active`, `invited` or `disabled`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPrincipal {
    pub id: Uuid,
    pub kind: String,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub party: Option<Uuid>,
    pub status: String,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<OffsetDateTime>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub failed_logins: i32,
    pub locked_until: Option<OffsetDateTime>,
    pub locale: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

// Secrets stay out of logs: the hash and the TOTP secret are only said to be present.
impl std::fmt::Debug for StoredPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPrincipal")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("login", &self.login)
            .field("status", &self.status)
            .field("party", &self.party)
            .field("has_password", &self.password_hash.is_some())
            .field("totp_enabled", &self.totp_enabled)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

const COLUMNS: [&str; 17] = [
    "id",
    "kind",
    "login",
    "display_name",
    "email",
    "party_id",
    "status",
    "password_hash",
    "password_changed_at",
    "totp_secret",
    "totp_enabled",
    "totp_last_step",
    "failed_logins",
    "locked_until",
    "locale",
    "created_at",
    "updated_at",
];

fn decode(row: &DbRow) -> Result<StoredPrincipal> {
    Ok(StoredPrincipal {
        id: row.get("id")?,
        kind: row.get("kind")?,
        login: row.get("login")?,
        display_name: row.get("display_name")?,
        email: row.get("email")?,
        party: row.get("party_id")?,
        status: row.get("status")?,
        password_hash: row.get("password_hash")?,
        password_changed_at: row.get("password_changed_at")?,
        totp_secret: row.get("totp_secret")?,
        totp_enabled: row.get("totp_enabled")?,
        totp_last_step: row.get("totp_last_step")?,
        failed_logins: row.get("failed_logins")?,
        locked_until: row.get("locked_until")?,
        locale: row.get("locale")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS.map(t)).from(t("principals")).to_owned()
}

/// Maps a unique violation on `login` (the only unique column besides the key).
fn unique_login(err: Error) -> Error {
    match &err {
        Error::Sql(sqlx::Error::Database(db)) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            Error::Unique { fields: vec!["login".into()] }
        }
        _ => err,
    }
}

pub async fn insert(tx: &mut Tx, p: &StoredPrincipal) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("principals"))
        .columns(COLUMNS.map(t))
        .values_panic([
            Expr::val(uuid(p.id)).into(),
            p.kind.as_str().into(),
            p.login.as_str().into(),
            p.display_name.as_str().into(),
            p.email.clone().into(),
            Expr::val(opt_uuid(p.party)).into(),
            p.status.as_str().into(),
            p.password_hash.clone().into(),
            Expr::val(opt_timestamp(backend, p.password_changed_at)).into(),
            p.totp_secret.clone().into(),
            p.totp_enabled.into(),
            p.totp_last_step.into(),
            p.failed_logins.into(),
            Expr::val(opt_timestamp(backend, p.locked_until)).into(),
            p.locale.clone().into(),
            Expr::val(timestamp(backend, p.created_at)).into(),
            Expr::val(timestamp(backend, p.updated_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await.map_err(unique_login)?;
    Ok(())
}

pub async fn by_id(tx: &mut Tx, id: Uuid) -> Result<Option<StoredPrincipal>> {
    let select = select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode).transpose()
}

pub async fn by_id_now(db: &Database, id: Uuid) -> Result<Option<StoredPrincipal>> {
    let select = shaped(db.backend(), "principals.by_id", vec![uuid(id)], |v| {
        select().and_where(Expr::col(t("id")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode).transpose()
}

/// By the (lower-cased) sign-in name.
pub async fn by_login(tx: &mut Tx, login: &str) -> Result<Option<StoredPrincipal>> {
    let select = select().and_where(Expr::col(t("login")).eq(login)).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode).transpose()
}

pub async fn by_login_now(db: &Database, login: &str) -> Result<Option<StoredPrincipal>> {
    let select = shaped(db.backend(), "principals.by_login", vec![login.into()], |v| {
        select().and_where(Expr::col(t("login")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode).transpose()
}

/// What a list of principals may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalFilter {
    pub kind: Option<String>,
    pub party: Option<Uuid>,
    pub status: Option<String>,
}

/// Principals matching `filter`, by login.
pub async fn list(db: &Database, filter: &PrincipalFilter) -> Result<Vec<StoredPrincipal>> {
    let mut select = select().order_by(t("login"), Order::Asc).to_owned();
    if let Some(kind) = &filter.kind {
        select.and_where(Expr::col(t("kind")).eq(kind.as_str()));
    }
    if let Some(party) = filter.party {
        select.and_where(Expr::col(t("party_id")).eq(uuid(party)));
    }
    if let Some(status) = &filter.status {
        select.and_where(Expr::col(t("status")).eq(status.as_str()));
    }
    db.fetch_all(&select).await?.iter().map(decode).collect()
}

/// Replaces the display name, e-mail and locale.
pub async fn update_profile(
    tx: &mut Tx,
    id: Uuid,
    display_name: &str,
    email: Option<&str>,
    locale: Option<&str>,
    at: OffsetDateTime,
) -> Result<bool> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("display_name"), display_name)
        .value(t("email"), email.map(str::to_owned))
        .value(t("locale"), locale.map(str::to_owned))
        .value(t("updated_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

pub async fn set_status(tx: &mut Tx, id: Uuid, status: &str, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("status"), status)
        .value(t("updated_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Sets a new password hash; a new password also clears failed attempts and any lock.
pub async fn set_password(tx: &mut Tx, id: Uuid, hash: &str, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("principals"))
        .value(t("password_hash"), hash)
        .value(t("password_changed_at"), Expr::val(timestamp(backend, at)))
        .value(t("failed_logins"), 0_i32)
        .value(t("locked_until"), Expr::val(opt_timestamp(backend, None)))
        .value(t("updated_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Counts one more failed sign-in and returns the new count.
pub async fn add_failure(tx: &mut Tx, id: Uuid) -> Result<i32> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("failed_logins"), Expr::col(t("failed_logins")).add(1))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .returning_col(t("failed_logins"))
        .to_owned();
    match tx.fetch_optional(&update).await? {
        Some(row) => row.get("failed_logins"),
        None => Ok(0),
    }
}

/// Locks sign-in until `until` (or lifts the lock with `None`) and restarts the count of
/// failed attempts.
pub async fn set_lock(tx: &mut Tx, id: Uuid, until: Option<OffsetDateTime>) -> Result<()> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("failed_logins"), 0_i32)
        .value(t("locked_until"), Expr::val(opt_timestamp(tx.backend(), until)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// Sets the TOTP secret (a pending one when `enabled` is false) or clears it.
pub async fn set_totp(
    tx: &mut Tx,
    id: Uuid,
    secret: Option<&str>,
    enabled: bool,
    last_step: Option<i64>,
    at: OffsetDateTime,
) -> Result<bool> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("totp_secret"), secret.map(str::to_owned))
        .value(t("totp_enabled"), enabled)
        .value(t("totp_last_step"), last_step)
        .value(t("updated_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Records the step of an accepted TOTP code, only if it is later than the last one: true
/// when this call recorded it (so the same code can never be accepted twice, even by two
/// concurrent sign-ins).
pub async fn advance_totp_step(tx: &mut Tx, id: Uuid, step: i64) -> Result<bool> {
    let update = Query::update()
        .table(t("principals"))
        .value(t("totp_last_step"), step)
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("totp_last_step")).is_null().or(Expr::col(t("totp_last_step")).lt(step)))
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}

/// Replaces every recovery code of `id` with these hashes.
pub async fn replace_recovery_codes(tx: &mut Tx, id: Uuid, hashes: &[String]) -> Result<()> {
    let delete =
        Query::delete().from_table(t("recovery_codes")).and_where(Expr::col(t("principal_id")).eq(uuid(id))).to_owned();
    tx.execute(&delete).await?;
    if hashes.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(t("recovery_codes")).columns([t("principal_id"), t("code_hash")]);
    for hash in hashes {
        insert.values_panic([Expr::val(uuid(id)).into(), hash.as_str().into()]);
    }
    tx.execute(&insert).await?;
    Ok(())
}

/// Marks an unused recovery code used; false when there is no such unused code.
pub async fn use_recovery_code(tx: &mut Tx, id: Uuid, hash: &str, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("recovery_codes"))
        .value(t("used_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(id)))
        .and_where(Expr::col(t("code_hash")).eq(hash))
        .and_where(Expr::col(t("used_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}

/// How many recovery codes of `id` are left.
pub async fn unused_recovery_codes(db: &Database, id: Uuid) -> Result<i64> {
    let select = Query::select()
        .expr_as(Expr::col(t("code_hash")).count(), t("n"))
        .from(t("recovery_codes"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(id)))
        .and_where(Expr::col(t("used_at")).is_null())
        .to_owned();
    match db.fetch_optional(&select).await? {
        Some(row) => row.get("n"),
        None => Ok(0),
    }
}
