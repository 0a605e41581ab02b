//! The write path. `Database::write` runs a unit of work in a transaction and returns its
//! result only after the commit is durable.
//!
//! SQLite has one writer. Rather than let pooled connections race for the write lock
//! (SQLite makes the losers sleep in growing steps; the raw-commit benchmark saw waits of
//! seconds), every write goes to one thread that owns the write connection and *batches*
//! whatever work is waiting into one transaction: one fsync for the batch. Each unit runs
//! inside its own savepoint, so a failing unit is rolled back alone and its neighbours
//! still commit; each unit sees the writes of the units before it, as if run one by one.
//!
//! The thread holds the connection itself (`direct::DirectConn`, rusqlite) and runs each
//! unit to completion on its own stack (`Handle::block_on` of the caller's runtime): a
//! unit's statements execute synchronously, with no hand-off to another thread and back
//! per statement, which is what sqlx's SQLite driver costs. A unit awaiting something else
//! (a read through the pool, a timer) still works; the writer then waits for it.
//!
//! PostgreSQL has many writers and its own group commit: each unit gets a transaction of
//! its own from the pool. Its COMMIT does not wait for the WAL flush; the unit's caller
//! waits for one after it (`PgCommit::FlushAfter`), so the event log's lock, held to
//! COMMIT, no longer spans a flush and concurrent units share flushes.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};

use crate::direct::DirectConn;
use crate::{Database, Error, Result, Tx};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most units of work folded into one SQLite transaction.
const MAX_BATCH: usize = 512;

/// Where a unit's answer goes once its batch has committed (or failed).
type Reply = oneshot::Sender<Result<Box<dyn Any + Send>>>;

/// A unit of work as the writer sees it: run it, learn whether it succeeded (to keep or
/// roll back its savepoint), and hand its typed result back to the caller.
type Job = Box<dyn for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, (bool, Box<dyn Any + Send>)> + Send>;

struct Envelope {
    job: Job,
    reply: Reply,
    /// The caller's runtime, entered while the unit runs (a unit may spawn, sleep or read
    /// through the pool); `None` when the caller polled `write` outside of tokio.
    runtime: Option<Handle>,
}

enum Message {
    Work(Envelope),
    /// Finish what was queued before, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Message>,
}

impl Writer {
    /// Starts the writer thread with the write connection; `runtime` (the one that opened
    /// the database) runs units whose caller is outside of tokio. `appended` is bumped
    /// after every commit that appended outbox events (`outbox::wakeups`).
    pub(crate) fn start(conn: DirectConn, runtime: Handle, appended: watch::Sender<u64>) -> std::io::Result<Writer> {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        let acks = match conn.wal_to_flush() {
            Some(wal) => Acks::AfterFlush(Syncer::start(wal.to_owned(), appended)?),
            None => Acks::AtCommit(appended),
        };
        std::thread::Builder::new().name("weft-sqlite-writer".into()).spawn(move || run(conn, rx, runtime, acks))?;
        Ok(Writer { queue })
    }

