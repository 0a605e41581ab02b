//! The live feed behind `/api/v1/live`: one task tails the outbox (woken by the store when
//! a commit appended events, polling as a fallback) and hands each event to the
//! connections listening to a topic it concerns (`live_hub`); each connection asks
//! `live_frames` what, if anything, its principal may be told about it. The policy runs here, per principal and event — a connection never gets
//! an event to filter on the client. What is sent is a notice (ids, versions, a message's
//! summary when the principal may read the message); the data itself is fetched through
//! the API, which checks access again.
//!
//! A notice's content depends on the event and the topic only, never on who receives it:
//! the principal decides *whether* it is sent. So each event carries what its listeners
//! share: the frame (the JSON text) of each topic, serialised once, and the answer of the
//! record read policy for each distinct principal, asked once however many connections
//! that principal has open. A connection's own work is a set lookup or two and a send.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::kernel::collab as store;
use weft_store::kernel::outbox;
pub use weft_store::kernel::outbox::StoredEvent;
use weft_store::records::rows::{self, Source, StoredRecord};

use super::access::visible_to;
use super::live_hub::Hub;
pub use super::live_hub::{Heard, Listener};
use crate::catalog::TypeEntry;
use crate::{Error, Result, Workspace};

/// A reconnect further behind than this refetches instead of replaying.
pub const MAX_REPLAY: i64 = 10_000;
/// How often the tail looks at the outbox without being woken: commits of other processes
/// on SQLite, notifications lost while PostgreSQL reconnects.
const FALLBACK_POLL: Duration = Duration::from_millis(100);
/// The newest events whose shared answers and frames are kept; an older one's are dropped
/// (a connection that far behind works them out again), so memory stays bounded however
/// many principals listen.
const SHARED_KEPT: usize = 64;

/// What a connection listens to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// The principal's inbox (new items arrived).
    Inbox,
    /// One record: its changes, messages and files.
    Record { type_name: String, id: Uuid },
    /// One channel's messages.
    Channel(Uuid),
    /// Every record of a type the principal may read (list views).
    Type(String),
}

impl FromStr for Topic {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Topic, String> {
        let bad = || format!("`{s}` is not a topic: use inbox, record:<type>/<id>, channel:<id> or type:<type>");
        if s == "inbox" {
            return Ok(Topic::Inbox);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "record" => {
                let (type_name, id) = rest.split_once('/').ok_or_else(bad)?;
                Ok(Topic::Record { type_name: type_name.to_owned(), id: Uuid::parse_str(id).map_err(|_| bad())? })
            }
            "channel" => Ok(Topic::Channel(Uuid::parse_str(rest).map_err(|_| bad())?)),
            "type" if !rest.is_empty() => Ok(Topic::Type(rest.to_owned())),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Topic::Inbox => write!(f, "inbox"),
            Topic::Record { type_name, id } => write!(f, "record:{type_name}/{id}"),
            Topic::Channel(id) => write!(f, "channel:{id}"),
            Topic::Type(t) => write!(f, "type:{t}"),
        }
    }
}

/// One notice for one connection, as sent (`kind` is always `event`).
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent<'a> {
    pub kind: &'static str,
    pub seq: i64,
    pub topic: &'a str,
    pub event: &'a str,
    pub data: &'a Json,
}

/// The outbox tail shared by all connections, and who listens to what.
#[derive(Debug)]
pub struct LiveFeed {
    hub: Arc<Hub>,
}

/// An event with what every connection needs to judge it, looked up once by the tail
/// rather than once per connection: the record it is about (as it is now), for a channel
/// message the channel's members, for new inbox items whose inboxes; and what the
/// connections worked out so far, shared.
#[derive(Debug)]
pub struct LiveItem {
    pub event: StoredEvent,
    record: Option<(Arc<TypeEntry>, StoredRecord)>,
    members: Option<BTreeSet<Uuid>>,
    inboxes: HashSet<Uuid>,
    /// The frame of each topic the event concerns, serialised once by the tail: the same
    /// text for every connection that may be told.
    frames: Vec<(Topic, Bytes)>,
    shared: Mutex<Shared>,
}

