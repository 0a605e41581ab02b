//! Delivery outward, rows only: principals' e-mail settings, IM robots, and the outbound
//! queue. The façade decides who gets what; these functions only keep the rows, and the
//! queue's unique (channel, target, source) is what makes queueing idempotent.

use sea_query::{Cond, Expr, LockBehavior, LockType, OnConflict, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::{opt_uuid, uuid};
use crate::tx::timestamp;
use crate::{Backend, Database, DbRow, Result, Tx};

// ── settings ───────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettings {
    pub principal: Uuid,
    /// JSON object: inbox kind to `immediate`, `digest` or `off`.
    pub email: String,
    pub digest_minutes: i64,
    pub updated_at: OffsetDateTime,
}

pub async fn settings(db: &Database, principal: Uuid) -> Result<Option<StoredSettings>> {
    let select = Query::select()
        .columns([t("principal_id"), t("email"), t("digest_minutes"), t("updated_at")])
        .from(t("delivery_settings"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    let Some(row) = db.fetch_optional(&select).await? else { return Ok(None) };
    Ok(Some(StoredSettings {
        principal: row.get("principal_id")?,
        email: row.get("email")?,
        digest_minutes: row.get("digest_minutes")?,
        updated_at: row.get("updated_at")?,
    }))
}

pub async fn put_settings(tx: &mut Tx, s: &StoredSettings) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("delivery_settings"))
        .columns([t("principal_id"), t("email"), t("digest_minutes"), t("updated_at")])
        .values_panic([
            Expr::val(uuid(s.principal)).into(),
            s.email.as_str().into(),
            s.digest_minutes.into(),
            Expr::val(timestamp(backend, s.updated_at)).into(),
        ])
        .on_conflict(
            OnConflict::column(t("principal_id"))
                .update_columns([t("email"), t("digest_minutes"), t("updated_at")])
                .to_owned(),
        )
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

// ── robots ─────────────────────────────────────────────────────────────────────────────

#[derive(Clone, PartialEq, Eq)]
pub struct StoredRobot {
    pub id: Uuid,
    pub name: String,
    /// `wecom`, `dingtalk`, `feishu` or `slack`.
    pub kind: String,
    pub url: String,
    pub secret: Option<String>,
    pub channel: Option<Uuid>,
    pub type_name: Option<String>,
    /// JSON array of event kinds.
    pub events: String,
    pub include_internal: bool,
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

// The webhook URL and the secret are credentials: never in logs.
impl std::fmt::Debug for StoredRobot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRobot")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("channel", &self.channel)
            .field("type_name", &self.type_name)
            .field("has_secret", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

const ROBOT_COLUMNS: [&str; 11] = [
    "id",
    "name",
    "kind",
    "url",
    "secret",
    "channel_id",
    "type_name",
    "events",
    "include_internal",
    "created_at",
    "created_by",
];

fn robot_select() -> SelectStatement {
    Query::select().columns(ROBOT_COLUMNS.map(t)).from(t("delivery_robots")).to_owned()
}

fn decode_robot(row: &DbRow) -> Result<StoredRobot> {
    Ok(StoredRobot {
        id: row.get("id")?,
        name: row.get("name")?,
        kind: row.get("kind")?,
        url: row.get("url")?,
        secret: row.get("secret")?,
        channel: row.get("channel_id")?,
        type_name: row.get("type_name")?,
        events: row.get("events")?,
        include_internal: row.get("include_internal")?,
        created_at: row.get("created_at")?,
        created_by: row.get("created_by")?,
    })
}

pub async fn insert_robot(tx: &mut Tx, r: &StoredRobot) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("delivery_robots"))
        .columns(ROBOT_COLUMNS.map(t))
        .values_panic([
            Expr::val(uuid(r.id)).into(),
            r.name.as_str().into(),
            r.kind.as_str().into(),
            r.url.as_str().into(),
            r.secret.clone().into(),
            Expr::val(opt_uuid(r.channel)).into(),
            r.type_name.clone().into(),
            r.events.as_str().into(),
            r.include_internal.into(),
            Expr::val(timestamp(backend, r.created_at)).into(),
            r.created_by.as_str().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn robot(db: &Database, id: Uuid) -> Result<Option<StoredRobot>> {
    let select = robot_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_robot).transpose()
}

/// Every robot, by name.
pub async fn robots(db: &Database) -> Result<Vec<StoredRobot>> {
    let select = robot_select().order_by(t("name"), Order::Asc).order_by(t("id"), Order::Asc).to_owned();
    db.fetch_all(&select).await?.iter().map(decode_robot).collect()
}

/// The robots fed by a channel, or by an object type.
pub async fn robots_for(db: &Database, channel: Option<Uuid>, type_name: Option<&str>) -> Result<Vec<StoredRobot>> {
    let mut select = robot_select();
    match (channel, type_name) {
        (Some(channel), _) => select.and_where(Expr::col(t("channel_id")).eq(uuid(channel))),
        (None, Some(type_name)) => select.and_where(Expr::col(t("type_name")).eq(type_name)),
        (None, None) => return Ok(Vec::new()),
    };
    select.order_by(t("id"), Order::Asc);
    db.fetch_all(&select).await?.iter().map(decode_robot).collect()
}

/// Rewrites what may change of a robot (name, webhook, secret, events, internal messages);
/// false when there is no such robot.
pub async fn update_robot(tx: &mut Tx, r: &StoredRobot) -> Result<bool> {
    let update = Query::update()
        .table(t("delivery_robots"))
        .values([
            (t("name"), r.name.as_str().into()),
            (t("url"), r.url.as_str().into()),
            (t("secret"), r.secret.clone().into()),
            (t("events"), r.events.as_str().into()),
            (t("include_internal"), r.include_internal.into()),
        ])
        .and_where(Expr::col(t("id")).eq(uuid(r.id)))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

pub async fn delete_robot(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let delete = Query::delete().from_table(t("delivery_robots")).and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

// ── the queue ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    pub id: Uuid,
    /// `email` (target: a principal), `robot` (target: a robot) or `letter` (target: the
    /// record it is about; the address is in the payload).
    pub channel: String,
    pub target: Uuid,
    pub source: String,
    /// `immediate` or `digest`.
    pub mode: String,
    /// JSON: the rendered notice.
    pub payload: String,
    /// `pending`, `sending`, `sent`, `dead` or `dropped`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: OffsetDateTime,
    pub locked_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const DELIVERY_COLUMNS: [&str; 13] = [
    "id",
    "channel",
    "target",
    "source",
    "mode",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "locked_until",
    "last_error",
    "created_at",
    "updated_at",
];

fn delivery_select() -> SelectStatement {
    Query::select().columns(DELIVERY_COLUMNS.map(t)).from(t("deliveries")).to_owned()
}

fn decode_delivery(row: &DbRow) -> Result<StoredDelivery> {
    Ok(StoredDelivery {
        id: row.get("id")?,
        channel: row.get("channel")?,
        target: row.get("target")?,
        source: row.get("source")?,
        mode: row.get("mode")?,
        payload: row.get("payload")?,
        status: row.get("status")?,
        attempts: row.get("attempts")?,
        next_attempt_at: row.get("next_attempt_at")?,
        locked_until: row.get("locked_until")?,
        last_error: row.get("last_error")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Queues a delivery; false when the same (channel, target, source) was queued before.
pub async fn enqueue(tx: &mut Tx, d: &StoredDelivery) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("deliveries"))
        .columns([
            t("id"),
            t("channel"),
            t("target"),
            t("source"),
            t("mode"),
            t("payload"),
            t("status"),
            t("attempts"),
            t("next_attempt_at"),
            t("created_at"),
            t("updated_at"),
        ])
        .values_panic([
            Expr::val(uuid(d.id)).into(),
            d.channel.as_str().into(),
            Expr::val(uuid(d.target)).into(),
            d.source.as_str().into(),
            d.mode.as_str().into(),
            d.payload.as_str().into(),
            d.status.as_str().into(),
            d.attempts.into(),
            Expr::val(timestamp(backend, d.next_attempt_at)).into(),
            Expr::val(timestamp(backend, d.created_at)).into(),
            Expr::val(timestamp(backend, d.updated_at)).into(),
        ])
        .on_conflict(OnConflict::columns([t("channel"), t("target"), t("source")]).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

/// When the target's open digest goes out: the earliest pending digest row's time, so an
/// item queued later joins the digest already collecting.
pub async fn digest_due(db: &Database, channel: &str, target: Uuid) -> Result<Option<OffsetDateTime>> {
    let select = Query::select()
        .column(t("next_attempt_at"))
        .from(t("deliveries"))
        .and_where(Expr::col(t("channel")).eq(channel))
        .and_where(Expr::col(t("target")).eq(uuid(target)))
        .and_where(Expr::col(t("mode")).eq("digest"))
        .and_where(Expr::col(t("status")).eq("pending"))
        .order_by(t("next_attempt_at"), Order::Asc)
        .limit(1)
        .to_owned();
    match db.fetch_optional(&select).await? {
        Some(row) => Ok(Some(row.get("next_attempt_at")?)),
        None => Ok(None),
    }
}

/// Claims up to `limit` rows due at `now` (pending, or `sending` with an expired lock: a
/// worker that died) until `lock_until`, oldest first. PostgreSQL skips rows another node
/// holds; on SQLite the single writer serialises claims.
pub async fn claim_due(
    tx: &mut Tx,
    now: OffsetDateTime,
    limit: u64,
    lock_until: OffsetDateTime,
) -> Result<Vec<StoredDelivery>> {
    let backend = tx.backend();
    let mut select = delivery_select();
    select
        .cond_where(
            Cond::any()
                .add(
                    Cond::all()
                        .add(Expr::col(t("status")).eq("pending"))
                        .add(Expr::col(t("next_attempt_at")).lte(timestamp(backend, now))),
                )
                .add(
                    Cond::all()
                        .add(Expr::col(t("status")).eq("sending"))
                        .add(Expr::col(t("locked_until")).lt(timestamp(backend, now))),
                ),
        )
        .order_by(t("next_attempt_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .limit(limit);
    if backend == Backend::Postgres {
        select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut rows: Vec<StoredDelivery> =
        tx.fetch_all(&select).await?.iter().map(decode_delivery).collect::<Result<_>>()?;
    for row in &mut rows {
        let update = Query::update()
            .table(t("deliveries"))
            .value(t("status"), "sending")
            .value(t("locked_until"), Expr::val(timestamp(backend, lock_until)))
            .and_where(Expr::col(t("id")).eq(uuid(row.id)))
            .to_owned();
        tx.execute(&update).await?;
        row.status = "sending".into();
        row.locked_until = Some(lock_until);
    }
    Ok(rows)
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; try again at this time.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// Failed for good: a dead letter.
    Dead {
        error: String,
    },
    /// Not sent on purpose (the recipient may no longer read it, the robot is gone).
    Dropped {
        reason: String,
    },
}

/// Settles a claimed row after an attempt (counted in `attempts`); false when the row is no
/// longer `sending` (an administrator replayed it meanwhile).
pub async fn settle(tx: &mut Tx, id: Uuid, attempts: i64, outcome: &Outcome, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let mut update = Query::update();
    update
        .table(t("deliveries"))
        .value(t("attempts"), attempts)
        .value(t("locked_until"), Expr::val(crate::tx::opt_timestamp(backend, None)))
        .value(t("updated_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("status")).eq("sending"));
    match outcome {
        Outcome::Sent => update.value(t("status"), "sent").value(t("last_error"), Option::<String>::None),
        Outcome::Retry { at: next, error } => update
            .value(t("status"), "pending")
            .value(t("next_attempt_at"), Expr::val(timestamp(backend, *next)))
            .value(t("last_error"), error.as_str()),
        Outcome::Dead { error } => update.value(t("status"), "dead").value(t("last_error"), error.as_str()),
        Outcome::Dropped { reason } => update.value(t("status"), "dropped").value(t("last_error"), reason.as_str()),
    };
    Ok(tx.execute(&update).await? > 0)
}

/// Replaces a row's payload: a sent letter forgets the one-time link it carried.
pub async fn set_payload(tx: &mut Tx, id: Uuid, payload: &str) -> Result<()> {
    let update = Query::update()
        .table(t("deliveries"))
        .value(t("payload"), payload)
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

pub async fn delivery(db: &Database, id: Uuid) -> Result<Option<StoredDelivery>> {
    let select = delivery_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_delivery).transpose()
}

/// Rows in `status`, most recently changed first, up to `limit`.
pub async fn with_status(db: &Database, status: &str, limit: u64) -> Result<Vec<StoredDelivery>> {
    let select = delivery_select()
        .and_where(Expr::col(t("status")).eq(status))
        .order_by(t("updated_at"), Order::Desc)
        .order_by(t("id"), Order::Desc)
        .limit(limit)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_delivery).collect()
}

/// The rows queued for one target, oldest first (tests and support).
pub async fn for_target(db: &Database, channel: &str, target: Uuid) -> Result<Vec<StoredDelivery>> {
    let select = delivery_select()
        .and_where(Expr::col(t("channel")).eq(channel))
        .and_where(Expr::col(t("target")).eq(uuid(target)))
        .order_by(t("created_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_delivery).collect()
}

/// Puts a dead letter back in the queue with fresh attempts, due at `at`; false when the
/// row is not dead.
pub async fn replay(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("deliveries"))
        .value(t("status"), "pending")
        .value(t("attempts"), 0)
        .value(t("next_attempt_at"), Expr::val(timestamp(backend, at)))
        .value(t("updated_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("status")).eq("dead"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}
