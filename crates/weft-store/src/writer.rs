//! The write path. `Database::write` runs a unit of work in a transaction and returns its
//! result only after the commit is durable.
//!
//! SQLite has one writer. Rather than let pooled connections race for the write lock
//! (SQLite makes the losers sleep in growing steps; the raw-commit benchmark saw waits of
//! seconds), every write goes to one task that owns the write connection and *batches*
//! whatever work is waiting into one transaction: one fsync for the batch. Each unit runs
//! inside its own savepoint, so a failing unit is rolled back alone and its neighbours
//! still commit; each unit sees the writes of the units before it, as if run one by one.
//!
//! PostgreSQL has many writers and its own group commit: each unit gets a transaction of
//! its own from the pool.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures::FutureExt;

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::{Database, Error, Result, Tx};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most units of work folded into one SQLite transaction.
const MAX_BATCH: usize = 512;

/// A unit of work as the writer task sees it: run it, learn whether it succeeded (to keep
/// or roll back its savepoint), and hand its typed result back to the caller.
/// Where a unit's answer goes once its batch has committed (or failed).
type Reply = oneshot::Sender<Result<Box<dyn Any + Send>>>;

type Job = Box<dyn for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, (bool, Box<dyn Any + Send>)> + Send>;

struct Envelope {
    job: Job,
    reply: Reply,
}

#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Envelope>,
}

impl Writer {
    pub fn start(pool: SqlitePool) -> Writer {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx));
        Writer { queue }
    }
}

async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Envelope>) {
    let mut batch: Vec<Envelope> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.reserve(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit_batch(&pool, std::mem::take(&mut batch)).await;
    }
}

fn commit_batch(pool: &SqlitePool, batch: Vec<Envelope>) -> BoxFuture<'_, ()> {
    Box::pin(commit_batch_inner(pool, batch))
}

async fn commit_batch_inner(pool: &SqlitePool, batch: Vec<Envelope>) {
    let mut tx = match pool.begin().await {
        Ok(tx) => Tx::Sqlite(tx),
        Err(e) => {
            let message = e.to_string();
            for envelope in batch {
                let _ = envelope.reply.send(Err(Error::Sql(sqlx::Error::Protocol(message.clone()))));
            }
            return;
        }
    };
    if batch.len() == 1 {
        // Alone in its batch, a unit needs no savepoint: the transaction is its own.
        if let Some(envelope) = batch.into_iter().next() {
            commit_alone(tx, envelope).await;
        }
        return;
    }
    let mut results: Vec<(Reply, Box<dyn Any + Send>)> = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for envelope in batch {
        if let Some(reason) = &broken {
            let _ = envelope.reply.send(Err(Error::Sql(sqlx::Error::Protocol(reason.clone()))));
            continue;
        }
        if let Err(e) = tx.savepoint().await {
            broken = Some(e.to_string());
            let _ = envelope.reply.send(Err(e));
            continue;
        }
        // A panicking unit must not take the writer (and every later write) down with it.
        let (ok, result) = match AssertUnwindSafe((envelope.job)(&mut tx)).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::error!("a unit of work panicked; it was rolled back");
                match rollback_unit(&mut tx).await {
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
        let settle = if ok { tx.release().await } else { rollback_unit(&mut tx).await };
        match settle {
            Ok(()) => results.push((envelope.reply, result)),
            Err(e) => {
                broken = Some(e.to_string());
                let _ = envelope.reply.send(Err(e));
            }
        }
    }
    match (broken, tx.commit().await) {
        (None, Ok(())) => {
            for (reply, result) in results {
                let _ = reply.send(Ok(result));
            }
        }
        (broken, commit) => {
            // Nothing of this batch is durable: every unit learns that, none is told it
            // succeeded.
            let reason = broken.or_else(|| commit.err().map(|e| e.to_string())).unwrap_or_default();
            for (reply, _) in results {
                let _ = reply.send(Err(Error::Sql(sqlx::Error::Protocol(format!("transaction aborted: {reason}")))));
            }
        }
    }
}

async fn commit_alone(mut tx: Tx, envelope: Envelope) {
    let outcome = AssertUnwindSafe((envelope.job)(&mut tx)).catch_unwind().await;
    let answer = match outcome {
        Ok((true, result)) => match tx.commit().await {
            Ok(()) => Ok(result),
            Err(e) => Err(Error::Sql(sqlx::Error::Protocol(format!("transaction aborted: {e}")))),
        },
        Ok((false, result)) => {
            let _ = tx.rollback().await;
            Ok(result)
        }
        Err(_) => {
            tracing::error!("a unit of work panicked; it was rolled back");
            let _ = tx.rollback().await;
            Err(Error::UnitPanicked)
        }
    };
    let _ = envelope.reply.send(answer);
}

async fn rollback_unit(tx: &mut Tx) -> Result<()> {
    tx.rollback_to().await?;
    tx.release().await
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
                store.writer.queue.send(Envelope { job, reply }).await.map_err(|_| E::from(Error::WriterStopped))?;
                let boxed = answer.await.map_err(|_| E::from(Error::WriterStopped))??;
                match boxed.downcast::<std::result::Result<R, E>>() {
                    Ok(result) => *result,
                    Err(_) => Err(E::from(Error::WriterStopped)),
                }
            }
            Database::Postgres(pool) => {
                let mut tx = Tx::Postgres(pool.begin().await.map_err(Error::from)?);
                match work(&mut tx).await {
                    Ok(value) => {
                        tx.commit().await?;
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