/// Answers that do not depend on the connection asking.
#[derive(Debug, Default)]
struct Shared {
    /// May this principal read the event's record (as the read policy answers)?
    readable: HashMap<Principal, bool>,
}

impl LiveItem {
    pub fn seq(&self) -> i64 {
        self.event.seq
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        // Only caches live behind the lock: one poisoned by a panic is still usable.
        self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An event as the tail would hand it out, for routing tests: channel members and
    /// inboxes as given, no record.
    #[cfg(test)]
    pub(super) fn for_test(event: StoredEvent, inboxes: HashSet<Uuid>) -> LiveItem {
        LiveItem { event, record: None, members: None, inboxes, frames: Vec::new(), shared: Mutex::default() }.framed()
    }

    /// The item with the frame of every topic it concerns.
    fn framed(mut self) -> LiveItem {
        self.frames = self.concerned_topics().into_iter().map(|topic| (topic.clone(), self.render(&topic))).collect();
        self
    }

    /// The topics this event is news for (those it carries a frame for).
    pub(super) fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.frames.iter().map(|(topic, _)| topic)
    }

    /// The topics this event is news for, whoever listens (`concerns` for each).
    fn concerned_topics(&self) -> Vec<Topic> {
        let event = &self.event;
        let kind = event.kind.as_str();
        let mut topics = Vec::new();
        if kind == "inbox.delivered" {
            topics.push(Topic::Inbox);
        }
        if let Some(id) = event.record_id {
            if event.type_name == "channel" && kind.starts_with("message.") {
                topics.push(Topic::Channel(id));
            }
            if self.about_record() {
                topics.push(Topic::Record { type_name: event.type_name.clone(), id });
                if kind.starts_with("record.") {
                    topics.push(Topic::Type(event.type_name.clone()));
                }
            }
        }
        debug_assert!(topics.iter().all(|t| self.concerns(t)));
        topics
    }

    /// Drops the shared answers (memory); later askers work them out again.
    fn forget(&self) {
        *self.shared() = Shared::default();
    }

    /// Whether the event is news for `topic` at all, whoever listens.
    fn concerns(&self, topic: &Topic) -> bool {
        let event = &self.event;
        match topic {
            Topic::Inbox => event.kind == "inbox.delivered",
            Topic::Channel(id) => {
                event.type_name == "channel" && event.record_id == Some(*id) && event.kind.starts_with("message.")
            }
            Topic::Record { type_name, id } => {
                &event.type_name == type_name && event.record_id == Some(*id) && self.about_record()
            }
            Topic::Type(type_name) => {
                &event.type_name == type_name && event.kind.starts_with("record.") && self.about_record()
            }
        }
    }

    /// The principals whose inboxes got new items (an `inbox.delivered` event).
    pub(super) fn inboxes(&self) -> &HashSet<Uuid> {
        &self.inboxes
    }

    /// A record, message or attachment event whose record the tail found (deleted ones
    /// too: a deletion is news to those who could read the record before it).
    fn about_record(&self) -> bool {
        let kind = self.event.kind.as_str();
        let relevant = kind.starts_with("record.") || kind.starts_with("message.") || kind.starts_with("attachment.");
        relevant
            && matches!((&self.record, self.event.record_id), (Some((_, record)), Some(id)) if record.system.id == id)
    }

    /// What a listener of `topic` who may be told is told (the same for every one of them).
    fn notice(&self, topic: &Topic) -> Json {
        let event = &self.event;
        let p = &event.payload;
        let kind = event.kind.as_str();
        match topic {
            Topic::Inbox => json!({}),
            Topic::Channel(_) => message_notice(p),
            Topic::Record { .. } | Topic::Type(_) => {
                if kind.starts_with("message.") {
                    message_notice(p)
                } else if kind.starts_with("attachment.") {
                    json!({ "attachment": p.get("attachment") })
                } else {
                    // Field changes are not sent (hidden fields differ per reader): the
                    // version says the record changed, the API gives what the reader may see.
                    let record = self.record.as_ref().map(|(_, r)| r);
                    json!({ "type": event.type_name, "id": event.record_id, "version": p.get("version"),
                            "state": record.map(|r| &r.system.state),
                            "deleted": record.is_some_and(|r| r.system.deleted_at.is_some()) })
                }
            }
        }
    }

