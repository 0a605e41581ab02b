//! Consumers of the event outbox. Each has a name and a durable offset; it receives every
//! event after its offset in sequence order, at least once: the offset moves only after
//! the handler succeeded, so a crash replays the unacknowledged events, which is why
//! handlers must be idempotent (`Consumer::handle` gets the event's `seq` to key on).
//! A consumer that was down catches up from its offset.

use std::sync::Arc;
use std::time::Duration;

use weft_store::BoxFuture;
use weft_store::kernel::outbox::{self, StoredEvent};

use crate::{Error, Result, Workspace};

pub trait Consumer: Send + Sync + 'static {
    /// Stable: the offset is stored under it.
    fn name(&self) -> &str;
    fn handle<'a>(&'a self, workspace: &'a Workspace, event: &'a StoredEvent) -> BoxFuture<'a, Result<()>>;
}

/// Runs `work` at most once per (consumer, event): the claim and the work's writes commit
/// together, so after a crash either both happened or neither did. Returns `None` when the
/// event was already handled.
pub async fn once<R, F>(workspace: &Workspace, consumer: &str, event: &StoredEvent, work: F) -> Result<Option<R>>
where
    F: for<'a> FnOnce(&'a mut weft_store::Tx) -> BoxFuture<'a, Result<R>> + Send + 'static,
    R: Send + 'static,
{
    let owner = format!("consumer:{consumer}");
    let key = event.seq.to_string();
    workspace
        .db
        .write(move |tx| {
            Box::pin(async move {
                if !weft_store::kernel::idempotency::claim(tx, &owner, &key, weft_store::now()).await? {
                    return Ok(None);
                }
                work(tx).await.map(Some)
            })
        })
        .await
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsumerStatus {
    pub name: String,
    /// The last event handled.
    pub position: i64,
    /// Events committed but not yet handled.
    pub lag: i64,
}

/// Events handled per round trip.
const BATCH: u64 = 256;

impl Workspace {
    /// Delivers the events after `consumer`'s offset (up to one batch) and returns how many
    /// it handled. Stops at the first failure, keeping the offset just before it.
    pub async fn run_consumer_once(&self, consumer: &dyn Consumer) -> Result<usize> {
        let offset = outbox::offset(&self.db, consumer.name()).await?;
        let events = outbox::read_after(&self.db, offset, BATCH).await?;
        let mut done = 0;
        let mut last = offset;
        let mut failure = None;
        for event in &events {
            match consumer.handle(self, event).await {
                Ok(()) => {
                    done += 1;
                    last = event.seq;
                }
                Err(e) => {
                    tracing::warn!(consumer = consumer.name(), seq = event.seq, error = %e, "consumer failed; will retry");
                    failure = Some(e);
                    break;
                }
            }
        }
        if last > offset {
            let name = consumer.name().to_owned();
            self.db
                .write(move |tx| {
                    Box::pin(async move {
                        outbox::advance(tx, &name, last, weft_store::now()).await?;
                        Ok::<(), Error>(())
                    })
                })
                .await?;
        }
        match failure {
            Some(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// The outbox head and every consumer's offset and lag (events not yet handled).
    pub async fn consumer_status(&self, principal: &weft_model::Principal) -> Result<(i64, Vec<ConsumerStatus>)> {
        self.require_admin(principal)?;
        let head = outbox::head(&self.db).await?;
        let consumers = outbox::offsets(&self.db)
            .await?
            .into_iter()
            .map(|(name, position)| ConsumerStatus { name, position, lag: (head - position).max(0) })
            .collect();
        Ok((head, consumers))
    }

    /// Starts a consumer that has never run at the outbox head rather than at its start,
    /// so one added to a workspace with history acts only on what happens from now on (the
    /// delivery consumer must not mail a year of old to-dos). Returns whether it was new.
    pub async fn begin_at_head(&self, name: &str) -> Result<bool> {
        if outbox::offsets(&self.db).await?.iter().any(|(n, _)| n == name) {
            return Ok(false);
        }
        let head = outbox::head(&self.db).await?;
        let name = name.to_owned();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    outbox::advance(tx, &name, head, weft_store::now()).await?;
                    Ok::<(), Error>(())
                })
            })
            .await?;
        Ok(true)
    }

    /// How many events the consumer has yet to handle.
    pub async fn consumer_lag(&self, name: &str) -> Result<i64> {
        let head = outbox::head(&self.db).await?;
        let offset = outbox::offset(&self.db, name).await?;
        Ok((head - offset).max(0))
    }

    /// Runs `consumer` until `stop` resolves: drains, then polls; retries failures with
    /// backoff.
    pub fn spawn_consumer(
        &self,
        consumer: Arc<dyn Consumer>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let workspace = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                let pause = match workspace.run_consumer_once(consumer.as_ref()).await {
                    Ok(n) if n as u64 == BATCH => Duration::ZERO,
                    Ok(_) => {
                        backoff = Duration::from_millis(100);
                        Duration::from_millis(100)
                    }
                    Err(_) => {
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        backoff
                    }
                };
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep(pause) => {}
                }
                if *stop.borrow() {
                    break;
                }
            }
        })
    }
}
