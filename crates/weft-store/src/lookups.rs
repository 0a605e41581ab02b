//! Reads by key on SQLite, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own: a statement is sent there and its
//! rows sent back, two thread wake-ups per read. For a read by key, which SQLite answers in a
//! few microseconds, the hand-over costs several times the read (a process step makes about
//! ten such reads; the profile of the processes benchmark had sqlx's connection threads at a
//! third of all CPU samples, most of it waking and sleeping). `Database::lookup` and
//! `lookup_all` run such reads on the caller's thread with a read-only connection of their
//! own (rusqlite, the same SQLite build, statements rendered and decoded as for the writer's
//! connection: `DirectConn`).
//!
//! Only reads bounded by a key belong here: the calling thread is a runtime worker, and a
//! scan would hold it. Lists, counts and aggregates go through sqlx's pool
//! (`Database::fetch_all`).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::direct::DirectConn;
use crate::{Result, StoreOptions};

/// Idle connections kept; more are opened when callers overlap and closed after.
const KEEP_IDLE: usize = 8;

#[derive(Debug)]
pub(crate) struct Lookups {
    path: PathBuf,
    options: StoreOptions,
    idle: Mutex<Vec<DirectConn>>,
    closed: AtomicBool,
}

impl Lookups {
    pub(crate) fn new(path: PathBuf, options: StoreOptions) -> Lookups {
        Lookups { path, options, idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false) }
    }

    /// Runs `read` on an idle connection (opened if none is).
    pub(crate) fn with<T>(&self, read: impl FnOnce(&DirectConn) -> Result<T>) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(crate::Error::Sql(sqlx::Error::PoolClosed));
        }
        let idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => DirectConn::open_reader(&self.path, &self.options)?,
        };
        let out = read(&conn);
        // A connection left inside a read transaction (it never is: each statement runs to
        // its end or is reset) would pin an old snapshot; drop it rather than keep it.
        if conn.is_idle() && !self.closed.load(Ordering::Acquire) {
            let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
        }
        out
    }

    /// Closes the idle connections; later reads fail as on a closed pool.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}