    /// The frame for `topic` (one the event concerns).
    fn frame(&self, topic: &Topic) -> Bytes {
        match self.frames.iter().find(|(t, _)| t == topic) {
            Some((_, frame)) => frame.clone(),
            None => self.render(topic),
        }
    }

    fn render(&self, topic: &Topic) -> Bytes {
        let name = topic.to_string();
        let data = self.notice(topic);
        let notice =
            LiveEvent { kind: "event", seq: self.event.seq, topic: &name, event: &self.event.kind, data: &data };
        Bytes::from(serde_json::to_vec(&notice).unwrap_or_default())
    }
}

impl Workspace {
    /// A listener of the live feed (starting the tail on first use), listening to nothing
    /// until `Listener::listen_to`. One that falls a queue's length behind hears `Lagged`:
    /// the connection then tells its client to resync instead of buffering without bound.
    pub async fn live_listener(&self) -> Result<Listener> {
        let feed = self
            .live
            .get_or_try_init(|| async {
                // Listening first, then the head: a commit in between wakes the tail.
                let wakeups = outbox::wakeups(&self.db).await;
                let start = outbox::head(&self.db).await?;
                let hub = Arc::new(Hub::new(start));
                tokio::spawn(tail(self.clone(), hub.clone(), start, wakeups));
                Ok::<_, Error>(LiveFeed { hub })
            })
            .await?;
        Ok(feed.hub.listen())
    }

    /// The newest event's number.
    pub async fn live_head(&self) -> Result<i64> {
        Ok(outbox::head(&self.db).await?)
    }

    /// The events after `after` (up to `MAX_REPLAY`), for a client that reconnects;
    /// `None` when it is further behind and must refetch.
    pub async fn live_replay(&self, after: i64) -> Result<Option<Vec<LiveItem>>> {
        let head = outbox::head(&self.db).await?;
        if head - after > MAX_REPLAY {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut from = after;
        while from < head {
            let batch = outbox::read_after(&self.db, from, 1000).await?;
            let Some(last) = batch.last() else { break };
            from = last.seq;
            for event in batch.into_iter().filter(|e| e.seq <= head) {
                out.push(self.live_item(event).await?);
            }
        }
        Ok(Some(out))
    }

    /// May the principal listen to `topic`? Answered like a read: `NotFound` for what it
    /// may not see.
    pub async fn check_topic(&self, principal: &Principal, topic: &Topic) -> Result<()> {
        match topic {
            Topic::Inbox => Ok(()),
            Topic::Record { type_name, id } => self.record_thread_access(principal, type_name, *id).await.map(|_| ()),
            Topic::Channel(id) => {
                let thread = self.channel_thread(*id).await?;
                self.channel_access(principal, thread).await.map(|_| ())
            }
            Topic::Type(type_name) => {
                let entry = self.entry(type_name)?;
                let reach = self.reach(principal, &entry, &crate::access::Action::Read);
                if !reach.has_grant() {
                    return Err(Error::NotFound(format!("type `{type_name}`")));
                }
                Ok(())
            }
        }
    }

    /// An event with its record, channel members and inboxes looked up (once, for every
    /// listener).
    async fn live_item(&self, event: StoredEvent) -> Result<LiveItem> {
        let kind = event.kind.clone();
        let mut item = LiveItem {
            record: None,
            members: None,
            inboxes: HashSet::new(),
            frames: Vec::new(),
            shared: Mutex::default(),
            event,
        };
        if item.event.type_name == "channel" && kind.starts_with("message.") {
            if let Some(id) = item.event.record_id {
                item.members = Some(store::members(&self.db, id).await?.into_iter().collect());
            }
        } else if kind == "inbox.delivered" {
            item.inboxes = item
                .event
                .payload
                .get("principals")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok())).collect())
                .unwrap_or_default();
        } else if (kind.starts_with("record.") || kind.starts_with("message.") || kind.starts_with("attachment."))
            && let (Some(id), Ok(entry)) = (item.event.record_id, self.entry(&item.event.type_name))
            && let Some(record) = rows::get(Source::Db(&self.db), &entry.spec, id, true).await?
        {
            item.record = Some((entry, record));
        }
        Ok(item.framed())
    }

    /// What `principal`, listening to `topics`, may be told about `item`: one frame (a
    /// complete JSON text message, `kind` `event`) per topic it may be told about, in the
    /// order of `topics`. The frames are shared with every other connection told the same.
    pub async fn live_frames(&self, principal: &Principal, topics: &[Topic], item: &LiveItem) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        for topic in topics {
            if item.concerns(topic) && self.may_be_told(principal, topic, item).await? {
                out.push(item.frame(topic));
            }
        }
        Ok(out)
    }

    /// The policy, for an event that concerns `topic`.
    async fn may_be_told(&self, principal: &Principal, topic: &Topic, item: &LiveItem) -> Result<bool> {
        let event = &item.event;
        match topic {
            Topic::Inbox => Ok(item.inboxes.contains(&principal.id)),
            Topic::Channel(_) => {
                // Looked up by the tail for every channel message it hands out.
                let member = item.members.as_ref().is_some_and(|members| members.contains(&principal.id));
                Ok(member && self.visibility_allows(principal, &event.payload))
            }
            Topic::Record { .. } | Topic::Type(_) => {
                if !self.record_readable(principal, item).await? {
                    return Ok(false);
                }
                let kind = event.kind.as_str();
                Ok(!(kind.starts_with("message.") || kind.starts_with("attachment."))
                    || self.visibility_allows(principal, &event.payload))
            }
        }
    }

    /// May `principal` read the event's record now? Asked of the read policy once per
    /// principal and event, whichever connection asks first.
    async fn record_readable(&self, principal: &Principal, item: &LiveItem) -> Result<bool> {
        let Some((entry, record)) = &item.record else { return Ok(false) };
        if let Some(known) = item.shared().readable.get(principal) {
            return Ok(*known);
        }
        let readable = self.readable_now(principal, entry, record).await?;
        item.shared().readable.insert(principal.clone(), readable);
        Ok(readable)
    }

    fn visibility_allows(&self, principal: &Principal, payload: &Json) -> bool {
        let visibility = payload.get("visibility").and_then(Json::as_str).unwrap_or("internal");
        visible_to(principal).contains(&visibility)
    }
}

