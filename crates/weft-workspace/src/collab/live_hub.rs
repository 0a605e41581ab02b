//! Who listens to what: the live feed's routing table. The outbox tail hands each event to
//! the connections whose topics it concerns — a channel's message to that channel's
//! listeners, a record's change to that record's and that type's, new inbox items to those
//! principals' inboxes — and to no other. A connection is never woken for an event it
//! would only throw away, so the cost of an event grows with its listeners, not with
//! everyone connected.
//!
//! Routing is a pre-filter, not the policy: each connection still asks `live_frames` what
//! its principal may be told about an event it receives.
//!
//! Each connection has its own bounded queue. One that falls a queue's length behind
//! loses what did not fit and is told so (`Heard::Lagged`): its client resyncs, and the
//! server's memory does not grow with a slow client.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::mpsc;
use uuid::Uuid;

use super::live::{LiveItem, Topic};

/// Events a connection may have waiting before it is told to resync.
pub const QUEUE: usize = 1024;

/// What an event is routed by: a topic, with the inbox made the principal's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RouteKey {
    Inbox(Uuid),
    Record(String, Uuid),
    Channel(Uuid),
    Type(String),
}

impl RouteKey {
    fn of(principal: Uuid, topic: &Topic) -> RouteKey {
        match topic {
            Topic::Inbox => RouteKey::Inbox(principal),
            Topic::Record { type_name, id } => RouteKey::Record(type_name.clone(), *id),
            Topic::Channel(id) => RouteKey::Channel(*id),
            Topic::Type(type_name) => RouteKey::Type(type_name.clone()),
        }
    }
}

struct Route {
    queue: mpsc::Sender<Arc<LiveItem>>,
    lagged: Arc<AtomicBool>,
    keys: Vec<RouteKey>,
}

#[derive(Default)]
struct Table {
    next: u64,
    routes: HashMap<u64, Route>,
    by_key: HashMap<RouteKey, HashSet<u64>>,
    /// The last event handed out: what a connection listens to from now on starts after it.
    dispatched: i64,
}

impl Table {
    fn unlink(&mut self, id: u64, keys: &[RouteKey]) {
        for key in keys {
            if let Some(ids) = self.by_key.get_mut(key) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
    }
}

/// The routing table, shared by the tail and the connections.
#[derive(Default)]
pub struct Hub {
    table: Mutex<Table>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let table = self.table();
        f.debug_struct("Hub").field("listeners", &table.routes.len()).field("dispatched", &table.dispatched).finish()
    }
}

/// What a listener heard.
#[derive(Debug)]
pub enum Heard {
    Event(Arc<LiveItem>),
    /// Events were dropped because the queue was full: the client must resync.
    Lagged,
}

