//! Threads, messages, followers and inboxes: rows only. The façade decides who may read or
//! post what; these functions never widen a query on their own (every read of messages
//! takes the visibilities the caller may see).

use sea_query::{Cond, Expr, OnConflict, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::{opt_uuid, uuid};
use crate::tx::{opt_timestamp, timestamp};
use crate::{Backend, Database, DbRow, Result, Tx};

// ── threads ────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredThread {
    pub id: Uuid,
    /// `record` or `channel`.
    pub kind: String,
    pub type_name: Option<String>,
    pub record_id: Option<Uuid>,
    pub name: Option<String>,
    /// A channel guests may belong to.
    pub external: bool,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub last_posted_at: Option<OffsetDateTime>,
    pub archived_at: Option<OffsetDateTime>,
}

fn thread_select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("kind"),
            t("type_name"),
            t("record_id"),
            t("name"),
            t("external"),
            t("created_at"),
            t("created_by"),
            t("last_posted_at"),
            t("archived_at"),
        ])
        .from(t("threads"))
        .to_owned()
}

fn decode_thread(row: &DbRow) -> Result<StoredThread> {
    Ok(StoredThread {
        id: row.get("id")?,
        kind: row.get("kind")?,
        type_name: row.get("type_name")?,
        record_id: row.get("record_id")?,
        name: row.get("name")?,
        external: row.get("external")?,
        created_at: row.get("created_at")?,
        created_by: row.get("created_by")?,
        last_posted_at: row.get("last_posted_at")?,
        archived_at: row.get("archived_at")?,
    })
}

pub async fn thread(db: &Database, id: Uuid) -> Result<Option<StoredThread>> {
    let select = thread_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_thread).transpose()
}

pub async fn thread_in(tx: &mut Tx, id: Uuid) -> Result<Option<StoredThread>> {
    let select = thread_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode_thread).transpose()
}

fn record_thread_select(type_name: &str, record_id: Uuid) -> SelectStatement {
    thread_select()
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .to_owned()
}

/// A record's thread, if anyone has posted to it.
pub async fn record_thread(db: &Database, type_name: &str, record_id: Uuid) -> Result<Option<StoredThread>> {
    db.fetch_optional(&record_thread_select(type_name, record_id)).await?.as_ref().map(decode_thread).transpose()
}

/// A record's thread, created on first use.
pub async fn ensure_record_thread(
    tx: &mut Tx,
    type_name: &str,
    record_id: Uuid,
    by: &str,
    at: OffsetDateTime,
) -> Result<StoredThread> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("threads"))
        .columns([t("id"), t("kind"), t("type_name"), t("record_id"), t("external"), t("created_at"), t("created_by")])
        .values_panic([
            Expr::val(uuid(Uuid::now_v7())).into(),
            "record".into(),
            type_name.into(),
            Expr::val(uuid(record_id)).into(),
            false.into(),
            Expr::val(timestamp(backend, at)).into(),
            by.into(),
        ])
        .on_conflict(OnConflict::columns([t("type_name"), t("record_id")]).do_nothing().to_owned())
        .to_owned();
    tx.execute(&insert).await?;
    // The row exists now: inserted above, or by an earlier post (the conflict).
    let row = tx.fetch_all(&record_thread_select(type_name, record_id)).await?;
    match row.first() {
        Some(row) => decode_thread(row),
        None => Err(crate::Error::Sql(sqlx::Error::RowNotFound)),
    }
}

