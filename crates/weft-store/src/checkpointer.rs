//! Checkpoints of the SQLite log on a thread of their own.
//!
//! A commit appends pages to the write-ahead log; a checkpoint copies them back into the
//! database file so the log can be reused. SQLite's default runs the checkpoint inside the
//! COMMIT that takes the log past 1,000 pages, on the committing connection: the writer
//! thread, which every write waits for, then copied about 4 MiB and flushed the log and the
//! database file before it could start the next batch (`perf` and `strace` of the processes
//! benchmark: ~10 such stops a second at 64 tasks).
//!
//! Here the writer only tells this thread that it committed. The thread lets the commits of
//! the next moment gather, then checkpoints in `PASSIVE` mode, which neither waits for nor
//! blocks the writer and the readers: the writer appends to the log while the copy runs, and
//! reuses the log from its start once a checkpoint has caught up with it. A page rewritten
//! by many commits in between (the tail of a table, an index's last leaf) is copied once.
//! The writer keeps a fallback (`WRITER_FALLBACK_PAGES`) should this thread fall behind.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::direct::DirectConn;

/// Log pages past which the writer's own COMMIT checkpoints, as SQLite does by default at
/// 1,000: reached only when this thread fell far behind (64 MiB of 4 KiB pages).
pub(crate) const WRITER_FALLBACK_PAGES: u32 = 16_384;

/// How long the commits after a first one gather before the checkpoint: at the processes
/// benchmark's rate, about the 1,000 pages at which SQLite would have checkpointed.
const GATHER: Duration = Duration::from_millis(100);

pub(crate) struct Checkpointer {
    poke: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database file.
    pub(crate) fn start(conn: DirectConn) -> std::io::Result<Checkpointer> {
        // One pending poke is enough: a checkpoint copies every commit made before it.
        let (poke, rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new().name("weft-sqlite-ckpt".into()).spawn(move || run(&conn, &rx))?;
        Ok(Checkpointer { poke: Some(poke), thread: Some(thread) })
    }

    /// A commit happened: a checkpoint follows within `GATHER`. Never blocks.
    pub(crate) fn committed(&self) {
        if let Some(poke) = &self.poke {
            match poke.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::error!("the SQLite checkpointer stopped; the writer checkpoints past its fallback size");
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Ends the thread without waiting for the checkpoint it was gathering for.
    fn drop(&mut self) {
        self.poke.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `GATHER`, or `WEFT_SQLITE_CHECKPOINT_GATHER_MS` (for benchmarks: 0 checkpoints after
/// every commit, as nearly as SQLite's default does).
fn gather() -> Duration {
    std::env::var("WEFT_SQLITE_CHECKPOINT_GATHER_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(GATHER, Duration::from_millis)
}

fn run(conn: &DirectConn, pokes: &Receiver<()>) {
    let gather = gather();
    while pokes.recv().is_ok() {
        let until = Instant::now() + gather;
        // Commits keep poking while they gather; the checkpoint starts at `until` whatever
        // is still pending (it copies those commits too).
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match pokes.recv_timeout(left) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                // Closing: what the log still holds is copied when the last connection
                // closes, or by the next checkpoint whoever makes it.
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        // The pokes of commits before this checkpoint: it copies them.
        while pokes.try_recv().is_ok() {}
        match conn.checkpoint_passive() {
            Ok((log, copied)) => tracing::trace!(log, copied, "checkpoint"),
            // Busy or failing: the log keeps growing until a later checkpoint (or, past its
            // fallback size, the writer's own) copies it; nothing is lost.
            Err(e) => tracing::warn!("checkpointing the SQLite log failed: {e}"),
        }
    }
}
