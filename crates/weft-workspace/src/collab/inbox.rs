//! Each principal's inbox: mentions, updates of followed records and, later, alerts from
//! rules. Items arrive through the fan-out consumer; reading and marking them touches only
//! the caller's own items, and marking twice is the same as marking once.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::format_utc;
use weft_store::kernel::collab::{self as store, InboxFilter, StoredInboxItem};

use crate::processes::TaskView;
use crate::{Error, Result, Workspace};

const KINDS: &[&str] = &["mention", "update", "alert", "todo"];
const STATES: &[&str] = &["unread", "read", "done"];

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `mention`, `update`, `alert` or `todo`.
    pub kind: Option<String>,
    /// Comma-separated states (`unread,read`); all but `done` when left out.
    pub state: Option<String>,
    /// Include items snoozed into the future.
    #[serde(default)]
    pub include_snoozed: bool,
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    pub record: Option<Uuid>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItemView {
    pub id: Uuid,
    pub kind: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Uuid>,
    pub actor: String,
    pub summary: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A to-do's process task (act on it under `/api/v1/tasks/{task}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItemView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct InboxCounts {
    /// Unread, awake items.
    pub unread: i64,
    /// Open to-dos past their due time.
    pub overdue: i64,
    /// Items not done, awake, by kind.
    pub open_by_kind: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxMark {
    pub ids: Vec<Uuid>,
    /// `unread`, `read` or `done`.
    #[serde(default)]
    pub state: Option<String>,
    /// RFC 3339: hide the items until then; `null` wakes them.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub snooze_until: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn bad(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError { pointer: pointer.into(), code, reason: reason.into() }])
}

fn view(item: StoredInboxItem) -> InboxItemView {
    InboxItemView {
        id: item.id,
        kind: item.kind,
        type_name: item.type_name,
        record: item.record_id,
        thread: item.thread_id,
        message: item.message_id,
        actor: item.actor,
        summary: item.summary,
        state: item.state,
        snoozed_until: item.snoozed_until.map(format_utc),
        created_at: format_utc(item.created_at),
        updated_at: format_utc(item.updated_at),
        task: None,
        due_at: None,
        overdue: false,
    }
}

/// An open process task as a to-do. Its id is derived from the task's, so it is stable;
/// it is done by completing the task, not by marking.
fn todo_view(task: TaskView, now: OffsetDateTime) -> InboxItemView {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(task.id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    InboxItemView {
        id: uuid::Builder::from_random_bytes(bytes).into_uuid(),
        kind: "todo".into(),
        type_name: task.record_type.clone(),
        record: task.record_id,
        thread: None,
        message: None,
        actor: "system".into(),
        summary: task.name.clone().unwrap_or_else(|| task.element.clone()),
        state: "unread".into(),
        snoozed_until: None,
        created_at: format_utc(task.created_at),
        updated_at: format_utc(task.created_at),
        overdue: task.due_at.is_some_and(|due| due < now),
        due_at: task.due_at.map(format_utc),
        task: Some(task.id),
    }
}

fn parse_time(text: &str, pointer: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad(pointer, FieldErrorCode::InvalidFormat, "an RFC 3339 date-time, e.g. 2026-12-03T09:00:00Z"))
}

fn encode_cursor(item: &StoredInboxItem) -> String {
    format!("{}_{}", item.created_at.unix_timestamp_nanos(), item.id)
}

fn decode_cursor(text: &str) -> Result<(OffsetDateTime, Uuid)> {
    let invalid = || bad("/cursor", FieldErrorCode::InvalidFormat, "not a cursor this inbox gave out");
    let (nanos, id) = text.split_once('_').ok_or_else(invalid)?;
    let nanos: i128 = nanos.parse().map_err(|_| invalid())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?;
    Ok((at, Uuid::parse_str(id).map_err(|_| invalid())?))
}

impl Workspace {
    pub async fn inbox(&self, principal: &Principal, query: &InboxQuery) -> Result<InboxPage> {
        if let Some(kind) = &query.kind
            && !KINDS.contains(&kind.as_str())
        {
            return Err(bad("/kind", FieldErrorCode::UnknownOption, format!("one of {}", KINDS.join(", "))));
        }
        let states: Vec<String> = match &query.state {
            None => vec!["unread".into(), "read".into()],
            Some(text) => {
                let states: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(wrong) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
                    return Err(bad(
                        "/state",
                        FieldErrorCode::UnknownOption,
                        format!("`{wrong}` is not a state; use {}", STATES.join(", ")),
                    ));
                }
                states
            }
        };
        let limit = query.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(bad("/limit", FieldErrorCode::OutOfRange, "1 to 200"));
        }
        if query.kind.as_deref() == Some("todo") {
            return self.todos(principal, query, limit).await;
        }
        let filter = InboxFilter {
            kind: query.kind.clone(),
            states,
            awake_at: (!query.include_snoozed).then(weft_store::now),
            type_name: query.type_name.clone(),
            record_id: query.record,
            before: query.cursor.as_deref().map(decode_cursor).transpose()?,
            limit: limit + 1,
        };
        let mut items = store::inbox(&self.db, principal.id, &filter).await?;
        let next = (items.len() as u64 > limit).then(|| {
            items.truncate(limit as usize);
            items.last().map(encode_cursor)
        });
        Ok(InboxPage { items: items.into_iter().map(view).collect(), next: next.flatten() })
    }

    /// To-dos: the open process tasks the principal may act on (assigned, claimable, or of
    /// someone they stand in for), oldest first; guests have none.
    async fn todos(&self, principal: &Principal, query: &InboxQuery, limit: u64) -> Result<InboxPage> {
        if principal.party().is_some() {
            return Ok(InboxPage { items: Vec::new(), next: None });
        }
        let now = self.process_now();
        let mut tasks = self.my_tasks(principal).await?;
        tasks.retain(|t| {
            query.type_name.as_ref().is_none_or(|ty| t.record_type.as_ref() == Some(ty))
                && query.record.is_none_or(|r| t.record_id == Some(r))
        });
        tasks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let skip = match &query.cursor {
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| bad("/cursor", FieldErrorCode::InvalidFormat, "not a cursor this inbox gave out"))?,
            None => 0,
        };
        let total = tasks.len();
        let items: Vec<InboxItemView> =
            tasks.into_iter().skip(skip).take(limit as usize).map(|t| todo_view(t, now)).collect();
        let next = (skip + items.len() < total).then(|| (skip + items.len()).to_string());
        Ok(InboxPage { items, next })
    }

    pub async fn inbox_counts(&self, principal: &Principal) -> Result<InboxCounts> {
        let mut counts = InboxCounts::default();
        if principal.party().is_none() {
            let now = self.process_now();
            let tasks = self.my_tasks(principal).await?;
            counts.overdue = tasks.iter().filter(|t| t.due_at.is_some_and(|d| d < now)).count() as i64;
            if !tasks.is_empty() {
                counts.open_by_kind.insert("todo".into(), tasks.len() as i64);
            }
        }
        for (kind, state, n) in store::inbox_counts(&self.db, principal.id, weft_store::now()).await? {
            if state == "unread" {
                counts.unread += n;
            }
            if state != "done" {
                *counts.open_by_kind.entry(kind).or_default() += n;
            }
        }
        Ok(counts)
    }

    /// Marks some of one's own items; ids that are not the caller's are answered as
    /// missing (all or nothing).
    pub async fn mark_inbox(&self, principal: &Principal, input: InboxMark) -> Result<Vec<InboxItemView>> {
        if input.ids.is_empty() || input.ids.len() > 500 {
            return Err(bad("/ids", FieldErrorCode::OutOfRange, "1 to 500 item ids"));
        }
        if let Some(state) = &input.state
            && !STATES.contains(&state.as_str())
        {
            return Err(bad("/state", FieldErrorCode::UnknownOption, format!("one of {}", STATES.join(", "))));
        }
        if input.state.is_none() && input.snooze_until.is_none() {
            return Err(bad("/state", FieldErrorCode::Required, "say the new state, a snooze, or both"));
        }
        let snooze = match &input.snooze_until {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => Some(Some(parse_time(text, "/snooze_until")?)),
        };
        let mut ids = input.ids.clone();
        ids.sort();
        ids.dedup();
        for id in &ids {
            if store::inbox_item(&self.db, principal.id, *id).await?.is_none() {
                return Err(Error::NotFound(format!("inbox item {id}")));
            }
        }
        let (who, state, marked) = (principal.id, input.state.clone(), ids.clone());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::mark(tx, who, &marked, state.as_deref(), snooze, weft_store::now()).await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(item) = store::inbox_item(&self.db, principal.id, id).await? {
                out.push(view(item));
            }
        }
        Ok(out)
    }
}
