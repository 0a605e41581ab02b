//! The inbox fan-out: an outbox consumer that turns messages and record transitions into
//! inbox items. Each recipient is checked again here with the same rules as a read (a
//! guest never gets an internal message, nobody gets news of a record they cannot read), so
//! the inbox cannot leak what the thread would not show. Items are keyed by the event, so a
//! replayed event delivers nothing twice.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::BoxFuture;
use weft_store::kernel::collab::{self as store, StoredInboxItem};
use weft_store::kernel::outbox::{self, StoredEvent};
use weft_store::kernel::principals;
use weft_store::records::rows::{self, Source};

use super::access::visible_to;
use crate::consumers::Consumer;
use crate::identity::principals::{is_active, principal_of};
use crate::{Error, Result, Workspace};

/// Delivers inbox items; run it with `Workspace::spawn_consumer` (as `weft serve` does).
pub struct InboxFanout;

/// An alert for `Workspace::raise_alert`.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub recipients: Vec<Uuid>,
    /// The record it is about.
    pub type_name: String,
    pub record_id: Uuid,
    pub summary: String,
    /// What raised it, e.g. `scorecard:<profile>:v<version>`: one item per source and
    /// recipient.
    pub source: String,
}

impl Consumer for InboxFanout {
    fn name(&self) -> &str {
        "inbox"
    }

    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match event.kind.as_str() {
                "message.posted" | "message.edited" => workspace.fan_out_message(event).await,
                "record.transitioned" => workspace.fan_out_transition(event).await,
                _ => Ok(()),
            }
        })
    }
}

fn uuid_at(payload: &Json, key: &str) -> Option<Uuid> {
    payload.get(key).and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

fn uuids_at(payload: &Json, key: &str) -> Vec<Uuid> {
    payload
        .get(key)
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())).collect())
        .unwrap_or_default()
}

/// The acting principal's id from an event's actor (`<id>` or `<id> for <delegator>`).
fn actor_id(actor: &str) -> Option<Uuid> {
    actor.split(' ').next().and_then(|s| Uuid::parse_str(s).ok())
}

impl Workspace {
    async fn active_principal(&self, id: Uuid) -> Result<Option<Principal>> {
        match principals::by_id_now(&self.db, id).await?.filter(is_active) {
            Some(stored) => Ok(Some(principal_of(&stored)?)),
            None => Ok(None),
        }
    }

    async fn fan_out_message(&self, event: &StoredEvent) -> Result<()> {
        let p = &event.payload;
        let (Some(thread), Some(message), Some(target)) =
            (uuid_at(p, "thread"), uuid_at(p, "message"), event.record_id)
        else {
            return Ok(());
        };
        let visibility = p.get("visibility").and_then(Json::as_str).unwrap_or("internal");
        let channel = p.get("channel").and_then(Json::as_bool).unwrap_or(false);
        let author = uuid_at(p, "author");
        let summary = p.get("summary").and_then(Json::as_str).unwrap_or_default().to_owned();

        let mut recipients: BTreeMap<Uuid, &'static str> = BTreeMap::new();
        if event.kind == "message.posted" {
            let audience = if channel {
                store::members(&self.db, thread).await?
            } else {
                store::followers(&self.db, &event.type_name, target).await?.into_iter().map(|f| f.principal).collect()
            };
            for id in audience {
                recipients.insert(id, "update");
            }
        }
        for id in uuids_at(p, "mentions") {
            recipients.insert(id, "mention");
        }
        if let Some(author) = author {
            recipients.remove(&author);
        }
        if recipients.is_empty() {
            return Ok(());
        }

        let record = if channel {
            None
        } else {
            let Ok(entry) = self.entry(&event.type_name) else { return Ok(()) };
            match rows::get(Source::Db(&self.db), &entry.spec, target, false).await? {
                Some(record) => Some((entry, record)),
                None => return Ok(()),
            }
        };
        let mut items = Vec::new();
        for (id, kind) in recipients {
            let Some(principal) = self.active_principal(id).await? else { continue };
            if !visible_to(&principal).contains(&visibility) {
                continue;
            }
            let may_see = match &record {
                Some((entry, record)) => self.readable_now(&principal, entry, record).await?,
                None => store::is_member(&self.db, thread, id).await?,
            };
            if !may_see {
                continue;
            }
            items.push(StoredInboxItem {
                id: Uuid::now_v7(),
                principal: id,
                kind: kind.to_owned(),
                source: format!("event:{}", event.seq),
                type_name: (!channel).then(|| event.type_name.clone()),
                record_id: (!channel).then_some(target),
                thread_id: Some(thread),
                message_id: Some(message),
                actor: event.actor.clone(),
                summary: summary.clone(),
                state: "unread".into(),
                snoozed_until: None,
                created_at: event.at,
                updated_at: event.at,
            });
        }
        self.deliver(items).await
    }