fn message_notice(p: &Json) -> Json {
    json!({
        "thread": p.get("thread"), "message": p.get("message"), "seq": p.get("seq"),
        "visibility": p.get("visibility"), "author": p.get("author"), "summary": p.get("summary"),
    })
}

async fn tail(workspace: Workspace, hub: Arc<Hub>, mut after: i64, mut wakeups: tokio::sync::watch::Receiver<u64>) {
    let mut woken = true;
    let mut recent: VecDeque<Arc<LiveItem>> = VecDeque::with_capacity(SHARED_KEPT + 1);
    loop {
        // Marked seen before reading: a commit from now on wakes the next wait.
        if woken {
            wakeups.borrow_and_update();
        }
        let mut retry = false;
        match outbox::read_after(&workspace.db, after, 512).await {
            Ok(events) if !events.is_empty() => {
                for event in events {
                    let seq = event.seq;
                    match workspace.live_item(event).await {
                        Ok(item) => {
                            after = seq;
                            let item = Arc::new(item);
                            recent.push_back(item.clone());
                            if recent.len() > SHARED_KEPT
                                && let Some(old) = recent.pop_front()
                            {
                                old.forget();
                            }
                            hub.dispatch(&item);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, seq, "live feed cannot look up an event; retrying");
                            retry = true;
                            break;
                        }
                    }
                }
                if !retry {
                    // More may be waiting (a full batch, or commits while this one was read).
                    continue;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "live feed cannot read the outbox; retrying");
                retry = true;
            }
        }
        if retry {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Nothing new: wait for a commit that appended events, or poll after a while. The
        // tail keeps going with nobody connected: the next connection must not miss what
        // committed meanwhile.
        woken = if woken {
            tokio::select! {
                changed = wakeups.changed() => changed.is_ok(),
                _ = tokio::time::sleep(FALLBACK_POLL) => true,
            }
        } else {
            // The signal is gone (PostgreSQL could not listen): poll.
            tokio::time::sleep(FALLBACK_POLL).await;
            false
        };
    }
}
