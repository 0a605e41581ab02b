//! What a principal signs in with after the password: browser sessions, the pending second
//! step of a sign-in with TOTP (login challenges), API tokens and invitations. Only
//! SHA-256 digests of the secrets are stored; the secrets themselves are shown once.

use sea_query::{Expr, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::uuid;
use crate::shapes::shaped;
use crate::tx::opt_timestamp;
use crate::tx::timestamp;
use crate::{Database, DbRow, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// SHA-256 (hex) of the session id held in the cookie.
    pub id_hash: String,
    pub principal: Uuid,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The absolute end of the session, whatever its activity.
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

const SESSION_COLUMNS: [&str; 9] = [
    "id_hash",
    "principal_id",
    "csrf_token",
    "created_at",
    "last_seen_at",
    "expires_at",
    "revoked_at",
    "ip",
    "user_agent",
];

fn decode_session(row: &DbRow) -> Result<StoredSession> {
    Ok(StoredSession {
        id_hash: row.get("id_hash")?,
        principal: row.get("principal_id")?,
        csrf_token: row.get("csrf_token")?,
        created_at: row.get("created_at")?,
        last_seen_at: row.get("last_seen_at")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
        ip: row.get("ip")?,
        user_agent: row.get("user_agent")?,
    })
}

fn sessions() -> SelectStatement {
    Query::select().columns(SESSION_COLUMNS.map(t)).from(t("sessions")).to_owned()
}

pub async fn insert_session(tx: &mut Tx, s: &StoredSession) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("sessions"))
        .columns(SESSION_COLUMNS.map(t))
        .values_panic([
            s.id_hash.as_str().into(),
            Expr::val(uuid(s.principal)).into(),
            s.csrf_token.as_str().into(),
            Expr::val(timestamp(backend, s.created_at)).into(),
            Expr::val(timestamp(backend, s.last_seen_at)).into(),
            Expr::val(timestamp(backend, s.expires_at)).into(),
            Expr::val(opt_timestamp(backend, s.revoked_at)).into(),
            s.ip.clone().into(),
            s.user_agent.clone().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn session(db: &Database, id_hash: &str) -> Result<Option<StoredSession>> {
    let select = shaped(db.backend(), "sessions.by_hash", vec![id_hash.into()], |v| {
        sessions().and_where(Expr::col(t("id_hash")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_session).transpose()
}

/// Sessions of `principal` neither revoked nor past their absolute end, newest first.
/// (Idle expiry depends on settings; the caller filters on `last_seen_at`.)
pub async fn live_sessions_of(db: &Database, principal: Uuid, now: OffsetDateTime) -> Result<Vec<StoredSession>> {
    let select = sessions()
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .and_where(Expr::col(t("expires_at")).gt(timestamp(db.backend(), now)))
        .order_by(t("created_at"), Order::Desc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_session).collect()
}

/// Moves `last_seen_at` forward (sliding idle expiry).
pub async fn touch_session(tx: &mut Tx, id_hash: &str, at: OffsetDateTime) -> Result<()> {
    let update = Query::update()
        .table(t("sessions"))
        .value(t("last_seen_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id_hash")).eq(id_hash))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// Revokes one session (of `principal`, when given); true when it was live.
pub async fn revoke_session(tx: &mut Tx, id_hash: &str, principal: Option<Uuid>, at: OffsetDateTime) -> Result<bool> {
    let mut update = Query::update()
        .table(t("sessions"))
        .value(t("revoked_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id_hash")).eq(id_hash))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    if let Some(principal) = principal {
        update.and_where(Expr::col(t("principal_id")).eq(uuid(principal)));
    }
    Ok(tx.execute(&update).await? == 1)
}

/// Revokes every live session of `principal` but `except`; returns how many.
pub async fn revoke_sessions_of(tx: &mut Tx, principal: Uuid, except: Option<&str>, at: OffsetDateTime) -> Result<u64> {
    let mut update = Query::update()
        .table(t("sessions"))
        .value(t("revoked_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    if let Some(except) = except {
        update.and_where(Expr::col(t("id_hash")).ne(except));
    }
    tx.execute(&update).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChallenge {
    pub id_hash: String,
    pub principal: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub ip: Option<String>,
}

const CHALLENGE_COLUMNS: [&str; 6] = ["id_hash", "principal_id", "created_at", "expires_at", "used_at", "ip"];

pub async fn insert_challenge(tx: &mut Tx, c: &StoredChallenge) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("login_challenges"))
        .columns(CHALLENGE_COLUMNS.map(t))
        .values_panic([
            c.id_hash.as_str().into(),
            Expr::val(uuid(c.principal)).into(),
            Expr::val(timestamp(backend, c.created_at)).into(),
            Expr::val(timestamp(backend, c.expires_at)).into(),
            Expr::val(opt_timestamp(backend, c.used_at)).into(),
            c.ip.clone().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn challenge(tx: &mut Tx, id_hash: &str) -> Result<Option<StoredChallenge>> {
    let select = Query::select()
        .columns(CHALLENGE_COLUMNS.map(t))
        .from(t("login_challenges"))
        .and_where(Expr::col(t("id_hash")).eq(id_hash))
        .to_owned();
    match tx.fetch_optional(&select).await? {
        Some(row) => Ok(Some(StoredChallenge {
            id_hash: row.get("id_hash")?,
            principal: row.get("principal_id")?,
            created_at: row.get("created_at")?,
            expires_at: row.get("expires_at")?,
            used_at: row.get("used_at")?,
            ip: row.get("ip")?,
        })),
        None => Ok(None),
    }
}

/// Marks a challenge used; false when it was used already (a concurrent second step).
pub async fn use_challenge(tx: &mut Tx, id_hash: &str, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("login_challenges"))
        .value(t("used_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id_hash")).eq(id_hash))
        .and_where(Expr::col(t("used_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}

/// Forgets challenges that ended before `before` (used or not).
pub async fn delete_challenges_before(tx: &mut Tx, before: OffsetDateTime) -> Result<u64> {
    let delete = Query::delete()
        .from_table(t("login_challenges"))
        .and_where(Expr::col(t("expires_at")).lt(timestamp(tx.backend(), before)))
        .to_owned();
    tx.execute(&delete).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: Uuid,
    pub principal: Uuid,
    pub name: String,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// The roles the token may use.
    pub roles: Vec<String>,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

const TOKEN_COLUMNS: [&str; 10] = [
    "id",
    "principal_id",
    "name",
    "token_hash",
    "roles",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
    "last_used_at",
];

fn decode_token(row: &DbRow) -> Result<StoredToken> {
    let roles: String = row.get("roles")?;
    Ok(StoredToken {
        id: row.get("id")?,
        principal: row.get("principal_id")?,
        name: row.get("name")?,
        token_hash: row.get("token_hash")?,
        roles: serde_json::from_str(&roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at: row.get("created_at")?,
        created_by: row.get("created_by")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
        last_used_at: row.get("last_used_at")?,
    })
}

fn tokens() -> SelectStatement {
    Query::select().columns(TOKEN_COLUMNS.map(t)).from(t("api_tokens")).to_owned()
}

pub async fn insert_token(tx: &mut Tx, token: &StoredToken) -> Result<()> {
    let backend = tx.backend();
    let roles = serde_json::to_string(&token.roles).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let insert = Query::insert()
        .into_table(t("api_tokens"))
        .columns(TOKEN_COLUMNS.map(t))
        .values_panic([
            Expr::val(uuid(token.id)).into(),
            Expr::val(uuid(token.principal)).into(),
            token.name.as_str().into(),
            token.token_hash.as_str().into(),
            roles.into(),
            Expr::val(timestamp(backend, token.created_at)).into(),
            token.created_by.as_str().into(),
            Expr::val(opt_timestamp(backend, token.expires_at)).into(),
            Expr::val(opt_timestamp(backend, token.revoked_at)).into(),
            Expr::val(opt_timestamp(backend, token.last_used_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn token_by_hash(db: &Database, token_hash: &str) -> Result<Option<StoredToken>> {
    let select = shaped(db.backend(), "api_tokens.by_hash", vec![token_hash.into()], |v| {
        tokens().and_where(Expr::col(t("token_hash")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_token).transpose()
}

/// Every token of `principal` (revoked and expired ones too), newest first.
pub async fn tokens_of(db: &Database, principal: Uuid) -> Result<Vec<StoredToken>> {
    let select = tokens()
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .order_by(t("created_at"), Order::Desc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_token).collect()
}

/// Revokes one token of `principal`; true when it was not revoked yet.
pub async fn revoke_token(tx: &mut Tx, principal: Uuid, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("api_tokens"))
        .value(t("revoked_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}

/// Revokes every token of `principal`; returns how many.
pub async fn revoke_tokens_of(tx: &mut Tx, principal: Uuid, at: OffsetDateTime) -> Result<u64> {
    let update = Query::update()
        .table(t("api_tokens"))
        .value(t("revoked_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("revoked_at")).is_null())
        .to_owned();
    tx.execute(&update).await
}

pub async fn touch_token(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<()> {
    let update = Query::update()
        .table(t("api_tokens"))
        .value(t("last_used_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInvitation {
    pub token_hash: String,
    pub principal: Uuid,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

const INVITATION_COLUMNS: [&str; 6] =
    ["token_hash", "principal_id", "created_at", "created_by", "expires_at", "used_at"];

pub async fn insert_invitation(tx: &mut Tx, i: &StoredInvitation) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("invitations"))
        .columns(INVITATION_COLUMNS.map(t))
        .values_panic([
            i.token_hash.as_str().into(),
            Expr::val(uuid(i.principal)).into(),
            Expr::val(timestamp(backend, i.created_at)).into(),
            i.created_by.as_str().into(),
            Expr::val(timestamp(backend, i.expires_at)).into(),
            Expr::val(opt_timestamp(backend, i.used_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn invitation(tx: &mut Tx, token_hash: &str) -> Result<Option<StoredInvitation>> {
    let select = Query::select()
        .columns(INVITATION_COLUMNS.map(t))
        .from(t("invitations"))
        .and_where(Expr::col(t("token_hash")).eq(token_hash))
        .to_owned();
    match tx.fetch_optional(&select).await? {
        Some(row) => Ok(Some(StoredInvitation {
            token_hash: row.get("token_hash")?,
            principal: row.get("principal_id")?,
            created_at: row.get("created_at")?,
            created_by: row.get("created_by")?,
            expires_at: row.get("expires_at")?,
            used_at: row.get("used_at")?,
        })),
        None => Ok(None),
    }
}

/// Marks an invitation used; false when it was used already.
pub async fn use_invitation(tx: &mut Tx, token_hash: &str, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("invitations"))
        .value(t("used_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("token_hash")).eq(token_hash))
        .and_where(Expr::col(t("used_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}