pub async fn insert_channel(tx: &mut Tx, thread: &StoredThread) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("threads"))
        .columns([t("id"), t("kind"), t("name"), t("external"), t("created_at"), t("created_by")])
        .values_panic([
            Expr::val(uuid(thread.id)).into(),
            "channel".into(),
            thread.name.clone().into(),
            thread.external.into(),
            Expr::val(timestamp(backend, thread.created_at)).into(),
            thread.created_by.as_str().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Channels `principal` belongs to (all channels when `None`), by name.
pub async fn channels(db: &Database, principal: Option<Uuid>) -> Result<Vec<StoredThread>> {
    let mut select = thread_select().and_where(Expr::col(t("kind")).eq("channel")).to_owned();
    if let Some(p) = principal {
        select.and_where(
            Expr::col(t("id")).in_subquery(
                Query::select()
                    .column(t("thread_id"))
                    .from(t("channel_members"))
                    .and_where(Expr::col(t("principal_id")).eq(uuid(p)))
                    .to_owned(),
            ),
        );
    }
    select.order_by(t("name"), Order::Asc).order_by(t("id"), Order::Asc);
    db.fetch_all(&select).await?.iter().map(decode_thread).collect()
}

/// Marks a post in the thread. On PostgreSQL this row lock also orders concurrent posters
/// of one thread, so message numbers are handed out without gaps or clashes.
pub async fn touch_thread(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<()> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("threads"))
        .value(t("last_posted_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

pub async fn add_member(tx: &mut Tx, thread: Uuid, principal: Uuid, by: &str, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("channel_members"))
        .columns([t("thread_id"), t("principal_id"), t("added_by"), t("added_at")])
        .values_panic([
            Expr::val(uuid(thread)).into(),
            Expr::val(uuid(principal)).into(),
            by.into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(OnConflict::columns([t("thread_id"), t("principal_id")]).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

pub async fn remove_member(tx: &mut Tx, thread: Uuid, principal: Uuid) -> Result<bool> {
    let delete = Query::delete()
        .from_table(t("channel_members"))
        .and_where(Expr::col(t("thread_id")).eq(uuid(thread)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

pub async fn members(db: &Database, thread: Uuid) -> Result<Vec<Uuid>> {
    let select = Query::select()
        .column(t("principal_id"))
        .from(t("channel_members"))
        .and_where(Expr::col(t("thread_id")).eq(uuid(thread)))
        .order_by(t("added_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|r| r.get("principal_id")).collect()
}

pub async fn is_member(db: &Database, thread: Uuid, principal: Uuid) -> Result<bool> {
    let select = Query::select()
        .column(t("principal_id"))
        .from(t("channel_members"))
        .and_where(Expr::col(t("thread_id")).eq(uuid(thread)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    Ok(db.fetch_optional(&select).await?.is_some())
}

// ── messages ───────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub seq: i64,
    pub author_id: Uuid,
    pub on_behalf_of: Option<Uuid>,
    /// `internal` or `shared`.
    pub visibility: String,
    pub body: String,
    pub reply_to: Option<Uuid>,
    /// JSON array of principal ids.
    pub mentions: String,
    /// JSON array of `{"type": …, "id": …}`.
    pub record_mentions: String,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
    pub deleted_by: Option<String>,
}

fn message_select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("thread_id"),
            t("seq"),
            t("author_id"),
            t("on_behalf_of"),
            t("visibility"),
            t("body"),
            t("reply_to"),
            t("mentions"),
            t("record_mentions"),
            t("version"),
            t("created_at"),
            t("edited_at"),
            t("deleted_at"),
            t("deleted_by"),
        ])
        .from(t("messages"))
        .to_owned()
}

fn decode_message(row: &DbRow) -> Result<StoredMessage> {
    Ok(StoredMessage {
        id: row.get("id")?,
        thread_id: row.get("thread_id")?,
        seq: row.get("seq")?,
        author_id: row.get("author_id")?,
        on_behalf_of: row.get("on_behalf_of")?,
        visibility: row.get("visibility")?,
        body: row.get("body")?,
        reply_to: row.get("reply_to")?,
        mentions: row.get("mentions")?,
        record_mentions: row.get("record_mentions")?,
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        edited_at: row.get("edited_at")?,
        deleted_at: row.get("deleted_at")?,
        deleted_by: row.get("deleted_by")?,
    })
}

/// The next message number in a thread (call after `touch_thread`, in the same transaction).
pub async fn next_seq(tx: &mut Tx, thread: Uuid) -> Result<i64> {
    let select = Query::select()
        .expr_as(Expr::col(t("seq")).max(), t("top"))
        .from(t("messages"))
        .and_where(Expr::col(t("thread_id")).eq(uuid(thread)))
        .to_owned();
    let top: Option<i64> = match tx.fetch_optional(&select).await? {
        Some(row) => row.get("top")?,
        None => None,
    };
    Ok(top.unwrap_or(0) + 1)
}

pub async fn insert_message(tx: &mut Tx, m: &StoredMessage) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("messages"))
        .columns([
            t("id"),
            t("thread_id"),
            t("seq"),
            t("author_id"),
            t("on_behalf_of"),
            t("visibility"),
            t("body"),
            t("reply_to"),
            t("mentions"),
            t("record_mentions"),
            t("version"),
            t("created_at"),
        ])
        .values_panic([
            Expr::val(uuid(m.id)).into(),
            Expr::val(uuid(m.thread_id)).into(),
            m.seq.into(),
            Expr::val(uuid(m.author_id)).into(),
            Expr::val(opt_uuid(m.on_behalf_of)).into(),
            m.visibility.as_str().into(),
            m.body.as_str().into(),
            Expr::val(opt_uuid(m.reply_to)).into(),
            m.mentions.as_str().into(),
            m.record_mentions.as_str().into(),
            m.version.into(),
            Expr::val(timestamp(backend, m.created_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn message(db: &Database, id: Uuid) -> Result<Option<StoredMessage>> {
    let select = message_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_message).transpose()
}

pub async fn message_in(tx: &mut Tx, id: Uuid) -> Result<Option<StoredMessage>> {
    let select = message_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode_message).transpose()
}

/// Every live (not deleted) message of every thread, by id after `after`: the search index
/// rebuilds from it.
pub async fn live_messages_after(db: &Database, after: Option<Uuid>, limit: u64) -> Result<Vec<StoredMessage>> {
    let mut select = message_select().and_where(Expr::col(t("deleted_at")).is_null()).to_owned();
    if let Some(after) = after {
        select.and_where(Expr::col(t("id")).gt(uuid(after)));
    }
    select.order_by(t("id"), Order::Asc).limit(limit);
    db.fetch_all(&select).await?.iter().map(decode_message).collect()
}

/// A page of a thread in order, only of the given visibilities, after message `after_seq`.
pub async fn messages(
    db: &Database,
    thread: Uuid,
    visibilities: &[&str],
    after_seq: i64,
    limit: u64,
) -> Result<Vec<StoredMessage>> {
    let select = message_select()
        .and_where(Expr::col(t("thread_id")).eq(uuid(thread)))
        .and_where(Expr::col(t("visibility")).is_in(visibilities.iter().copied()))
        .and_where(Expr::col(t("seq")).gt(after_seq))
        .order_by(t("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_message).collect()
}

/// Replaces a message's body (keeping the old one as a revision) when its version is
/// still `expected`; false when someone changed it first.
pub async fn edit_message(
    tx: &mut Tx,
    old: &StoredMessage,
    body: &str,
    mentions: &str,
    record_mentions: &str,
    by: &str,
    at: OffsetDateTime,
) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("messages"))
        .values([
            (t("body"), body.into()),
            (t("mentions"), mentions.into()),
            (t("record_mentions"), record_mentions.into()),
            (t("version"), (old.version + 1).into()),
            (t("edited_at"), Expr::val(timestamp(backend, at)).into()),
        ])
        .and_where(Expr::col(t("id")).eq(uuid(old.id)))
        .and_where(Expr::col(t("version")).eq(old.version))
        .and_where(Expr::col(t("deleted_at")).is_null())
        .to_owned();
    if tx.execute(&update).await? == 0 {
        return Ok(false);
    }
    keep_revision(tx, old, by, at).await?;
    Ok(true)
}

/// Leaves a tombstone: the body goes (kept as the last revision), the place stays.
pub async fn tombstone_message(tx: &mut Tx, old: &StoredMessage, by: &str, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("messages"))
        .values([
            (t("body"), "".into()),
            (t("version"), (old.version + 1).into()),
            (t("deleted_at"), Expr::val(timestamp(backend, at)).into()),
            (t("deleted_by"), by.into()),
        ])
        .and_where(Expr::col(t("id")).eq(uuid(old.id)))
        .and_where(Expr::col(t("deleted_at")).is_null())
        .to_owned();
    if tx.execute(&update).await? == 0 {
        return Ok(false);
    }
    keep_revision(tx, old, by, at).await?;
    Ok(true)
}

/// Keeps the body a message had before an edit or its deletion.
async fn keep_revision(tx: &mut Tx, old: &StoredMessage, by: &str, at: OffsetDateTime) -> Result<()> {
    let backend = tx.backend();
    let revision = Query::insert()
        .into_table(t("message_revisions"))
        .columns([t("message_id"), t("version"), t("body"), t("replaced_at"), t("replaced_by")])
        .values_panic([
            Expr::val(uuid(old.id)).into(),
            old.version.into(),
            old.body.as_str().into(),
            Expr::val(timestamp(backend, at)).into(),
            by.into(),
        ])
        .to_owned();
    tx.execute(&revision).await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRevision {
    pub version: i64,
    pub body: String,
    pub replaced_at: OffsetDateTime,
    pub replaced_by: String,
}

pub async fn revisions(db: &Database, message: Uuid) -> Result<Vec<StoredRevision>> {
    let select = Query::select()
        .columns([t("version"), t("body"), t("replaced_at"), t("replaced_by")])
        .from(t("message_revisions"))
        .and_where(Expr::col(t("message_id")).eq(uuid(message)))
        .order_by(t("version"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredRevision {
                version: row.get("version")?,
                body: row.get("body")?,
                replaced_at: row.get("replaced_at")?,
                replaced_by: row.get("replaced_by")?,
            })
        })
        .collect()
}

pub async fn add_reaction(
    tx: &mut Tx,
    message: Uuid,
    principal: Uuid,
    emoji: &str,
    at: OffsetDateTime,
) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("message_reactions"))
        .columns([t("message_id"), t("principal_id"), t("emoji"), t("created_at")])
        .values_panic([
            Expr::val(uuid(message)).into(),
            Expr::val(uuid(principal)).into(),
            emoji.into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(OnConflict::columns([t("message_id"), t("principal_id"), t("emoji")]).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

pub async fn remove_reaction(tx: &mut Tx, message: Uuid, principal: Uuid, emoji: &str) -> Result<bool> {
    let delete = Query::delete()
        .from_table(t("message_reactions"))
        .and_where(Expr::col(t("message_id")).eq(uuid(message)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("emoji")).eq(emoji))
        .to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// `(message, principal, emoji)` for the given messages, oldest first.
pub async fn reactions(db: &Database, messages: &[Uuid]) -> Result<Vec<(Uuid, Uuid, String)>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let select = Query::select()
        .columns([t("message_id"), t("principal_id"), t("emoji")])
        .from(t("message_reactions"))
        .and_where(Expr::col(t("message_id")).is_in(messages.iter().map(|m| uuid(*m))))
        .order_by(t("created_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| Ok((row.get("message_id")?, row.get("principal_id")?, row.get("emoji")?)))
        .collect()
}

// ── followers ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFollower {
    pub principal: Uuid,
    pub reason: String,
    pub since: OffsetDateTime,
}

/// Follows a record; following again keeps the first reason.
pub async fn follow(
    tx: &mut Tx,
    type_name: &str,
    record_id: Uuid,
    principal: Uuid,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("followers"))
        .columns([t("type_name"), t("record_id"), t("principal_id"), t("reason"), t("since")])
        .values_panic([
            type_name.into(),
            Expr::val(uuid(record_id)).into(),
            Expr::val(uuid(principal)).into(),
            reason.into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(OnConflict::columns([t("type_name"), t("record_id"), t("principal_id")]).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

pub async fn unfollow(tx: &mut Tx, type_name: &str, record_id: Uuid, principal: Uuid) -> Result<bool> {
    let delete = Query::delete()
        .from_table(t("followers"))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

pub async fn followers(db: &Database, type_name: &str, record_id: Uuid) -> Result<Vec<StoredFollower>> {
    let select = Query::select()
        .columns([t("principal_id"), t("reason"), t("since")])
        .from(t("followers"))
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .order_by(t("since"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(StoredFollower {
                principal: row.get("principal_id")?,
                reason: row.get("reason")?,
                since: row.get("since")?,
            })
        })
        .collect()
}

// ── inbox ──────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInboxItem {
    pub id: Uuid,
    pub principal: Uuid,
    /// `mention`, `update`, `alert` or `todo`.
    pub kind: String,
    /// What the item came from (`event:<seq>`): one item per source and recipient.
    pub source: String,
    pub type_name: Option<String>,
    pub record_id: Option<Uuid>,
    pub thread_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub actor: String,
    pub summary: String,
    /// `unread`, `read` or `done`.
    pub state: String,
    pub snoozed_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

fn inbox_select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("principal_id"),
            t("kind"),
            t("source"),
            t("type_name"),
            t("record_id"),
            t("thread_id"),
            t("message_id"),
            t("actor"),
            t("summary"),
            t("state"),
            t("snoozed_until"),
            t("created_at"),
            t("updated_at"),
        ])
        .from(t("inbox_items"))
        .to_owned()
}

fn decode_item(row: &DbRow) -> Result<StoredInboxItem> {
    Ok(StoredInboxItem {
        id: row.get("id")?,
        principal: row.get("principal_id")?,
        kind: row.get("kind")?,
        source: row.get("source")?,
        type_name: row.get("type_name")?,
        record_id: row.get("record_id")?,
        thread_id: row.get("thread_id")?,
        message_id: row.get("message_id")?,
        actor: row.get("actor")?,
        summary: row.get("summary")?,
        state: row.get("state")?,
        snoozed_until: row.get("snoozed_until")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Delivers items; an item whose (recipient, source) was delivered before is skipped.
pub async fn deliver(tx: &mut Tx, items: &[StoredInboxItem]) -> Result<u64> {
    let backend = tx.backend();
    let mut delivered = 0;
    for item in items {
        let insert = Query::insert()
            .into_table(t("inbox_items"))
            .columns([
                t("id"),
                t("principal_id"),
                t("kind"),
                t("source"),
                t("type_name"),
                t("record_id"),
                t("thread_id"),
                t("message_id"),
                t("actor"),
                t("summary"),
                t("state"),
                t("created_at"),
                t("updated_at"),
            ])
            .values_panic([
                Expr::val(uuid(item.id)).into(),
                Expr::val(uuid(item.principal)).into(),
                item.kind.as_str().into(),
                item.source.as_str().into(),
                item.type_name.clone().into(),
                Expr::val(opt_uuid(item.record_id)).into(),
                Expr::val(opt_uuid(item.thread_id)).into(),
                Expr::val(opt_uuid(item.message_id)).into(),
                item.actor.as_str().into(),
                item.summary.as_str().into(),
                item.state.as_str().into(),
                Expr::val(timestamp(backend, item.created_at)).into(),
                Expr::val(timestamp(backend, item.updated_at)).into(),
            ])
            .on_conflict(OnConflict::columns([t("principal_id"), t("source")]).do_nothing().to_owned())
            .to_owned();
        delivered += tx.execute(&insert).await?;
    }
    Ok(delivered)
}

/// The items one outbox event delivered (their `source`), to every recipient.
pub async fn inbox_items_from(db: &Database, source: &str) -> Result<Vec<StoredInboxItem>> {
    let select = inbox_select().and_where(Expr::col(t("source")).eq(source)).order_by(t("id"), Order::Asc).to_owned();
    db.fetch_all(&select).await?.iter().map(decode_item).collect()
}

#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub kind: Option<String>,
    pub states: Vec<String>,
    /// Leave out items snoozed past this moment.
    pub awake_at: Option<OffsetDateTime>,
    pub type_name: Option<String>,
    pub record_id: Option<Uuid>,
    /// Items created before this one (newest first paging).
    pub before: Option<(OffsetDateTime, Uuid)>,
    pub limit: u64,
}

fn awake(backend: Backend, at: OffsetDateTime) -> Cond {
    Cond::any()
        .add(Expr::col(t("snoozed_until")).is_null())
        .add(Expr::col(t("snoozed_until")).lte(timestamp(backend, at)))
}

/// One principal's items, newest first.
pub async fn inbox(db: &Database, principal: Uuid, filter: &InboxFilter) -> Result<Vec<StoredInboxItem>> {
    let backend = db.backend();
    let mut select = inbox_select().and_where(Expr::col(t("principal_id")).eq(uuid(principal))).to_owned();
    if let Some(kind) = &filter.kind {
        select.and_where(Expr::col(t("kind")).eq(kind.as_str()));
    }
    if !filter.states.is_empty() {
        select.and_where(Expr::col(t("state")).is_in(filter.states.iter().map(String::as_str)));
    }
    if let Some(at) = filter.awake_at {
        select.cond_where(awake(backend, at));
    }
    if let Some(type_name) = &filter.type_name {
        select.and_where(Expr::col(t("type_name")).eq(type_name.as_str()));
    }
    if let Some(record) = filter.record_id {
        select.and_where(Expr::col(t("record_id")).eq(uuid(record)));
    }
    if let Some((at, id)) = filter.before {
        select.cond_where(Cond::any().add(Expr::col(t("created_at")).lt(timestamp(backend, at))).add(
            Cond::all().add(Expr::col(t("created_at")).eq(timestamp(backend, at))).add(Expr::col(t("id")).lt(uuid(id))),
        ));
    }
    select.order_by(t("created_at"), Order::Desc).order_by(t("id"), Order::Desc).limit(filter.limit);
    db.fetch_all(&select).await?.iter().map(decode_item).collect()
}

pub async fn inbox_item(db: &Database, principal: Uuid, id: Uuid) -> Result<Option<StoredInboxItem>> {
    let select = inbox_select()
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_item).transpose()
}

/// `(kind, state, count)` of one principal's items that are not snoozed at `at`.
pub async fn inbox_counts(db: &Database, principal: Uuid, at: OffsetDateTime) -> Result<Vec<(String, String, i64)>> {
    let select = Query::select()
        .columns([t("kind"), t("state")])
        .expr_as(Expr::col(t("id")).count(), t("n"))
        .from(t("inbox_items"))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .cond_where(awake(db.backend(), at))
        .group_by_col(t("kind"))
        .group_by_col(t("state"))
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|row| Ok((row.get("kind")?, row.get("state")?, row.get("n")?))).collect()
}

/// Sets the state (and clears or sets the snooze) of some of one principal's items;
/// returns how many of the ids are that principal's. Setting the same state twice is
/// harmless.
pub async fn mark(
    tx: &mut Tx,
    principal: Uuid,
    ids: &[Uuid],
    state: Option<&str>,
    snooze: Option<Option<OffsetDateTime>>,
    at: OffsetDateTime,
) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let backend = tx.backend();
    let mut update = Query::update()
        .table(t("inbox_items"))
        .value(t("updated_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("principal_id")).eq(uuid(principal)))
        .and_where(Expr::col(t("id")).is_in(ids.iter().map(|i| uuid(*i))))
        .to_owned();
    if let Some(state) = state {
        update.value(t("state"), state);
    }
    if let Some(snooze) = snooze {
        update.value(t("snoozed_until"), Expr::val(opt_timestamp(backend, snooze)));
    }
    tx.execute(&update).await
}

// ── blobs and attachments ──────────────────────────────────────────────────────────────

/// Records a stored blob; a blob stored before keeps its first row.
pub async fn put_blob(tx: &mut Tx, sha256: &str, size: i64, content_type: &str, at: OffsetDateTime) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("blobs"))
        .columns([t("sha256"), t("size"), t("content_type"), t("created_at")])
        .values_panic([sha256.into(), size.into(), content_type.into(), Expr::val(timestamp(backend, at)).into()])
        .on_conflict(OnConflict::column(t("sha256")).do_nothing().to_owned())
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn blob_exists(db: &Database, sha256: &str) -> Result<bool> {
    let select =
        Query::select().column(t("sha256")).from(t("blobs")).and_where(Expr::col(t("sha256")).eq(sha256)).to_owned();
    Ok(db.fetch_optional(&select).await?.is_some())
}

/// Bytes held by all blobs (each content counted once).
pub async fn blob_bytes(db: &Database) -> Result<i64> {
    // PostgreSQL sums BIGINT to NUMERIC; the cast gives both databases an integer.
    let select = Query::select()
        .expr_as(Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"), t("total"))
        .from(t("blobs"))
        .to_owned();
    match db.fetch_optional(&select).await? {
        Some(row) => row.get("total"),
        None => Ok(0),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub id: Uuid,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub visibility: String,
    pub type_name: String,
    pub record_id: Uuid,
    pub message_id: Option<Uuid>,
    pub uploaded_by: Uuid,
    pub uploaded_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

fn attachment_select() -> SelectStatement {
    Query::select()
        .columns([
            t("id"),
            t("sha256"),
            t("filename"),
            t("content_type"),
            t("size"),
            t("visibility"),
            t("type_name"),
            t("record_id"),
            t("message_id"),
            t("uploaded_by"),
            t("uploaded_at"),
            t("deleted_at"),
        ])
        .from(t("attachments"))
        .to_owned()
}

fn decode_attachment(row: &DbRow) -> Result<StoredAttachment> {
    Ok(StoredAttachment {
        id: row.get("id")?,
        sha256: row.get("sha256")?,
        filename: row.get("filename")?,
        content_type: row.get("content_type")?,
        size: row.get("size")?,
        visibility: row.get("visibility")?,
        type_name: row.get("type_name")?,
        record_id: row.get("record_id")?,
        message_id: row.get("message_id")?,
        uploaded_by: row.get("uploaded_by")?,
        uploaded_at: row.get("uploaded_at")?,
        deleted_at: row.get("deleted_at")?,
    })
}

pub async fn insert_attachment(tx: &mut Tx, a: &StoredAttachment) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("attachments"))
        .columns([
            t("id"),
            t("sha256"),
            t("filename"),
            t("content_type"),
            t("size"),
            t("visibility"),
            t("type_name"),
            t("record_id"),
            t("uploaded_by"),
            t("uploaded_at"),
        ])
        .values_panic([
            Expr::val(uuid(a.id)).into(),
            a.sha256.as_str().into(),
            a.filename.as_str().into(),
            a.content_type.as_str().into(),
            a.size.into(),
            a.visibility.as_str().into(),
            a.type_name.as_str().into(),
            Expr::val(uuid(a.record_id)).into(),
            Expr::val(uuid(a.uploaded_by)).into(),
            Expr::val(timestamp(backend, a.uploaded_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn attachment(db: &Database, id: Uuid) -> Result<Option<StoredAttachment>> {
    let select = attachment_select().and_where(Expr::col(t("id")).eq(uuid(id))).to_owned();
    db.fetch_optional(&select).await?.as_ref().map(decode_attachment).transpose()
}

/// A record's live attachments of the given visibilities, oldest first.
pub async fn record_attachments(
    db: &Database,
    type_name: &str,
    record_id: Uuid,
    visibilities: &[&str],
) -> Result<Vec<StoredAttachment>> {
    let select = attachment_select()
        .and_where(Expr::col(t("type_name")).eq(type_name))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .and_where(Expr::col(t("visibility")).is_in(visibilities.iter().copied()))
        .and_where(Expr::col(t("deleted_at")).is_null())
        .order_by(t("uploaded_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_attachment).collect()
}

/// The live attachments carried by the given messages.
pub async fn message_attachments(db: &Database, messages: &[Uuid]) -> Result<Vec<StoredAttachment>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let select = attachment_select()
        .and_where(Expr::col(t("message_id")).is_in(messages.iter().map(|m| uuid(*m))))
        .and_where(Expr::col(t("deleted_at")).is_null())
        .order_by(t("uploaded_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_attachment).collect()
}

/// Puts an unposted attachment on a message, taking the message's visibility; false when
/// it was posted (or deleted) meanwhile.
pub async fn attach_to_message(tx: &mut Tx, id: Uuid, message: Uuid, visibility: &str) -> Result<bool> {
    let update = Query::update()
        .table(t("attachments"))
        .values([(t("message_id"), Expr::val(uuid(message)).into()), (t("visibility"), visibility.into())])
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("message_id")).is_null())
        .and_where(Expr::col(t("deleted_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

pub async fn delete_attachment(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("attachments"))
        .value(t("deleted_at"), Expr::val(timestamp(backend, at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("deleted_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}
