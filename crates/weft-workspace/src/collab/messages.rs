//! Posting, reading, editing, deleting and reacting to messages, on record threads and in
//! channels.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode, MessageVisibility};
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::access::{self as shares, Share};
use weft_store::kernel::collab::{self as store, StoredMessage, StoredThread};
use weft_store::kernel::{outbox, principals};
use weft_store::records::rows::{self, Source};

use super::access::{Place, ThreadAccess};
use super::attachments::{self, AttachmentView};
use super::{MAX_BODY_CHARS, MAX_MENTIONS, summary};
use crate::identity::principals::principal_of;
use crate::{Error, Result, Workspace, admin_audit};

/// A record named in a message (`#PO-2026-00042`), by type and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMention {
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: Uuid,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Markdown, up to 20,000 characters.
    pub body: String,
    /// On a record thread: `internal` (members only) or `shared` (also the record's party
    /// guests); the type's declared default when left out. Guests always post `shared`.
    /// In a channel the channel decides (external groups are shared).
    #[serde(default)]
    pub visibility: Option<MessageVisibility>,
    /// The message this one answers, in the same thread.
    #[serde(default)]
    pub reply_to: Option<Uuid>,
    /// Principals mentioned (`@Li Wei`): they are notified, and on a record thread given
    /// read on the record when they could not see it.
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    /// Records mentioned (`#PO-2026-00042`); each must be one the poster can see.
    #[serde(default)]
    pub records: Vec<RecordMention>,
    /// Files uploaded to the record by the poster and not posted yet; they take the
    /// message's visibility. (Record threads only.)
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageEdit {
    pub body: String,
    /// Replaces the mentions; people newly mentioned are notified.
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    #[serde(default)]
    pub records: Vec<RecordMention>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReactionView {
    pub emoji: String,
    pub by: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub thread: Uuid,
    /// Position in the thread: 1, 2, …
    pub seq: i64,
    pub author: Uuid,
    /// The author's display name: whoever may read a message may know who wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Uuid>,
    pub visibility: MessageVisibility,
    /// Absent once the message is deleted (the tombstone keeps its place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    pub mentions: Vec<Uuid>,
    pub records: Vec<RecordMention>,
    pub version: i64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    pub reactions: Vec<ReactionView>,
    pub attachments: Vec<AttachmentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThreadPage {
    /// Absent while nobody has posted on the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Uuid>,
    pub messages: Vec<MessageView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// A message search may show, with where it was posted.
pub(crate) struct FoundMessage {
    pub message: StoredMessage,
    pub place: FoundPlace,
}

pub(crate) enum FoundPlace {
    Record { type_name: String, id: Uuid, title: String },
    Channel { id: Uuid, name: String },
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    pub version: i64,
    pub body: String,
    pub replaced_at: String,
    pub replaced_by: String,
}

fn error(pointer: String, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer, code, reason: reason.into() }
}

fn check_body(body: &str, problems: &mut Vec<FieldError>) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        problems.push(error("/body".into(), FieldErrorCode::Required, "a message needs some text"));
    } else if trimmed.chars().count() > MAX_BODY_CHARS {
        problems.push(error("/body".into(), FieldErrorCode::TooLong, format!("at most {MAX_BODY_CHARS} characters")));
    }
    trimmed.to_owned()
}

fn decode_list<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

fn visibility_of(text: &str) -> MessageVisibility {
    if text == "shared" { MessageVisibility::Shared } else { MessageVisibility::Internal }
}

pub(super) fn view(
    m: StoredMessage,
    reactions: &BTreeMap<Uuid, Vec<(String, Uuid)>>,
    attachments: &BTreeMap<Uuid, Vec<AttachmentView>>,
) -> MessageView {
    let deleted = m.deleted_at.is_some();
    let mut grouped: Vec<ReactionView> = Vec::new();
    for (emoji, by) in reactions.get(&m.id).into_iter().flatten() {
        match grouped.iter_mut().find(|r| &r.emoji == emoji) {
            Some(r) => r.by.push(*by),
            None => grouped.push(ReactionView { emoji: emoji.clone(), by: vec![*by] }),
        }
    }
    MessageView {
        id: m.id,
        thread: m.thread_id,
        seq: m.seq,
        author: m.author_id,
        author_name: None,
        on_behalf_of: m.on_behalf_of,
        visibility: visibility_of(&m.visibility),
        body: (!deleted).then_some(m.body),
        reply_to: m.reply_to,
        mentions: if deleted { Vec::new() } else { decode_list(&m.mentions) },
        records: if deleted { Vec::new() } else { decode_list(&m.record_mentions) },
        version: m.version,
        created_at: format_utc(m.created_at),
        edited_at: m.edited_at.map(format_utc),
        deleted_at: m.deleted_at.map(format_utc),
        reactions: grouped,
        attachments: if deleted { Vec::new() } else { attachments.get(&m.id).cloned().unwrap_or_default() },
    }
}

