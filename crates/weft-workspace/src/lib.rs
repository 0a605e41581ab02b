//! The Workspace: the one façade through which every command and read passes
//! (DESIGN.md "The path of a change"). This first cut owns the database and answers
//! readiness; records, access and events arrive on the same façade.
#![forbid(unsafe_code)]

use weft_store::{Database, MigrationStatus, PlannedMigration, StoreOptions};

pub use weft_store::{Backend, DatabaseLocation, Synchronous};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] weft_store::Error),
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The database does not answer.
    DatabaseUnreachable(String),
    /// The schema is behind this binary (or ahead of it).
    SchemaNotCurrent(String),
}

#[derive(Debug, Clone)]
pub struct Workspace {
    db: Database,
}

impl Workspace {
    /// Connects to the database. Does not migrate: callers decide (`serve` migrates on
    /// start, `migrate --dry-run` must not).
    pub async fn connect(options: &StoreOptions) -> Result<Self> {
        let db = Database::connect(options).await?;
        Ok(Workspace { db })
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Applies pending migrations and returns them (empty when already current).
    pub async fn migrate(&self) -> Result<Vec<PlannedMigration>> {
        Ok(self.db.migrate().await?)
    }

    pub async fn readiness(&self) -> Readiness {
        if let Err(e) = self.db.ping().await {
            return Readiness::DatabaseUnreachable(e.to_string());
        }
        match self.db.migration_status().await {
            Ok(MigrationStatus::Current) => Readiness::Ready,
            Ok(MigrationStatus::Pending(n)) => Readiness::SchemaNotCurrent(format!("{n} migration(s) pending")),
            Err(e) => Readiness::SchemaNotCurrent(e.to_string()),
        }
    }

    /// Releases the database at shutdown.
    pub async fn close(&self) {
        self.db.close().await;
    }
}
