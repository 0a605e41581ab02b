//! The `delivery` outbox consumer: turns what happened into queued deliveries.
//! - `inbox.delivered` (written with the items by the inbox fan-out, so it always comes
//!   after them): each new item goes by e-mail as its recipient chose (immediate, digest,
//!   off), re-checked as a reader first;
//! - a process step that created user tasks: each task's assignee (or candidates) gets the
//!   to-do by e-mail, as chosen for `todo` (to-dos are not inbox rows, they are open tasks);
//! - `message.posted`, `record.created`, `record.transitioned`: every robot attached to the
//!   channel or the record's type that listens to the event gets a card. Internal messages
//!   only reach robots whose group is members-only (`include_internal`).
//!
//! Rows are keyed (channel, target, source), so a replayed event queues nothing twice.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use time::OffsetDateTime;
use uuid::Uuid;
use weft_store::BoxFuture;
use weft_store::kernel::collab::{self as collab_store, StoredInboxItem};
use weft_store::kernel::delivery::{self as store, StoredDelivery};
use weft_store::kernel::outbox::StoredEvent;
use weft_store::kernel::processes as process_store;
use weft_store::records::rows::{self, Source};

use super::Outbound;
use super::notice::{Lang, Notice, headline, record_path};
use super::settings::RobotEvents;
use crate::consumers::Consumer;
use crate::{Error, Result, Workspace};

impl Consumer for Outbound {
    fn name(&self) -> &str {
        "delivery"
    }

    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut rows = Vec::new();
            match event.kind.as_str() {
                "inbox.delivered" => self.mail_inbox_items(workspace, event, &mut rows).await?,
                "message.posted" | "record.created" | "record.transitioned" => {
                    self.robot_cards(workspace, event, &mut rows).await?
                }
                kind if kind.starts_with("process.") => self.mail_todos(workspace, event, &mut rows).await?,
                _ => {}
            }
            if rows.is_empty() {
                return Ok(());
            }
            workspace
                .db
                .write(move |tx| {
                    Box::pin(async move {
                        for row in &rows {
                            store::enqueue(tx, row).await?;
                        }
                        Ok::<_, Error>(())
                    })
                })
                .await
        })
    }
}