    async fn fan_out_transition(&self, event: &StoredEvent) -> Result<()> {
        let Some(id) = event.record_id else { return Ok(()) };
        let followers = store::followers(&self.db, &event.type_name, id).await?;
        let actor = actor_id(&event.actor);
        if followers.iter().all(|f| Some(f.principal) == actor) {
            return Ok(());
        }
        let Ok(entry) = self.entry(&event.type_name) else { return Ok(()) };
        let Some(record) = rows::get(Source::Db(&self.db), &entry.spec, id, false).await? else {
            return Ok(());
        };
        let p = &event.payload;
        let state = |key: &str| p.get(key).and_then(Json::as_str).unwrap_or("?").to_owned();
        let name = record.system.number.clone().unwrap_or_else(|| entry.decl.label.en.clone());
        let summary = format!("{name}: {} → {}", state("from"), state("to"));
        let mut items = Vec::new();
        for follower in followers {
            if Some(follower.principal) == actor {
                continue;
            }
            let Some(principal) = self.active_principal(follower.principal).await? else { continue };
            if !self.readable_now(&principal, &entry, &record).await? {
                continue;
            }
            items.push(StoredInboxItem {
                id: Uuid::now_v7(),
                principal: follower.principal,
                kind: "update".into(),
                source: format!("event:{}", event.seq),
                type_name: Some(event.type_name.clone()),
                record_id: Some(id),
                thread_id: None,
                message_id: None,
                actor: event.actor.clone(),
                summary: summary.clone(),
                state: "unread".into(),
                snoozed_until: None,
                created_at: event.at,
                updated_at: event.at,
            });
        }
        self.deliver(items).await
    }

    /// An `alert` about a record in the inbox of each recipient who is active and may read
    /// the record now (others are skipped, like the fan-out's). One item per recipient and
    /// `source`: raising the same alert again delivers nothing twice. Returns how many
    /// recipients it was addressed to. Engines call it (the supplier scorecard today; the
    /// rules engine later).
    pub async fn raise_alert(&self, alert: NewAlert) -> Result<usize> {
        let entry = self.entry(&alert.type_name)?;
        let Some(record) = rows::get(Source::Db(&self.db), &entry.spec, alert.record_id, false).await? else {
            return Ok(0);
        };
        let at = weft_store::now();
        let mut items = Vec::new();
        let mut recipients = alert.recipients.clone();
        recipients.sort();
        recipients.dedup();
        for id in recipients {
            let Some(principal) = self.active_principal(id).await? else { continue };
            if !self.readable_now(&principal, &entry, &record).await? {
                continue;
            }
            items.push(StoredInboxItem {
                id: Uuid::now_v7(),
                principal: id,
                kind: "alert".into(),
                source: alert.source.clone(),
                type_name: Some(alert.type_name.clone()),
                record_id: Some(alert.record_id),
                thread_id: None,
                message_id: None,
                actor: "system".into(),
                summary: alert.summary.clone(),
                state: "unread".into(),
                snoozed_until: None,
                created_at: at,
                updated_at: at,
            });
        }
        let addressed = items.len();
        self.deliver(items).await?;
        Ok(addressed)
    }

    async fn deliver(&self, items: Vec<StoredInboxItem>) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if store::deliver(tx, &items).await? > 0 {
                        // Live inboxes learn that something arrived (not what: they fetch it);
                        // outward delivery reads the items by their source.
                        let source = items[0].source.clone();
                        let mut principals: Vec<Uuid> = items.iter().map(|i| i.principal).collect();
                        principals.sort();
                        principals.dedup();
                        tx.lock_event_log().await?;
                        let event = outbox::NewEvent {
                            kind: "inbox.delivered".into(),
                            type_name: "inbox".into(),
                            record_id: None,
                            actor: "system".into(),
                            payload: serde_json::json!({ "principals": principals, "source": source }),
                        };
                        outbox::append(tx, &event, weft_store::now()).await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::actor_id;

    #[test]
    fn actor_ids_are_read_from_delegated_actors_too() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(actor_id(&id.to_string()), Some(id));
        assert_eq!(actor_id(&format!("{id} for {}", uuid::Uuid::nil())), Some(id));
        assert_eq!(actor_id("system"), None);
    }
}
