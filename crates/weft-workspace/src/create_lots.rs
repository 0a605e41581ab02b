//! Creates of one type that arrive while the previous ones are being written are written
//! together, as one lot: one statement per table (rows, lines, history, audit, events) and
//! one naming-series step for the lot, instead of a full set of statements per record.
//!
//! Each create is still its own command to its caller: validated and access-checked on its
//! own before it joins a lot, answered with its own record or its own error. A lot is one
//! unit of work; when it fails (one record's unique value taken, a reference gone since
//! validation), it is rolled back whole and each of its creates is written again alone, so
//! every caller gets the answer it would have had without the lot and nothing is half
//! written. Lots form only under load: a create that finds no lot being written goes
//! straight on, alone; the ones that arrive during that write make the next lot.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use weft_store::{Backend, Database};

use crate::catalog::Catalog;
use crate::records::{PreparedCreate, ReadyLot, RecordView};
use crate::{Error, Result};

/// Most creates written as one lot.
const MAX_LOT: usize = 256;

/// What can be written in lots: a create (`PreparedCreate`), or a create with its
/// dependents (`create_with`).
pub(crate) trait Joinable: Send + Sync + Sized + 'static {
    /// What one item's caller gets back.
    type Written: Send + 'static;
    /// The queue the item waits in; only items of one queue are written together.
    fn queue_key(&self) -> String;
    /// Whether the item may be written in one lot with `first` (validated against the
    /// same declarations).
    fn joins(&self, first: &Self) -> bool;
    /// Writes the items in one transaction: one answer per item, in order, or nothing.
    /// `turn` is dropped as the writer starts on the transaction (`LotTurn`).
    fn write_lot(
        db: &Database,
        catalog: &Arc<Catalog>,
        lot: &[&Self],
        turn: LotTurn,
    ) -> impl Future<Output = Result<Vec<Self::Written>>> + Send;
    /// Writes the item in a transaction of its own.
    fn write_alone(
        db: &Database,
        catalog: &Arc<Catalog>,
        item: Self,
    ) -> impl Future<Output = Result<Self::Written>> + Send;
}

/// A lot's place among the lots of its queue that wait for the writer. The write drops it
/// as the writer starts on the lot's transaction (or when the lot fails before), so that
/// the next lot gathers while this one is written and flushed.
pub(crate) struct LotTurn {
    _place: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl LotTurn {
    /// No place to give back: a create written alone.
    pub(crate) fn none() -> LotTurn {
        LotTurn { _place: None }
    }

    /// The writer has started on the lot.
    pub(crate) fn started(self) {}
}

struct Pending<T: Joinable> {
    item: T,
    reply: oneshot::Sender<Result<T::Written>>,
}

/// One queue, and one task writing its lots, per queue key (an object type).
pub(crate) struct CreateLots<T: Joinable> {
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Pending<T>>>>,
}

impl<T: Joinable> Default for CreateLots<T> {
    fn default() -> Self {
        CreateLots { queues: Mutex::default() }
    }
}

impl<T: Joinable> std::fmt::Debug for CreateLots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateLots").finish_non_exhaustive()
    }
}

impl<T: Joinable> CreateLots<T> {
    /// Writes `item` (in a lot when others wait with it) and answers once committed.
    pub(crate) async fn create(&self, db: &Database, catalog: &Arc<Catalog>, item: T) -> Result<T::Written> {
        let (reply, answer) = oneshot::channel();
        let mut pending = Pending { item, reply };
        // A queue whose task is gone (its runtime shut down) is replaced once.
        for _ in 0..2 {
            let key = pending.item.queue_key();
            let queue = self.queue(db, catalog, &key);
            match queue.send(pending) {
                Ok(()) => return answer.await.map_err(|_| Error::from(weft_store::Error::WriterStopped))?,
                Err(mpsc::error::SendError(back)) => {
                    pending = back;
                    self.forget(&key);
                }
            }
        }
        T::write_alone(db, catalog, pending.item).await
    }

    fn queue(&self, db: &Database, catalog: &Arc<Catalog>, key: &str) -> mpsc::UnboundedSender<Pending<T>> {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(queue) = queues.get(key) {
            return queue.clone();
        }
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_lots(db.clone(), catalog.clone(), rx));
        queues.insert(key.to_owned(), queue.clone());
        queue
    }

    fn forget(&self, key: &str) {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queues.remove(key);
    }
}