fn row(
    channel: &str,
    target: Uuid,
    source: String,
    mode: &str,
    notice: &Notice,
    due: OffsetDateTime,
) -> StoredDelivery {
    StoredDelivery {
        id: Uuid::now_v7(),
        channel: channel.into(),
        target,
        source,
        mode: mode.into(),
        payload: notice.to_json(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: due,
        locked_until: None,
        last_error: None,
        created_at: due,
        updated_at: due,
    }
}

impl Outbound {
    /// When an e-mail in `mode` to `target` is due: now, or when its open digest goes out.
    async fn due(
        &self,
        workspace: &Workspace,
        target: Uuid,
        mode: &str,
        digest_minutes: i64,
    ) -> Result<OffsetDateTime> {
        let now = self.now();
        if mode != "digest" {
            return Ok(now);
        }
        Ok(match store::digest_due(&workspace.db, "email", target).await? {
            Some(due) => due,
            None => now + time::Duration::minutes(digest_minutes),
        })
    }

    async fn mail_inbox_items(&self, ws: &Workspace, event: &StoredEvent, out: &mut Vec<StoredDelivery>) -> Result<()> {
        let Some(source) = event.payload.get("source").and_then(Json::as_str) else { return Ok(()) };
        if self.inner.mailer.is_none() {
            return Ok(());
        }
        for item in collab_store::inbox_items_from(&ws.db, source).await? {
            let settings = ws.settings_of(item.principal).await?;
            let mode = settings.mode(&item.kind).to_owned();
            if mode == "off" {
                continue;
            }
            let Some((stored, principal)) = ws.recipient(item.principal).await? else { continue };
            if stored.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                continue;
            }
            let Some(notice) = self.item_notice(ws, &item, Lang::of(stored.locale.as_deref()), &principal).await?
            else {
                continue;
            };
            if !ws.may_receive(&principal, &notice).await? {
                continue;
            }
            let due = self.due(ws, item.principal, &mode, settings.digest_minutes).await?;
            out.push(row("email", item.principal, format!("item:{}", item.id), &mode, &notice, due));
        }
        Ok(())
    }

    /// The notice of an inbox item, as its recipient may see it (a guest's never shows a
    /// title field its roles hide).
    async fn item_notice(
        &self,
        ws: &Workspace,
        item: &StoredInboxItem,
        lang: Lang,
        principal: &weft_model::Principal,
    ) -> Result<Option<Notice>> {
        let actor = ws.actor_name(&item.actor).await;
        let (title, path) = match (&item.type_name, item.record_id) {
            (Some(type_name), Some(id)) => {
                let Ok(entry) = ws.entry(type_name) else { return Ok(None) };
                let Some(record) = rows::get(Source::Db(&ws.db), &entry.spec, id, false).await? else {
                    return Ok(None);
                };
                let hidden = ws.field_rules(principal, &entry).hidden;
                (ws.record_title(&entry, &record, |f| hidden.contains(f)), record_path(type_name, id))
            }
            _ => {
                let name = match item.thread_id {
                    Some(thread) => collab_store::thread(&ws.db, thread).await?.and_then(|t| t.name),
                    None => None,
                };
                (name.map(|n| format!("#{n}")).unwrap_or_else(|| "Weft".into()), "/inbox".into())
            }
        };
        // A transition's summary already says what changed; a message's is its text.
        let detail = if item.message_id.is_some() { String::new() } else { item.summary.clone() };
        let text = if item.message_id.is_some() { item.summary.clone() } else { String::new() };
        Ok(Some(Notice {
            kind: item.kind.clone(),
            title,
            headline: headline(lang, &item.kind, &actor, &detail),
            text,
            path,
            type_name: item.type_name.clone(),
            record: item.record_id,
            thread: item.thread_id,
            message: item.message_id,
        }))
    }

    async fn mail_todos(&self, ws: &Workspace, event: &StoredEvent, out: &mut Vec<StoredDelivery>) -> Result<()> {
        let Some(tasks) = event.payload.get("created_tasks").and_then(Json::as_array) else { return Ok(()) };
        if self.inner.mailer.is_none() {
            return Ok(());
        }
        for id in tasks.iter().filter_map(Json::as_str) {
            let Some(task) = process_store::task(&ws.db, id).await? else { continue };
            if task.status != "open" {
                continue;
            }
            for person in task_recipients(ws, &task) {
                let settings = ws.settings_of(person).await?;
                let mode = settings.mode("todo").to_owned();
                if mode == "off" {
                    continue;
                }
                let Some((stored, principal)) = ws.recipient(person).await? else { continue };
                if principal.party().is_some() || stored.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                    continue;
                }
                let lang = Lang::of(stored.locale.as_deref());
                let name = task.name.clone().unwrap_or_else(|| task.element.clone());
                let (title, path) = match (&task.record_type, task.record_id) {
                    (Some(type_name), Some(record_id)) => {
                        let Ok(entry) = ws.entry(type_name) else { continue };
                        let Some(record) = rows::get(Source::Db(&ws.db), &entry.spec, record_id, false).await? else {
                            continue;
                        };
                        let hidden = ws.field_rules(&principal, &entry).hidden;
                        (ws.record_title(&entry, &record, |f| hidden.contains(f)), record_path(type_name, record_id))
                    }
                    _ => (name.clone(), "/inbox?kind=todo".to_owned()),
                };
                let notice = Notice {
                    kind: "todo".into(),
                    title,
                    headline: headline(lang, "todo", "", &name),
                    text: task.due_at.map(|d| format!("⏰ {}", weft_store::format_utc(d))).unwrap_or_default(),
                    path,
                    type_name: task.record_type.clone(),
                    record: task.record_id,
                    thread: None,
                    message: None,
                };
                // The assignee was chosen by the process; the record may still be one they
                // cannot read (then the task's page tells them, not a mail).
                if !ws.may_receive(&principal, &notice).await? {
                    continue;
                }
                let due = self.due(ws, person, &mode, settings.digest_minutes).await?;
                out.push(row("email", person, format!("task:{}", task.id), &mode, &notice, due));
            }
        }
        Ok(())
    }

    async fn robot_cards(&self, ws: &Workspace, event: &StoredEvent, out: &mut Vec<StoredDelivery>) -> Result<()> {
        let p = &event.payload;
        let on_channel = event.kind == "message.posted" && p.get("channel").and_then(Json::as_bool).unwrap_or(false);
        let thread = p.get("thread").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let robots = if on_channel {
            store::robots_for(&ws.db, thread, None).await?
        } else {
            store::robots_for(&ws.db, None, Some(&event.type_name)).await?
        };
        let internal = p.get("visibility").and_then(Json::as_str) == Some("internal");
        let listening: Vec<_> = robots
            .into_iter()
            .filter(|r| RobotEvents::of(r).events.contains(&event.kind))
            .filter(|r| event.kind != "message.posted" || !internal || r.include_internal)
            .collect();
        if listening.is_empty() {
            return Ok(());
        }
        let actor = ws.actor_name(&event.actor).await;
        let (title, path, record) = if on_channel {
            let name = match thread {
                Some(t) => collab_store::thread(&ws.db, t).await?.and_then(|t| t.name),
                None => None,
            };
            (name.map(|n| format!("#{n}")).unwrap_or_default(), "/inbox".to_owned(), None)
        } else {
            let (Ok(entry), Some(id)) = (ws.entry(&event.type_name), event.record_id) else { return Ok(()) };
            let Some(stored) = rows::get(Source::Db(&ws.db), &entry.spec, id, false).await? else { return Ok(()) };
            (ws.record_title(&entry, &stored, |_| false), record_path(&event.type_name, id), Some(id))
        };
        let (detail, text) = match event.kind.as_str() {
            "message.posted" => (String::new(), p.get("summary").and_then(Json::as_str).unwrap_or_default().to_owned()),
            "record.transitioned" => {
                let state = |key: &str| p.get(key).and_then(Json::as_str).unwrap_or("?").to_owned();
                (format!("{} → {}", state("from"), state("to")), String::new())
            }
            _ => (String::new(), String::new()),
        };
        for robot in listening {
            let lang = Lang::of(Some(&RobotEvents::of(&robot).language));
            let notice = Notice {
                kind: event.kind.clone(),
                title: title.clone(),
                headline: headline(lang, &event.kind, &actor, &detail),
                text: text.clone(),
                path: path.clone(),
                type_name: record.map(|_| event.type_name.clone()),
                record,
                thread,
                message: p.get("message").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()),
            };
            out.push(row("robot", robot.id, format!("event:{}", event.seq), "immediate", &notice, self.now()));
        }
        Ok(())
    }
}

/// Who a new task is for: its assignee, else its candidates (people, role holders, unit
/// members), each once.
fn task_recipients(ws: &Workspace, task: &process_store::StoredTask) -> BTreeSet<Uuid> {
    if let Some(assignee) = task.assignee {
        return BTreeSet::from([assignee]);
    }
    let directory = ws.directory();
    let mut people: BTreeSet<Uuid> = serde_json::from_str(&task.candidate_principals).unwrap_or_default();
    let roles: Vec<String> = serde_json::from_str(&task.candidate_roles).unwrap_or_default();
    for (principal, held) in &directory.holdings {
        if held.iter().any(|r| roles.contains(r)) {
            people.insert(*principal);
        }
    }
    let units: Vec<Uuid> = serde_json::from_str(&task.candidate_units).unwrap_or_default();
    for unit in units {
        people.extend(directory.org.members_of(unit));
    }
    people
}