/// A mentioned principal, checked.
pub(super) struct Mentioned {
    pub principal: Principal,
}

/// What a post or edit will write besides the message: shares for mentioned people who
/// could not read the record, and followers.
struct Effects {
    shares: Vec<Share>,
    follows: Vec<(Uuid, &'static str)>,
}

impl Workspace {
    /// Posts on a record's thread (created on the first message).
    pub async fn post_on_record(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        input: NewMessage,
    ) -> Result<MessageView> {
        let access = self.record_thread_access(principal, type_name, id).await?;
        let declared = match &access.place {
            Place::Record { entry, .. } => entry.decl.thread_visibility,
            Place::Channel(_) => None,
        };
        let visibility = match (principal.kind, input.visibility) {
            (PrincipalKind::Guest { .. }, Some(MessageVisibility::Internal)) => {
                return Err(Error::Validation(vec![error(
                    "/visibility".into(),
                    FieldErrorCode::InvalidFormat,
                    "partner contacts post shared messages only",
                )]));
            }
            (PrincipalKind::Guest { .. }, _) => MessageVisibility::Shared,
            (_, Some(v)) => v,
            (_, None) => declared.unwrap_or(MessageVisibility::Internal),
        };
        let thread = match &access.place {
            Place::Record { entry, record } => {
                store::record_thread(&self.db, &entry.decl.name, record.system.id).await?
            }
            Place::Channel(_) => None,
        };
        self.post(principal, access, thread, visibility, input).await
    }

    /// Posts in a channel the principal belongs to.
    pub async fn post_in_channel(
        &self,
        principal: &Principal,
        channel: Uuid,
        input: NewMessage,
    ) -> Result<MessageView> {
        let thread = self.channel_thread(channel).await?;
        let visibility = if thread.external { MessageVisibility::Shared } else { MessageVisibility::Internal };
        let access = self.channel_access(principal, thread.clone()).await?;
        self.post(principal, access, Some(thread), visibility, input).await
    }