impl Hub {
    pub fn new(dispatched: i64) -> Hub {
        Hub { table: Mutex::new(Table { dispatched, ..Table::default() }) }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Only plain maps live behind the lock, and no code panics while holding it.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new listener, listening to nothing yet.
    pub fn listen(self: &Arc<Self>) -> Listener {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut table = self.table();
        table.next += 1;
        let id = table.next;
        table.routes.insert(id, Route { queue, lagged: lagged.clone(), keys: Vec::new() });
        Listener { hub: self.clone(), id, receiver, lagged }
    }

    /// Hands `item` to every listener of a topic it concerns (each once).
    pub fn dispatch(&self, item: &Arc<LiveItem>) {
        let keys = item.route_keys();
        let mut table = self.table();
        table.dispatched = table.dispatched.max(item.seq());
        let table = &*table;
        let mut told: HashSet<u64> = HashSet::new();
        for key in &keys {
            let Some(ids) = table.by_key.get(key) else { continue };
            for id in ids {
                if keys.len() > 1 && !told.insert(*id) {
                    continue;
                }
                let Some(route) = table.routes.get(id) else { continue };
                match route.queue.try_send(item.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => route.lagged.store(true, Ordering::Release),
                    // Its connection is ending; it unlinks itself.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
    }

    #[cfg(test)]
    fn listeners(&self) -> usize {
        self.table().routes.len()
    }
}

/// One connection's end of the hub. Dropping it stops the routing to it.
pub struct Listener {
    hub: Arc<Hub>,
    id: u64,
    receiver: mpsc::Receiver<Arc<LiveItem>>,
    lagged: Arc<AtomicBool>,
}

impl Listener {
    /// Listens to `topics` (replacing what it listened to) as `principal`, whose inbox is
    /// the inbox topic. Returns the last event handed out before: events after it reach
    /// this listener, earlier ones only by replay.
    pub fn listen_to(&self, principal: Uuid, topics: &[Topic]) -> i64 {
        let keys: Vec<RouteKey> = topics.iter().map(|t| RouteKey::of(principal, t)).collect();
        let mut table = self.hub.table();
        let old = table.routes.get_mut(&self.id).map(|r| std::mem::take(&mut r.keys)).unwrap_or_default();
        table.unlink(self.id, &old);
        for key in &keys {
            table.by_key.entry(key.clone()).or_default().insert(self.id);
        }
        if let Some(route) = table.routes.get_mut(&self.id) {
            route.keys = keys;
        }
        table.dispatched
    }

    /// The next event for this listener, or `Lagged` once after events were dropped.
    /// `None` when the feed has stopped.
    pub async fn recv(&mut self) -> Option<Heard> {
        if self.lagged.swap(false, Ordering::AcqRel) {
            return Some(Heard::Lagged);
        }
        let item = self.receiver.recv().await?;
        if self.lagged.swap(false, Ordering::AcqRel) {
            return Some(Heard::Lagged);
        }
        Some(Heard::Event(item))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut table = self.hub.table();
        if let Some(route) = table.routes.remove(&self.id) {
            table.unlink(self.id, &route.keys);
        }
    }
}

impl LiveItem {
    /// The routes of the topics this event concerns.
    fn route_keys(&self) -> Vec<RouteKey> {
        let mut keys = Vec::new();
        for topic in self.topics() {
            match topic {
                Topic::Inbox => keys.extend(self.inboxes().iter().map(|p| RouteKey::Inbox(*p))),
                // The principal is only used for the inbox.
                topic => keys.push(RouteKey::of(Uuid::nil(), topic)),
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use time::OffsetDateTime;
    use weft_store::kernel::outbox::StoredEvent;

    use super::*;

    fn event(seq: i64, kind: &str, type_name: &str, record_id: Option<Uuid>, inboxes: &[Uuid]) -> Arc<LiveItem> {
        let event = StoredEvent {
            seq,
            at: OffsetDateTime::UNIX_EPOCH,
            kind: kind.to_owned(),
            type_name: type_name.to_owned(),
            record_id,
            actor: "test".to_owned(),
            payload: json!({}),
        };
        Arc::new(LiveItem::for_test(event, inboxes.iter().copied().collect()))
    }

    /// What a listener has waiting now, as sequence numbers (`-1` for `Lagged`).
    async fn waiting(listener: &mut Listener) -> Vec<i64> {
        let mut out = Vec::new();
        while let Ok(Some(heard)) = tokio::time::timeout(Duration::from_millis(20), listener.recv()).await {
            out.push(match heard {
                Heard::Event(item) => item.seq(),
                Heard::Lagged => -1,
            });
        }
        out
    }

    #[tokio::test]
    async fn events_reach_only_the_listeners_of_their_topics() {
        let hub = Arc::new(Hub::new(10));
        let (channel, other_channel) = (Uuid::new_v4(), Uuid::new_v4());
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let mut on_channel = hub.listen();
        let mut on_other = hub.listen();
        let mut inbox_of_alice = hub.listen();
        let mut idle = hub.listen();
        assert_eq!(on_channel.listen_to(alice, &[Topic::Channel(channel)]), 10);
        on_other.listen_to(bob, &[Topic::Channel(other_channel), Topic::Inbox]);
        inbox_of_alice.listen_to(alice, &[Topic::Inbox]);

        hub.dispatch(&event(11, "message.posted", "channel", Some(channel), &[]));
        hub.dispatch(&event(12, "inbox.delivered", "inbox", None, &[alice]));
        hub.dispatch(&event(13, "message.posted", "channel", Some(other_channel), &[]));
        hub.dispatch(&event(14, "inbox.delivered", "inbox", None, &[alice, bob]));

        assert_eq!(waiting(&mut on_channel).await, vec![11]);
        assert_eq!(waiting(&mut on_other).await, vec![13, 14]);
        assert_eq!(waiting(&mut inbox_of_alice).await, vec![12, 14]);
        assert!(waiting(&mut idle).await.is_empty(), "a listener of nothing is never woken");

        // Changing topics reroutes and says where routing took over; dropping unlinks.
        assert_eq!(on_channel.listen_to(alice, &[Topic::Channel(other_channel)]), 14);
        hub.dispatch(&event(15, "message.posted", "channel", Some(channel), &[]));
        hub.dispatch(&event(16, "message.posted", "channel", Some(other_channel), &[]));
        assert_eq!(waiting(&mut on_channel).await, vec![16]);
        drop(on_other);
        drop(idle);
        assert_eq!(hub.listeners(), 2);
        assert!(hub.table().by_key.values().all(|ids| !ids.is_empty()));
        assert!(!hub.table().by_key.contains_key(&RouteKey::Inbox(bob)), "{:?}", hub);
    }

    #[tokio::test]
    async fn a_listener_a_queue_behind_is_told_it_lagged_and_the_others_are_not() {
        let hub = Arc::new(Hub::new(0));
        let channel = Uuid::new_v4();
        let mut slow = hub.listen();
        let mut quick = hub.listen();
        slow.listen_to(Uuid::new_v4(), &[Topic::Channel(channel)]);
        quick.listen_to(Uuid::new_v4(), &[Topic::Channel(channel)]);
        let total = QUEUE as i64 + 5;
        for seq in 1..=total {
            hub.dispatch(&event(seq, "message.posted", "channel", Some(channel), &[]));
            if seq % 100 == 0 {
                assert_eq!(waiting(&mut quick).await.len(), 100);
            }
        }
        assert_eq!(waiting(&mut quick).await.len() as i64, total % 100);
        let heard = waiting(&mut slow).await;
        assert_eq!(heard.first(), Some(&-1), "lagging is said first, before what is still queued");
        assert_eq!(heard.len(), QUEUE + 1, "what fits is kept, the rest dropped: {}", heard.len());
        assert_eq!(heard[1..].first(), Some(&1));
        hub.dispatch(&event(total + 1, "message.posted", "channel", Some(channel), &[]));
        assert_eq!(waiting(&mut slow).await, vec![total + 1], "told once, then heard again");
    }
}
