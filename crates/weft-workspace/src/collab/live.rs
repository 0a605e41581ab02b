//! The live feed behind `/api/v1/live`: one task tails the outbox and hands every event to
//! the connections; each connection asks `live_view` what, if anything, its principal may
//! be told about it. The policy runs here, per principal and event — a connection never
//! gets an event to filter on the client. What is sent is a notice (ids, versions, a
//! message's summary when the principal may read the message); the data itself is fetched
//! through the API, which checks access again.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value as Json, json};
use tokio::sync::broadcast;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::kernel::collab as store;
use weft_store::kernel::outbox;
pub use weft_store::kernel::outbox::StoredEvent;
use weft_store::records::rows::{self, Source, StoredRecord};

use super::access::visible_to;
use crate::catalog::TypeEntry;
use crate::{Error, Result, Workspace};

/// Events kept for connections that fall behind; beyond it they are told to resync.
const FEED_CAPACITY: usize = 4096;
/// A reconnect further behind than this refetches instead of replaying.
pub const MAX_REPLAY: i64 = 10_000;
/// How long a channel membership answer is trusted by one connection.
const MEMBERSHIP_TTL: Duration = Duration::from_secs(5);

/// What a connection listens to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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

/// One notice for one connection.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub seq: i64,
    pub topic: String,
    pub event: String,
    pub data: Json,
}

/// Per-connection memory of channel memberships (checked at most every few seconds).
#[derive(Debug, Default)]
pub struct LiveCache {
    memberships: BTreeMap<Uuid, (bool, Instant)>,
}

/// The outbox tail shared by all connections.
#[derive(Debug)]
pub struct LiveFeed {
    sender: broadcast::Sender<Arc<LiveItem>>,
}

/// An event with what every connection needs to judge it, looked up once by the tail
/// rather than once per connection: the record it is about (as it is now), and for a
/// channel message the channel's members.
#[derive(Debug)]
pub struct LiveItem {
    pub event: StoredEvent,
    record: Option<(Arc<TypeEntry>, StoredRecord)>,
    members: Option<BTreeSet<Uuid>>,
}

impl LiveItem {
    pub fn seq(&self) -> i64 {
        self.event.seq
    }
}