/// How many lots of one queue may be under way, and until when each holds its place.
///
/// SQLite (one writer): a lot gives its place back as the writer starts on it, not once its
/// commit is on disk, and at most two lots wait for the writer (being planned, or queued for
/// it): while one is written and flushed, the next gathers everything that arrived
/// meanwhile. Holding the place until the flush (eight places) made many small lots under
/// 256 concurrent order creates (16 orders on average, each lot its own statements); two
/// places given back at the start made lots about twice as large and the orders about 25%
/// faster (BENCHMARKS.md, procurement, 2026-12-05 morning). One place left the writer idle
/// while the next lot was planned.
///
/// PostgreSQL (a transaction per lot, in parallel): a lot holds its place until it is
/// written and flushed, eight at most. Given back at BEGIN, places let lots multiply into
/// many small concurrent transactions, all taking the event log's lock in turn: creates ran
/// at half the rate (2,894 → 1,512 suppliers/s at 64 tasks, same day).
fn places(backend: Backend) -> (usize, bool) {
    match backend {
        Backend::Sqlite => (2, true),
        Backend::Postgres => (8, false),
    }
}

/// The task of one queue: takes whatever has queued up and writes it as one lot, within
/// the queue's places (`places`).
async fn write_lots<T: Joinable>(db: Database, catalog: Arc<Catalog>, mut rx: mpsc::UnboundedReceiver<Pending<T>>) {
    let (count, given_back_at_start) = places(db.backend());
    let waiting = Arc::new(tokio::sync::Semaphore::new(count));
    loop {
        let Ok(permit) = waiting.clone().acquire_owned().await else { return };
        let mut lot = Vec::with_capacity(MAX_LOT);
        if rx.recv_many(&mut lot, MAX_LOT).await == 0 {
            return;
        }
        let (db, catalog) = (db.clone(), catalog.clone());
        tokio::spawn(async move {
            let mut permit = Some(permit);
            // Items validated against different declarations (one changed in between) are
            // not mixed: each run of the same declarations is its own lot.
            let mut rest = lot;
            while !rest.is_empty() {
                let split = rest.iter().position(|p| !p.item.joins(&rest[0].item)).unwrap_or(rest.len());
                let tail = rest.split_off(split);
                let turn = if given_back_at_start { LotTurn { _place: permit.take() } } else { LotTurn::none() };
                write_lot(&db, &catalog, rest, turn).await;
                rest = tail;
            }
            drop(permit);
        });
    }
}

async fn write_lot<T: Joinable>(db: &Database, catalog: &Arc<Catalog>, lot: Vec<Pending<T>>, turn: LotTurn) {
    // The items stay here in case the lot has to be redone one by one.
    let items: Vec<&T> = lot.iter().map(|p| &p.item).collect();
    let outcome = T::write_lot(db, catalog, &items, turn).await;
    match outcome {
        Ok(written) if written.len() == lot.len() => {
            for (pending, one) in lot.into_iter().zip(written) {
                let _ = pending.reply.send(Ok(one));
            }
        }
        // A lot of one failed on its own account.
        Err(e) if lot.len() == 1 => {
            if let Some(pending) = lot.into_iter().next() {
                let _ = pending.reply.send(Err(e));
            }
        }
        // Nothing of the lot was written: each item goes again alone and gets its own
        // answer (its own error, or its record when another one spoiled the lot).
        _ => {
            let alone = lot.into_iter().map(|pending| async move {
                let _ = pending.reply.send(T::write_alone(db, catalog, pending.item).await);
            });
            futures::future::join_all(alone).await;
        }
    }
}

impl Joinable for PreparedCreate {
    type Written = RecordView;

    fn queue_key(&self) -> String {
        self.type_name().to_owned()
    }

    fn joins(&self, first: &Self) -> bool {
        self.same_declaration(first)
    }

    async fn write_lot(db: &Database, catalog: &Arc<Catalog>, lot: &[&Self], turn: LotTurn) -> Result<Vec<RecordView>> {
        // Planned here, on the runtime's threads, so that the SQLite writer only runs the
        // statements.
        let ready = ReadyLot::new(db.backend(), lot)?;
        let catalog = catalog.clone();
        db.write(move |tx| {
            Box::pin(async move {
                turn.started();
                ready.write(tx, &catalog).await
            })
        })
        .await
    }

    async fn write_alone(db: &Database, catalog: &Arc<Catalog>, prepared: Self) -> Result<RecordView> {
        let mut views = Self::write_lot(db, catalog, &[&prepared], LotTurn::none()).await?;
        views.pop().ok_or_else(|| Error::BadRequest("nothing was created".into()))
    }
}