    async fn post(
        &self,
        principal: &Principal,
        access: ThreadAccess,
        thread: Option<StoredThread>,
        visibility: MessageVisibility,
        input: NewMessage,
    ) -> Result<MessageView> {
        if !access.may_post {
            return Err(match &access.place {
                Place::Record { entry, .. } => {
                    Error::Forbidden(format!("missing permission `comment` on `{}`", entry.decl.name))
                }
                Place::Channel(_) => Error::Forbidden("the channel is archived".into()),
            });
        }
        let mut problems = Vec::new();
        let body = check_body(&input.body, &mut problems);
        let mentioned = self.check_mentions(&access, visibility, &input.mentions, &mut problems).await?;
        let records = self.check_record_mentions(principal, &input.records, &mut problems).await?;
        if let Some(reply_to) = input.reply_to {
            let target = store::message(&self.db, reply_to).await?;
            let fits = match (&target, &thread) {
                (Some(m), Some(t)) => {
                    m.thread_id == t.id
                        && access.sees(&m.visibility)
                        && (visibility == MessageVisibility::Internal || m.visibility == "shared")
                }
                _ => false,
            };
            if !fits {
                problems.push(error(
                    "/reply_to".into(),
                    FieldErrorCode::UnknownReference,
                    "no message in this thread that this message can answer (a shared message cannot answer an internal one)",
                ));
            }
        }
        let mut files = Vec::new();
        for (i, id) in input.attachments.iter().enumerate() {
            let pointer = format!("/attachments/{i}");
            let Place::Record { entry, record } = &access.place else {
                problems.push(error(pointer, FieldErrorCode::InvalidFormat, "files are attached on record threads"));
                continue;
            };
            match store::attachment(&self.db, *id).await? {
                Some(a)
                    if a.deleted_at.is_none()
                        && a.message_id.is_none()
                        && a.uploaded_by == principal.id
                        && a.type_name == entry.decl.name
                        && a.record_id == record.system.id =>
                {
                    if !files.contains(id) {
                        files.push(*id);
                    }
                }
                _ => problems.push(error(
                    pointer,
                    FieldErrorCode::UnknownReference,
                    "no file you uploaded to this record that is not posted yet",
                )),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let effects = self.mention_effects(principal, &access, &mentioned, None).await?;
        let mention_ids: Vec<Uuid> = mentioned.iter().map(|m| m.principal.id).collect();
        let now = weft_store::now();
        let message_id = Uuid::now_v7();
        let author = principal.on_behalf_of.map(|_| principal.id).unwrap_or(principal.id);
        let actor = principal.clone();
        let place_key = place_key(&access.place);
        let party = access.place.party();
        let channel_thread = match &access.place {
            Place::Channel(t) => Some(t.id),
            Place::Record { .. } => None,
        };
        let record_follows = record_follows(&access.place);
        let entry = match &access.place {
            Place::Record { entry, .. } => Some(entry.clone()),
            Place::Channel(_) => None,
        };
        let stored = StoredMessage {
            id: message_id,
            thread_id: Uuid::nil(),
            seq: 0,
            author_id: author,
            on_behalf_of: principal.on_behalf_of,
            visibility: visibility.as_str().to_owned(),
            body: body.clone(),
            reply_to: input.reply_to,
            mentions: serde_json::to_string(&mention_ids).unwrap_or_else(|_| "[]".into()),
            record_mentions: serde_json::to_string(&records).unwrap_or_else(|_| "[]".into()),
            version: 1,
            created_at: now,
            edited_at: None,
            deleted_at: None,
            deleted_by: None,
        };
        let written = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let thread_id = match (&place_key, channel_thread) {
                        (Some((type_name, record_id)), _) => {
                            // The record may have gone between the check and this write.
                            let exists = match &entry {
                                Some(entry) => {
                                    rows::get(Source::Tx(tx), &entry.spec, *record_id, false).await?.is_some()
                                }
                                None => false,
                            };
                            if !exists {
                                return Err(Error::NotFound(format!("{type_name} {record_id}")));
                            }
                            store::ensure_record_thread(tx, type_name, *record_id, &actor.actor(), now).await?.id
                        }
                        (None, Some(thread)) => thread,
                        (None, None) => return Err(Error::Internal("a message needs a thread".into())),
                    };
                    store::touch_thread(tx, thread_id, now).await?;
                    let seq = store::next_seq(tx, thread_id).await?;
                    let message = StoredMessage { thread_id, seq, ..stored };
                    store::insert_message(tx, &message).await?;
                    for file in &files {
                        if !store::attach_to_message(tx, *file, message.id, &message.visibility).await? {
                            return Err(Error::Conflict(format!("attachment {file} was posted or removed meanwhile")));
                        }
                    }
                    if let Some((type_name, record_id)) = &place_key {
                        store::follow(tx, type_name, *record_id, author, "author", now).await?;
                        for (who, why) in record_follows.iter().chain(effects.follows.iter()) {
                            store::follow(tx, type_name, *record_id, *who, why, now).await?;
                        }
                        for share in &effects.shares {
                            shares::put_share(tx, share).await?;
                        }
                    }
                    let detail = json!({
                        "thread": thread_id, "message": message.id, "seq": seq,
                        "visibility": message.visibility, "mentions": mention_ids,
                        "granted_read": effects.shares.iter().map(|s| s.principal).collect::<Vec<_>>(),
                    });
                    let (target_type, target_id) = match &place_key {
                        Some((type_name, record_id)) => (type_name.clone(), record_id.to_string()),
                        None => ("channel".to_owned(), thread_id.to_string()),
                    };
                    admin_audit::record(tx, &actor, "message.post", &target_type, &target_id, detail).await?;
                    let event = outbox::NewEvent {
                        kind: "message.posted".into(),
                        type_name: target_type,
                        record_id: Some(place_key.as_ref().map(|(_, id)| *id).unwrap_or(thread_id)),
                        actor: actor.actor(),
                        payload: json!({
                            "thread": thread_id, "message": message.id, "seq": seq,
                            "channel": channel_thread.is_some(),
                            "visibility": message.visibility, "party": party,
                            "author": author, "mentions": mention_ids,
                            "summary": summary(&message.body),
                        }),
                    };
                    outbox::append(tx, &event, now).await?;
                    Ok::<_, Error>(message)
                })
            })
            .await?;
        let rows = std::slice::from_ref(&written);
        let files = self.attachments_of(rows).await?;
        self.named(view(written, &BTreeMap::new(), &files)).await
    }

    /// Checks mentioned principals: they must exist and be active, and must be able to see
    /// a message of this visibility here (a guest never sees an internal message, nor a
    /// record of another party).
    async fn check_mentions(
        &self,
        access: &ThreadAccess,
        visibility: MessageVisibility,
        ids: &[Uuid],
        problems: &mut Vec<FieldError>,
    ) -> Result<Vec<Mentioned>> {
        if ids.len() > MAX_MENTIONS {
            problems.push(error(
                "/mentions".into(),
                FieldErrorCode::OutOfRange,
                format!("at most {MAX_MENTIONS} people per message"),
            ));
            return Ok(Vec::new());
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if !seen.insert(*id) {
                continue;
            }
            let pointer = format!("/mentions/{i}");
            let stored = principals::by_id_now(&self.db, *id).await?;
            let Some(stored) = stored.filter(crate::identity::principals::is_active) else {
                problems.push(error(pointer, FieldErrorCode::UnknownReference, format!("no active person {id}")));
                continue;
            };
            let principal = principal_of(&stored)?;
            if let Some(party) = principal.party() {
                let refusal = match (&access.place, visibility) {
                    (_, MessageVisibility::Internal) => {
                        Some("a partner contact would not see an internal message".to_owned())
                    }
                    (Place::Record { .. }, _) if access.place.party() != Some(party) => {
                        Some("a partner contact can only be mentioned on records of their own party".to_owned())
                    }
                    (Place::Channel(thread), _) if !store::is_member(&self.db, thread.id, principal.id).await? => {
                        Some("a partner contact must be a member of the channel to be mentioned".to_owned())
                    }
                    _ => None,
                };
                if let Some(reason) = refusal {
                    problems.push(error(pointer, FieldErrorCode::InvalidFormat, reason));
                    continue;
                }
            }
            out.push(Mentioned { principal });
        }
        Ok(out)
    }

    async fn check_record_mentions(
        &self,
        principal: &Principal,
        mentions: &[RecordMention],
        problems: &mut Vec<FieldError>,
    ) -> Result<Vec<RecordMention>> {
        if mentions.len() > MAX_MENTIONS {
            problems.push(error(
                "/records".into(),
                FieldErrorCode::OutOfRange,
                format!("at most {MAX_MENTIONS} records per message"),
            ));
            return Ok(Vec::new());
        }
        let mut out = BTreeSet::new();
        for (i, m) in mentions.iter().enumerate() {
            match self.get(principal, &m.type_name, m.id).await {
                Ok(_) => {
                    out.insert(m.clone());
                }
                // A record the poster cannot see is answered like a missing one.
                Err(Error::NotFound(_)) => problems.push(error(
                    format!("/records/{i}"),
                    FieldErrorCode::UnknownReference,
                    format!("no {} {} that you can see", m.type_name, m.id),
                )),
                Err(other) => return Err(other),
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Shares and follows for mentions on a record thread; `already` are the mentions a
    /// message had before an edit (they were handled then).
    async fn mention_effects(
        &self,
        principal: &Principal,
        access: &ThreadAccess,
        mentioned: &[Mentioned],
        already: Option<&BTreeSet<Uuid>>,
    ) -> Result<Effects> {
        let mut effects = Effects { shares: Vec::new(), follows: Vec::new() };
        let Place::Record { entry, record } = &access.place else {
            return Ok(effects);
        };
        for m in mentioned {
            if already.is_some_and(|a| a.contains(&m.principal.id)) {
                continue;
            }
            effects.follows.push((m.principal.id, "mentioned"));
            if !self.readable_now(&m.principal, entry, record).await? {
                effects.shares.push(Share {
                    type_name: entry.decl.name.clone(),
                    record_id: record.system.id,
                    principal: m.principal.id,
                    reason: "mentioned in a message".into(),
                    granted_by: principal.actor(),
                    granted_at: weft_store::now(),
                });
            }
        }
        Ok(effects)
    }

    /// A page of a record's thread, oldest first, as the principal may see it.
    pub async fn record_thread(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<ThreadPage> {
        let access = self.record_thread_access(principal, type_name, id).await?;
        let thread = store::record_thread(&self.db, type_name, id).await?;
        self.page(&access, thread.map(|t| t.id), after, limit).await
    }

    /// A page of a channel's messages, oldest first.
    pub async fn channel_messages(
        &self,
        principal: &Principal,
        channel: Uuid,
        after: i64,
        limit: u64,
    ) -> Result<ThreadPage> {
        let thread = self.channel_thread(channel).await?;
        let access = self.channel_access(principal, thread).await?;
        self.page(&access, Some(channel), after, limit).await
    }

    async fn page(&self, access: &ThreadAccess, thread: Option<Uuid>, after: i64, limit: u64) -> Result<ThreadPage> {
        let limit = limit.clamp(1, 200);
        let Some(thread) = thread else {
            return Ok(ThreadPage { thread: None, messages: Vec::new(), next_after: None });
        };
        let mut rows = store::messages(&self.db, thread, access.visibilities, after, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_after = more.then(|| rows.last().map(|m| m.seq)).flatten();
        let reactions = self.reactions_of(&rows).await?;
        let files = self.attachments_of(&rows).await?;
        let mut messages: Vec<MessageView> = rows.into_iter().map(|m| view(m, &reactions, &files)).collect();
        self.name_authors(&mut messages).await?;
        Ok(ThreadPage { thread: Some(thread), messages, next_after })
    }

    /// Fills in the authors' display names (one lookup per distinct author).
    async fn name_authors(&self, messages: &mut [MessageView]) -> Result<()> {
        let mut names: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
        for m in messages.iter_mut() {
            if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(m.author) {
                slot.insert(principals::by_id_now(&self.db, m.author).await?.map(|p| p.display_name));
            }
            m.author_name = names.get(&m.author).cloned().flatten();
        }
        Ok(())
    }

    async fn named(&self, mut message: MessageView) -> Result<MessageView> {
        self.name_authors(std::slice::from_mut(&mut message)).await?;
        Ok(message)
    }

    async fn attachments_of(&self, rows: &[StoredMessage]) -> Result<BTreeMap<Uuid, Vec<AttachmentView>>> {
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        let mut out: BTreeMap<Uuid, Vec<AttachmentView>> = BTreeMap::new();
        for a in store::message_attachments(&self.db, &ids).await? {
            if let Some(message) = a.message_id {
                out.entry(message).or_default().push(attachments::view(a));
            }
        }
        Ok(out)
    }

    async fn reactions_of(&self, rows: &[StoredMessage]) -> Result<BTreeMap<Uuid, Vec<(String, Uuid)>>> {
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        let mut out: BTreeMap<Uuid, Vec<(String, Uuid)>> = BTreeMap::new();
        for (message, by, emoji) in store::reactions(&self.db, &ids).await? {
            out.entry(message).or_default().push((emoji, by));
        }
        Ok(out)
    }

    /// One message with the access to its thread; `NotFound` when the principal may not
    /// see it (an internal message to a guest is missing, not forbidden).
    async fn visible_message(&self, principal: &Principal, id: Uuid) -> Result<(StoredMessage, ThreadAccess)> {
        let missing = || Error::NotFound(format!("message {id}"));
        let message = store::message(&self.db, id).await?.ok_or_else(missing)?;
        let thread = store::thread(&self.db, message.thread_id).await?.ok_or_else(missing)?;
        let access = self.thread_access(principal, thread).await.map_err(|e| match e {
            Error::NotFound(_) => missing(),
            other => other,
        })?;
        if !access.sees(&message.visibility) {
            return Err(missing());
        }
        Ok((message, access))
    }

    /// A message as search shows it, re-checked like any read of it: `None` when the
    /// principal may not see it (or it was deleted). The record's title is what the
    /// principal may read of it.
    pub(crate) async fn message_for_search(&self, principal: &Principal, id: Uuid) -> Result<Option<FoundMessage>> {
        let (message, access) = match self.visible_message(principal, id).await {
            Ok(found) => found,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if message.deleted_at.is_some() {
            return Ok(None);
        }
        let place = match access.place {
            Place::Record { entry, record } => {
                let hidden = self.field_rules(principal, &entry).hidden;
                let title = crate::search::record_title(&entry.decl, &record.system, &record.values, &hidden);
                FoundPlace::Record { type_name: entry.decl.name.clone(), id: record.system.id, title }
            }
            Place::Channel(thread) => FoundPlace::Channel { id: thread.id, name: thread.name.unwrap_or_default() },
        };
        Ok(Some(FoundMessage { message, place }))
    }

    pub async fn message(&self, principal: &Principal, id: Uuid) -> Result<MessageView> {
        let (message, _) = self.visible_message(principal, id).await?;
        let rows = std::slice::from_ref(&message);
        let (reactions, files) = (self.reactions_of(rows).await?, self.attachments_of(rows).await?);
        self.named(view(message, &reactions, &files)).await
    }

    /// Earlier bodies of an edited message, for whoever can see it. A deleted message's
    /// history is kept for the audit but shown to administrators only.
    pub async fn message_revisions(&self, principal: &Principal, id: Uuid) -> Result<Vec<RevisionView>> {
        let (message, _) = self.visible_message(principal, id).await?;
        if message.deleted_at.is_some() && !self.is_admin(principal) {
            return Err(Error::Forbidden("the message was deleted; its history is for administrators".into()));
        }
        Ok(store::revisions(&self.db, id)
            .await?
            .into_iter()
            .map(|r| RevisionView {
                version: r.version,
                body: r.body,
                replaced_at: format_utc(r.replaced_at),
                replaced_by: r.replaced_by,
            })
            .collect())
    }

    /// Edits one's own message; `expected` is the version the editor saw (`If-Match`).
    pub async fn edit_message(
        &self,
        principal: &Principal,
        id: Uuid,
        expected: Option<i64>,
        input: MessageEdit,
    ) -> Result<MessageView> {
        let (old, access) = self.visible_message(principal, id).await?;
        if old.author_id != principal.id {
            return Err(Error::Forbidden("only its author can edit a message".into()));
        }
        if old.deleted_at.is_some() {
            return Err(Error::Conflict(format!("message {id} was deleted")));
        }
        if expected.is_some_and(|v| v != old.version) {
            return Err(Error::Stale { current: old.version });
        }
        let mut problems = Vec::new();
        let body = check_body(&input.body, &mut problems);
        let visibility = visibility_of(&old.visibility);
        let mentioned = self.check_mentions(&access, visibility, &input.mentions, &mut problems).await?;
        let records = self.check_record_mentions(principal, &input.records, &mut problems).await?;
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let before: BTreeSet<Uuid> = decode_list::<Uuid>(&old.mentions).into_iter().collect();
        let effects = self.mention_effects(principal, &access, &mentioned, Some(&before)).await?;
        let mention_ids: Vec<Uuid> = mentioned.iter().map(|m| m.principal.id).collect();
        let new_mentions: Vec<Uuid> = mention_ids.iter().filter(|m| !before.contains(m)).copied().collect();
        let (target_type, target_id) = target_of(&access.place, old.thread_id);
        let party = access.place.party();
        let actor = principal.clone();
        let now = weft_store::now();
        let place_key = place_key(&access.place);
        let mentions_json = serde_json::to_string(&mention_ids).unwrap_or_else(|_| "[]".into());
        let records_json = serde_json::to_string(&records).unwrap_or_else(|_| "[]".into());
        let edited = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::edit_message(tx, &old, &body, &mentions_json, &records_json, &actor.actor(), now).await?
                    {
                        let current = store::message_in(tx, old.id).await?.map(|m| m.version).unwrap_or(old.version);
                        return Err(Error::Stale { current });
                    }
                    if let Some((type_name, record_id)) = &place_key {
                        for (who, why) in &effects.follows {
                            store::follow(tx, type_name, *record_id, *who, why, now).await?;
                        }
                        for share in &effects.shares {
                            shares::put_share(tx, share).await?;
                        }
                    }
                    let detail = json!({ "message": old.id, "version": old.version + 1, "new_mentions": new_mentions });
                    admin_audit::record(tx, &actor, "message.edit", &target_type, &target_id, detail).await?;
                    let event = outbox::NewEvent {
                        kind: "message.edited".into(),
                        type_name: target_type.clone(),
                        record_id: Uuid::parse_str(&target_id).ok(),
                        actor: actor.actor(),
                        payload: json!({
                            "thread": old.thread_id, "message": old.id, "seq": old.seq,
                            "channel": place_key.is_none(), "visibility": old.visibility,
                            "party": party, "author": old.author_id,
                            "mentions": new_mentions, "summary": summary(&body),
                            "version": old.version + 1,
                        }),
                    };
                    outbox::append(tx, &event, now).await?;
                    store::message_in(tx, old.id).await?.ok_or_else(|| Error::NotFound(format!("message {}", old.id)))
                })
            })
            .await?;
        let rows = std::slice::from_ref(&edited);
        let (reactions, files) = (self.reactions_of(rows).await?, self.attachments_of(rows).await?);
        self.named(view(edited, &reactions, &files)).await
    }

    /// Deletes a message, leaving a tombstone. Its author or an administrator.
    pub async fn delete_message(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let (old, access) = self.visible_message(principal, id).await?;
        if old.author_id != principal.id && !self.is_admin(principal) {
            return Err(Error::Forbidden("only its author or an administrator can delete a message".into()));
        }
        if old.deleted_at.is_some() {
            return Ok(());
        }
        let (target_type, target_id) = target_of(&access.place, old.thread_id);
        let actor = principal.clone();
        let now = weft_store::now();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::tombstone_message(tx, &old, &actor.actor(), now).await? {
                        return Ok(());
                    }
                    let detail = json!({ "message": old.id });
                    admin_audit::record(tx, &actor, "message.delete", &target_type, &target_id, detail).await?;
                    let event = outbox::NewEvent {
                        kind: "message.deleted".into(),
                        type_name: target_type.clone(),
                        record_id: Uuid::parse_str(&target_id).ok(),
                        actor: actor.actor(),
                        payload: json!({ "thread": old.thread_id, "message": old.id, "visibility": old.visibility }),
                    };
                    outbox::append(tx, &event, now).await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// Adds (or with `add = false` takes back) one's reaction. Idempotent.
    pub async fn react(&self, principal: &Principal, id: Uuid, emoji: &str, add: bool) -> Result<MessageView> {
        let emoji = emoji.trim();
        if emoji.is_empty() || emoji.chars().count() > 16 || emoji.chars().any(char::is_whitespace) {
            return Err(Error::Validation(vec![error(
                "/emoji".into(),
                FieldErrorCode::InvalidFormat,
                "one emoji or short code (1 to 16 characters, no spaces)",
            )]));
        }
        let (message, access) = self.visible_message(principal, id).await?;
        if !access.may_post {
            return Err(Error::Forbidden("missing permission `comment`".into()));
        }
        if message.deleted_at.is_some() {
            return Err(Error::Conflict(format!("message {id} was deleted")));
        }
        let (target_type, target_id) = target_of(&access.place, message.thread_id);
        let (who, emoji_owned, actor, now) = (principal.id, emoji.to_owned(), principal.actor(), weft_store::now());
        let thread = message.thread_id;
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let changed = if add {
                        store::add_reaction(tx, id, who, &emoji_owned, now).await?
                    } else {
                        store::remove_reaction(tx, id, who, &emoji_owned).await?
                    };
                    if changed {
                        tx.lock_event_log().await?;
                        let event = outbox::NewEvent {
                            kind: "message.reacted".into(),
                            type_name: target_type,
                            record_id: Uuid::parse_str(&target_id).ok(),
                            actor,
                            payload: json!({ "thread": thread, "message": id, "emoji": emoji_owned, "added": add }),
                        };
                        outbox::append(tx, &event, now).await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await?;
        self.message(principal, id).await
    }

    pub(super) async fn channel_thread(&self, channel: Uuid) -> Result<StoredThread> {
        store::thread(&self.db, channel)
            .await?
            .filter(|t| t.kind == "channel")
            .ok_or_else(|| Error::NotFound(format!("channel {channel}")))
    }
}

fn place_key(place: &Place) -> Option<(String, Uuid)> {
    match place {
        Place::Record { entry, record } => Some((entry.decl.name.clone(), record.system.id)),
        Place::Channel(_) => None,
    }
}

fn target_of(place: &Place, thread: Uuid) -> (String, String) {
    match place_key(place) {
        Some((type_name, id)) => (type_name, id.to_string()),
        None => ("channel".to_owned(), thread.to_string()),
    }
}

/// The record's creator and owner follow its thread.
fn record_follows(place: &Place) -> Vec<(Uuid, &'static str)> {
    let Place::Record { record, .. } = place else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if record.system.created_by != Principal::SYSTEM_ID {
        out.push((record.system.created_by, "creator"));
    }
    if let Some(owner) = record.system.owner.filter(|o| *o != record.system.created_by) {
        out.push((owner, "owner"));
    }
    out
}
