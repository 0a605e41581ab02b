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
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use weft_store::Database;

use crate::catalog::Catalog;
use crate::records::{PreparedCreate, ReadyLot, RecordView};
use crate::{Error, Result};

/// Most creates written as one lot.
const MAX_LOT: usize = 256;

struct Pending {
    prepared: PreparedCreate,
    reply: oneshot::Sender<Result<RecordView>>,
}

/// One queue, and one task writing its lots, per object type.
#[derive(Default)]
pub(crate) struct CreateLots {
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Pending>>>,
}

impl std::fmt::Debug for CreateLots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateLots").finish_non_exhaustive()
    }
}

impl CreateLots {
    /// Writes `prepared` (in a lot when others wait with it) and answers once committed.
    pub(crate) async fn create(
        &self,
        db: &Database,
        catalog: &Arc<Catalog>,
        prepared: PreparedCreate,
    ) -> Result<RecordView> {
        let (reply, answer) = oneshot::channel();
        let mut pending = Pending { prepared, reply };
        // A queue whose task is gone (its runtime shut down) is replaced once.
        for _ in 0..2 {
            let queue = self.queue(db, catalog, &pending.prepared);
            match queue.send(pending) {
                Ok(()) => return answer.await.map_err(|_| Error::from(weft_store::Error::WriterStopped))?,
                Err(mpsc::error::SendError(back)) => {
                    pending = back;
                    self.forget(&pending.prepared);
                }
            }
        }
        let prepared = pending.prepared;
        write_alone(db, catalog, prepared).await
    }

    fn queue(
        &self,
        db: &Database,
        catalog: &Arc<Catalog>,
        prepared: &PreparedCreate,
    ) -> mpsc::UnboundedSender<Pending> {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queues
            .entry(prepared.type_name().to_owned())
            .or_insert_with(|| {
                let (queue, rx) = mpsc::unbounded_channel();
                tokio::spawn(write_lots(db.clone(), catalog.clone(), rx));
                queue
            })
            .clone()
    }

    fn forget(&self, prepared: &PreparedCreate) {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queues.remove(prepared.type_name());
    }
}

/// Lots of one type being written at once: while one waits for its commit to reach the
/// disk, the next is already being written.
const LOTS_IN_FLIGHT: usize = 2;

/// The task of one type: takes whatever has queued up and writes it, up to
/// `LOTS_IN_FLIGHT` lots at a time; while those are written, the next one gathers.
async fn write_lots(db: Database, catalog: Arc<Catalog>, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let in_flight = Arc::new(tokio::sync::Semaphore::new(LOTS_IN_FLIGHT));
    loop {
        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
        let mut lot = Vec::with_capacity(MAX_LOT);
        if rx.recv_many(&mut lot, MAX_LOT).await == 0 {
            return;
        }
        let (db, catalog) = (db.clone(), catalog.clone());
        tokio::spawn(async move {
            // Creates validated against different declarations of the type (one changed
            // in between) are not mixed: each run of the same declaration is its own lot.
            let mut rest = lot;
            while !rest.is_empty() {
                let split =
                    rest.iter().position(|p| !p.prepared.same_declaration(&rest[0].prepared)).unwrap_or(rest.len());
                let tail = rest.split_off(split);
                write_lot(&db, &catalog, rest).await;
                rest = tail;
            }
            drop(permit);
        });
    }
}

async fn write_lot(db: &Database, catalog: &Arc<Catalog>, lot: Vec<Pending>) {
    if lot.len() == 1 {
        for pending in lot {
            let _ = pending.reply.send(write_alone(db, catalog, pending.prepared).await);
        }
        return;
    }
    // Planned here, on the runtime's threads, so that the SQLite writer only runs the
    // statements; the creates stay here in case the lot has to be redone one by one.
    let prepared: Vec<&PreparedCreate> = lot.iter().map(|p| &p.prepared).collect();
    let written = match ReadyLot::new(db.backend(), &prepared) {
        Ok(ready) => {
            let catalog = catalog.clone();
            db.write(move |tx| Box::pin(async move { ready.write(tx, &catalog).await })).await
        }
        Err(e) => Err(e),
    };
    match written {
        Ok(views) if views.len() == lot.len() => {
            for (pending, view) in lot.into_iter().zip(views) {
                let _ = pending.reply.send(Ok(view));
            }
        }
        // Nothing of the lot was written: each create goes again alone and gets its own
        // answer (its own error, or its record when another one spoiled the lot).
        _ => {
            let alone = lot.into_iter().map(|pending| async move {
                let _ = pending.reply.send(write_alone(db, catalog, pending.prepared).await);
            });
            futures::future::join_all(alone).await;
        }
    }
}

async fn write_alone(db: &Database, catalog: &Arc<Catalog>, prepared: PreparedCreate) -> Result<RecordView> {
    let ready = ReadyLot::new(db.backend(), &[&prepared])?;
    let catalog = catalog.clone();
    let mut views = db.write(move |tx| Box::pin(async move { ready.write(tx, &catalog).await })).await?;
    views.pop().ok_or_else(|| Error::BadRequest("nothing was created".into()))
}