    /// Lets the units queued so far finish, then closes the write connection; later writes
    /// fail with `WriterStopped`. Returns once the connection is closed.
    pub(crate) async fn close(&self) {
        let (ack, closed) = oneshot::channel();
        if self.queue.send(Message::Close(ack)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

fn run(conn: DirectConn, mut rx: mpsc::Receiver<Message>, runtime: Handle, mut acks: Acks) {
    let mut tx = Tx::SqliteDirect(Box::new(conn));
    let mut batch: Vec<Envelope> = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() {
        match rx.blocking_recv() {
            Some(Message::Work(first)) => batch.push(first),
            Some(Message::Close(ack)) => closing = Some(ack),
            None => break,
        }
        while closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Message::Work(next)) => batch.push(next),
                Ok(Message::Close(ack)) => closing = Some(ack),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let committed = commit_batch(&mut tx, std::mem::take(&mut batch), &runtime);
            // Cleared either way; a commit that appended events wakes the outbox's readers
            // (an event of a unit rolled back to its savepoint may wake them for nothing).
            let appended_events = direct(&tx).take_appended();
            if let Some(answers) = committed {
                acks.committed(answers, appended_events);
            }
        }
    }
    // Whatever is still queued is answered `WriterStopped` (its reply is dropped); what was
    // committed is flushed and answered before the connection closes.
    drop(rx);
    drop(acks);
    drop(tx);
    if let Some(ack) = closing {
        let _ = ack.send(());
    }
}

/// The answers of a committed batch, in order.
type Answers = Vec<(Reply, Box<dyn Any + Send>)>;

/// How committed batches are acknowledged.
enum Acks {
    /// SQLite flushed the log inside COMMIT (or was told not to): answer at once.
    AtCommit(watch::Sender<u64>),
    /// The log is flushed by the syncer thread, which answers once it has.
    AfterFlush(Syncer),
}

impl Acks {
    fn committed(&mut self, answers: Answers, appended_events: bool) {
        match self {
            Acks::AtCommit(appended) => {
                for (reply, result) in answers {
                    let _ = reply.send(Ok(result));
                }
                if appended_events {
                    appended.send_modify(|n| *n = n.wrapping_add(1));
                }
            }
            Acks::AfterFlush(syncer) => syncer.flush_then_answer(answers, appended_events),
        }
    }
}

/// Group commit with the flush taken off the writer: the writer commits batch after batch
/// without waiting for the disk, and this thread flushes the log (one `fdatasync` for
/// every batch committed since the last) and only then answers their units and wakes the
/// outbox's readers. A unit is acknowledged only once its commit is on disk, as at
/// `synchronous = FULL`; the difference is that the writer is already writing the next
/// batch meanwhile, so a flush covers more commits. (Other connections may read a commit
/// a moment before it is flushed; a crash in that moment loses it together with every later
/// commit, none of which was acknowledged.)
struct Syncer {
    queue: Option<std::sync::mpsc::Sender<(Answers, bool)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Syncer {
    fn start(wal: std::path::PathBuf, appended: watch::Sender<u64>) -> std::io::Result<Syncer> {
        let (queue, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("weft-sqlite-sync".into())
            .spawn(move || sync_loop(&wal, &rx, &appended))?;
        Ok(Syncer { queue: Some(queue), thread: Some(thread) })
    }

    fn flush_then_answer(&mut self, answers: Answers, appended_events: bool) {
        let sent = match &self.queue {
            Some(queue) => queue.send((answers, appended_events)).map_err(|e| e.0.0),
            None => Err(answers),
        };
        // The sync thread is gone (it cannot be, short of a panic): whether these commits
        // reached the disk is unknown, so they are not reported as done.
        if let Err(answers) = sent {
            for (reply, _) in answers {
                let _ = reply.send(Err(aborted("the log could not be flushed (the sync thread stopped)")));
            }
        }
    }
}

impl Drop for Syncer {
    /// Flushes and answers everything committed so far, then ends the thread.
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn sync_loop(wal: &std::path::Path, rx: &std::sync::mpsc::Receiver<(Answers, bool)>, appended: &watch::Sender<u64>) {
    let mut file: Option<std::fs::File> = None;
    while let Ok(first) = rx.recv() {
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let flushed = flush(wal, &mut file);
        if let Err(reason) = &flushed {
            tracing::error!("flushing the SQLite log {} failed: {reason}", wal.display());
        }
        let mut wake = false;
        for (answers, appended_events) in waiting {
            wake |= appended_events;
            for (reply, result) in answers {
                let answer = match &flushed {
                    Ok(()) => Ok(result),
                    Err(reason) => Err(aborted(&format!("the commit could not be flushed to disk: {reason}"))),
                };
                let _ = reply.send(answer);
            }
        }
        if wake && flushed.is_ok() {
            appended.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

/// `fdatasync` of the log. Any descriptor of the file flushes it; the file stays the same
/// for as long as the writer's connection is open (SQLite deletes it only when the last
/// connection closes).
fn flush(wal: &std::path::Path, file: &mut Option<std::fs::File>) -> std::io::Result<()> {
    let open = match file {
        Some(open) => open,
        None => file.insert(std::fs::File::open(wal)?),
    };
    open.sync_data()
}

fn direct(tx: &Tx) -> &DirectConn {
    match tx {
        Tx::SqliteDirect(conn) => conn,
        _ => unreachable!("the writer thread holds the direct connection"),
    }
}

fn aborted(reason: &str) -> Error {
    Error::Sql(sqlx::Error::Protocol(format!("transaction aborted: {reason}")))
}

/// Runs one unit to completion on this thread. `Err` if it panicked.
fn run_unit(tx: &mut Tx, envelope_job: Job, runtime: &Handle) -> std::thread::Result<(bool, Box<dyn Any + Send>)> {
    // A panicking unit must not take the writer (and every later write) down with it.
    std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(envelope_job(tx))))
}

/// Runs a batch in one transaction. When it committed, the answers of its units, to be
/// given once the commit is durable (`Acks`); units that did not commit are answered here.
fn commit_batch(tx: &mut Tx, batch: Vec<Envelope>, fallback: &Handle) -> Option<Answers> {
    if let Err(e) = direct(tx).begin() {
        let message = e.to_string();
        for envelope in batch {
            let _ = envelope.reply.send(Err(Error::Sql(sqlx::Error::Protocol(message.clone()))));
        }
        return None;
    }
    if batch.len() == 1 {
        // Alone in its batch, a unit needs no savepoint: the transaction is its own.
        return batch.into_iter().next().and_then(|envelope| commit_alone(tx, envelope, fallback));
    }
    let mut results: Answers = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for envelope in batch {
        if let Some(reason) = &broken {
            let _ = envelope.reply.send(Err(Error::Sql(sqlx::Error::Protocol(reason.clone()))));
            continue;
        }
        if let Err(e) = direct(tx).execute_static("SAVEPOINT weft_unit") {
            broken = Some(e.to_string());
            let _ = envelope.reply.send(Err(e));
            continue;
        }
        let runtime = envelope.runtime.as_ref().unwrap_or(fallback);
        let (ok, result) = match run_unit(tx, envelope.job, runtime) {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::error!("a unit of work panicked; it was rolled back");
                match rollback_unit(direct(tx)) {
                    Ok(()) => {
                        let _ = envelope.reply.send(Err(Error::UnitPanicked));
                    }
                    Err(e) => {
                        broken = Some(e.to_string());
                        let _ = envelope.reply.send(Err(e));
                    }
                }
                continue;
            }
        };
        let settle =
            if ok { direct(tx).execute_static("RELEASE SAVEPOINT weft_unit") } else { rollback_unit(direct(tx)) };
        match settle {
            Ok(()) => results.push((envelope.reply, result)),
            Err(e) => {
                broken = Some(e.to_string());
                let _ = envelope.reply.send(Err(e));
            }
        }
    }
    let conn = direct(tx);
    // A broken batch is rolled back whole, never committed in part.
    let outcome = match broken {
        Some(reason) => Err(reason),
        None => conn.commit().map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(()) => Some(results),
        Err(reason) => {
            let _ = conn.rollback();
            // Nothing of this batch is durable: every unit learns that, none is told it
            // succeeded.
            for (reply, _) in results {
                let _ = reply.send(Err(aborted(&reason)));
            }
            None
        }
    }
}

/// Runs a unit alone in the transaction; its answer when it committed (see `commit_batch`).
fn commit_alone(tx: &mut Tx, envelope: Envelope, fallback: &Handle) -> Option<Answers> {
    let runtime = envelope.runtime.as_ref().unwrap_or(fallback);
    let outcome = run_unit(tx, envelope.job, runtime);
    let conn = direct(tx);
    let answer = match outcome {
        Ok((true, result)) => match conn.commit() {
            Ok(()) => return Some(vec![(envelope.reply, result)]),
            Err(e) => {
                let _ = conn.rollback();
                Err(aborted(&e.to_string()))
            }
        },
        Ok((false, result)) => {
            let _ = conn.rollback();
            Ok(result)
        }
        Err(_) => {
            tracing::error!("a unit of work panicked; it was rolled back");
            let _ = conn.rollback();
            Err(Error::UnitPanicked)
        }
    };
    let _ = envelope.reply.send(answer);
    None
}

fn rollback_unit(conn: &DirectConn) -> Result<()> {
    conn.execute_static("ROLLBACK TO SAVEPOINT weft_unit")?;
    conn.execute_static("RELEASE SAVEPOINT weft_unit")
}

impl Database {
    /// Runs `work` in a transaction and returns its result once committed. An `Err` from
    /// `work` rolls back everything it wrote (and nothing else).
    pub async fn write<R, E, F>(&self, work: F) -> std::result::Result<R, E>
    where
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, std::result::Result<R, E>> + Send + 'static,
        R: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        match self {
            Database::Sqlite(store) => {
                let job: Job = Box::new(move |tx| {
                    Box::pin(async move {
                        let result = work(tx).await;
                        let ok = result.is_ok();
                        (ok, Box::new(result) as Box<dyn Any + Send>)
                    })
                });
                let (reply, answer) = oneshot::channel();
                let envelope = Envelope { job, reply, runtime: Handle::try_current().ok() };
                store.writer.queue.send(Message::Work(envelope)).await.map_err(|_| E::from(Error::WriterStopped))?;
                let boxed = answer.await.map_err(|_| E::from(Error::WriterStopped))??;
                match boxed.downcast::<std::result::Result<R, E>>() {
                    Ok(result) => *result,
                    Err(_) => Err(E::from(Error::WriterStopped)),
                }
            }
            Database::Postgres(pg) => {
                let begin = match pg.flusher {
                    None => "BEGIN",
                    Some(_) => "BEGIN; SET LOCAL synchronous_commit = off",
                };
                let mut tx = Tx::Postgres(pg.pool.begin_with(begin).await.map_err(Error::from)?);
                match work(&mut tx).await {
                    Ok(value) => {
                        tx.commit().await?;
                        if let Some(flusher) = &pg.flusher
                            && let Err(e) = flusher.flush().await
                        {
                            // Committed and visible to everyone, so not a failure to report
                            // as one (a retry would write twice); the server flushes it
                            // within `wal_writer_delay` unless it stops first.
                            tracing::error!(error = %e, "a committed write's flush failed; its durability is not confirmed");
                        }
                        Ok(value)
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
        }
    }
}