impl Workspace {
    /// Subscribes to every event committed from now on (starting the tail on first use).
    /// A receiver that falls more than a few thousand events behind gets `Lagged`: the
    /// connection then tells its client to resync instead of buffering without bound.
    pub async fn live_feed(&self) -> Result<broadcast::Receiver<Arc<LiveItem>>> {
        let feed = self
            .live
            .get_or_try_init(|| async {
                let (sender, _) = broadcast::channel(FEED_CAPACITY);
                let start = outbox::head(&self.db).await?;
                tokio::spawn(tail(self.clone(), sender.clone(), start));
                Ok::<_, Error>(LiveFeed { sender })
            })
            .await?;
        Ok(feed.sender.subscribe())
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

    /// An event with its record and channel members looked up (once, for every listener).
    async fn live_item(&self, event: StoredEvent) -> Result<LiveItem> {
        let kind = event.kind.clone();
        let mut item = LiveItem { record: None, members: None, event };
        if item.event.type_name == "channel" && kind.starts_with("message.") {
            if let Some(id) = item.event.record_id {
                item.members = Some(store::members(&self.db, id).await?.into_iter().collect());
            }
        } else if (kind.starts_with("record.") || kind.starts_with("message.") || kind.starts_with("attachment."))
            && let (Some(id), Ok(entry)) = (item.event.record_id, self.entry(&item.event.type_name))
            && let Some(record) = rows::get(Source::Db(&self.db), &entry.spec, id, true).await?
        {
            item.record = Some((entry, record));
        }
        Ok(item)
    }

    /// What `principal`, listening to `topics`, may be told about `item`.
    pub async fn live_view(
        &self,
        principal: &Principal,
        topics: &[Topic],
        item: &LiveItem,
        cache: &mut LiveCache,
    ) -> Result<Vec<LiveEvent>> {
        let event = &item.event;
        let mut out = Vec::new();
        for topic in topics {
            if let Some(data) = self.live_data(principal, topic, item, cache).await? {
                out.push(LiveEvent { seq: event.seq, topic: topic.to_string(), event: event.kind.clone(), data });
            }
        }
        Ok(out)
    }

    async fn live_data(
        &self,
        principal: &Principal,
        topic: &Topic,
        item: &LiveItem,
        cache: &mut LiveCache,
    ) -> Result<Option<Json>> {
        let event = &item.event;
        let p = &event.payload;
        match topic {
            Topic::Inbox => {
                let mine = event.kind == "inbox.delivered"
                    && p.get("principals")
                        .and_then(Json::as_array)
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(&principal.id.to_string())));
                Ok(mine.then(|| json!({})))
            }
            Topic::Channel(id) => {
                if event.type_name != "channel" || event.record_id != Some(*id) || !event.kind.starts_with("message.") {
                    return Ok(None);
                }
                let member = match (&item.members, cache.memberships.get(id)) {
                    (Some(members), _) => members.contains(&principal.id),
                    (None, Some((member, at))) if at.elapsed() < MEMBERSHIP_TTL => *member,
                    _ => {
                        let member = store::is_member(&self.db, *id, principal.id).await?;
                        cache.memberships.insert(*id, (member, Instant::now()));
                        member
                    }
                };
                if !member || !self.visibility_allows(principal, p) {
                    return Ok(None);
                }
                Ok(Some(message_notice(p)))
            }
            Topic::Record { type_name, id } => {
                if &event.type_name != type_name || event.record_id != Some(*id) {
                    return Ok(None);
                }
                self.record_notice(principal, item).await
            }
            Topic::Type(type_name) => {
                if &event.type_name != type_name || !event.kind.starts_with("record.") {
                    return Ok(None);
                }
                self.record_notice(principal, item).await
            }
        }
    }

    fn visibility_allows(&self, principal: &Principal, payload: &Json) -> bool {
        let visibility = payload.get("visibility").and_then(Json::as_str).unwrap_or("internal");
        visible_to(principal).contains(&visibility)
    }

    async fn record_notice(&self, principal: &Principal, item: &LiveItem) -> Result<Option<Json>> {
        let event = &item.event;
        let kind = event.kind.as_str();
        let relevant = kind.starts_with("record.") || kind.starts_with("message.") || kind.starts_with("attachment.");
        let (Some(id), true) = (event.record_id, relevant) else { return Ok(None) };
        // Looked up by the tail; a deletion is news to those who could read the record
        // before it, hence deleted records too.
        let Some((entry, record)) = &item.record else { return Ok(None) };
        if record.system.id != id {
            return Ok(None);
        }
        if !self.readable_now(principal, entry, record).await? {
            return Ok(None);
        }
        let p = &event.payload;
        if kind.starts_with("message.") || kind.starts_with("attachment.") {
            if !self.visibility_allows(principal, p) {
                return Ok(None);
            }
            return Ok(Some(if kind.starts_with("message.") {
                message_notice(p)
            } else {
                json!({ "attachment": p.get("attachment") })
            }));
        }
        // Field changes are not sent (hidden fields differ per reader): the version says
        // the record changed, the API gives what the reader may see.
        Ok(Some(json!({ "type": event.type_name, "id": id, "version": p.get("version"),
                        "state": record.system.state, "deleted": record.system.deleted_at.is_some() })))
    }
}

fn message_notice(p: &Json) -> Json {
    json!({
        "thread": p.get("thread"), "message": p.get("message"), "seq": p.get("seq"),
        "visibility": p.get("visibility"), "author": p.get("author"), "summary": p.get("summary"),
    })
}

async fn tail(workspace: Workspace, sender: broadcast::Sender<Arc<LiveItem>>, mut after: i64) {
    let mut idle = Duration::from_millis(20);
    loop {
        match outbox::read_after(&workspace.db, after, 512).await {
            Ok(events) if !events.is_empty() => {
                idle = Duration::from_millis(20);
                for event in events {
                    let seq = event.seq;
                    match workspace.live_item(event).await {
                        Ok(item) => {
                            after = seq;
                            // No receivers is fine: nobody is connected.
                            let _ = sender.send(Arc::new(item));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, seq, "live feed cannot look up an event; retrying");
                            break;
                        }
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "live feed cannot read the outbox; retrying");
                idle = Duration::from_secs(1);
            }
        }
        tokio::time::sleep(idle).await;
        if sender.receiver_count() == 0 && sender.is_empty() {
            // Keep tailing: the next connection must not miss what committed meanwhile.
            idle = Duration::from_millis(100);
        }
    }
}
