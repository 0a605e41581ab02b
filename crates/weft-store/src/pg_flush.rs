//! Durability for PostgreSQL writes that committed without waiting for their flush
//! (`PgCommit::FlushAfter`): one task gathers the writes waiting to hear that they are
//! durable and answers all of them with one small flushing transaction.
//!
//! The transaction writes one WAL record (`pg_logical_emit_message`) and commits at the
//! server's own `synchronous_commit`, so its COMMIT waits for the WAL to be flushed up to its
//! commit record, and with it every commit made before it started. A write asks only after
//! its own COMMIT returned, so the batch that takes its request, started after the request
//! arrived, covers it. Gathering them here rather than each write flushing for itself keeps
//! the flushes off the pool's connections, which the writes need.

use tokio::sync::{mpsc, oneshot};

type Answer = oneshot::Sender<Result<(), String>>;

const FLUSH: &str = "BEGIN; SELECT pg_logical_emit_message(true, 'weft.flush', ''); COMMIT";

#[derive(Debug, Clone)]
pub(crate) struct Flusher {
    requests: mpsc::UnboundedSender<Answer>,
}

impl Flusher {
    /// Starts the gathering task on the current runtime; it ends when the last `Flusher`
    /// (the last clone of the `Database`) is dropped.
    pub(crate) fn start(pool: sqlx::PgPool) -> Flusher {
        let (requests, mut incoming) = mpsc::unbounded_channel::<Answer>();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while incoming.recv_many(&mut batch, usize::MAX).await > 0 {
                let outcome = sqlx::raw_sql(FLUSH).execute(&pool).await.map(|_| ()).map_err(|e| e.to_string());
                for answer in batch.drain(..) {
                    let _ = answer.send(outcome.clone());
                }
            }
        });
        Flusher { requests }
    }

    /// Returns once every commit this process finished before the call is durable.
    pub(crate) async fn flush(&self) -> Result<(), String> {
        let (answer, answered) = oneshot::channel();
        self.requests.send(answer).map_err(|_| "the flushing task has stopped".to_owned())?;
        answered.await.map_err(|_| "the flushing task has stopped".to_owned())?
    }
}
