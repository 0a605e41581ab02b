//! Kernel migrations, embedded in the binary: `migrations/sqlite` and `migrations/postgres`
//! hold the same migration names, one folder per dialect.
//!
//! **Invariant:** a database that has a migration this binary does not ship was migrated by
//! a newer Weft; it is refused (never partially understood).

use sqlx::Row;
use sqlx::migrate::{MigrateError, Migrator};

use crate::{Database, Error, Result};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMigration {
    pub version: i64,
    pub description: String,
}

/// What `migrate` would do: the migrations already applied and the ones still to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPlan {
    pub applied: Vec<PlannedMigration>,
    pub pending: Vec<PlannedMigration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationStatus {
    Current,
    Pending(usize),
}

impl Database {
    fn migrator(&self) -> &'static Migrator {
        match self {
            Database::Sqlite(_) => &SQLITE,
            Database::Postgres(_) => &POSTGRES,
        }
    }

    /// The newest migration this binary ships.
    pub fn latest_known_migration(&self) -> Option<i64> {
        self.migrator().iter().map(|m| m.version).max()
    }

    /// Compares the database with the migrations this binary ships, without changing it.
    pub async fn migration_plan(&self) -> Result<MigrationPlan> {
        let applied_rows = self.applied_migrations().await?;
        let migrator = self.migrator();
        for (version, checksum) in &applied_rows {
            match migrator.iter().find(|m| m.version == *version) {
                None => {
                    return Err(Error::SchemaTooNew {
                        version: *version,
                        description: "unknown to this binary".into(),
                    });
                }
                Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                    return Err(Error::MigrationChanged { version: *version });
                }
                Some(_) => {}
            }
        }
        let mut plan = MigrationPlan { applied: Vec::new(), pending: Vec::new() };
        for m in migrator.iter().filter(|m| m.migration_type.is_up_migration()) {
            let entry = PlannedMigration { version: m.version, description: m.description.to_string() };
            if applied_rows.iter().any(|(v, _)| *v == m.version) {
                plan.applied.push(entry);
            } else {
                plan.pending.push(entry);
            }
        }
        Ok(plan)
    }

    pub async fn migration_status(&self) -> Result<MigrationStatus> {
        let plan = self.migration_plan().await?;
        Ok(if plan.pending.is_empty() {
            MigrationStatus::Current
        } else {
            MigrationStatus::Pending(plan.pending.len())
        })
    }

    /// Applies pending migrations (idempotent: nothing pending, nothing done) and returns
    /// what was applied. Several nodes may call this at once on PostgreSQL: the migrator
    /// holds an advisory lock while it works.
    pub async fn migrate(&self) -> Result<Vec<PlannedMigration>> {
        let plan = self.migration_plan().await?;
        if plan.pending.is_empty() {
            return Ok(Vec::new());
        }
        let outcome = match self {
            Database::Sqlite(store) => SQLITE.run(&store.write_pool).await,
            Database::Postgres(pg) => POSTGRES.run(&pg.pool).await,
        };
        match outcome {
            Ok(()) => Ok(plan.pending),
            Err(MigrateError::VersionMissing(version)) => {
                Err(Error::SchemaTooNew { version, description: "unknown to this binary".into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `(version, checksum)` of every successfully applied migration, oldest first; empty
    /// for a database Weft has never touched.
    async fn applied_migrations(&self) -> Result<Vec<(i64, Vec<u8>)>> {
        const SELECT: &str = "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version";
        let rows = match self {
            Database::Sqlite(store) => {
                let pool = &store.readers;
                let exists: Option<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_optional(pool)
                .await?;
                if exists.is_none() {
                    return Ok(Vec::new());
                }
                sqlx::query(SELECT)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<Vec<u8>, _>(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Database::Postgres(pg) => {
                let pool = &pg.pool;
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL").fetch_one(pool).await?;
                if !exists {
                    return Ok(Vec::new());
                }
                sqlx::query(SELECT)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<Vec<u8>, _>(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
        };
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DatabaseLocation, StoreOptions};

    async fn sqlite(dir: &tempfile::TempDir) -> Database {
        let loc = DatabaseLocation::parse(None, dir.path()).unwrap();
        Database::connect(&StoreOptions::new(loc)).await.unwrap()
    }

    #[test]
    fn both_dialects_ship_the_same_migration_names() {
        let names = |m: &Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
        assert_eq!(names(&SQLITE), names(&POSTGRES));
    }

    #[tokio::test]
    async fn migrate_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let before = db.migration_plan().await.unwrap();
        assert!(before.applied.is_empty());
        assert!(!before.pending.is_empty());
        let applied = db.migrate().await.unwrap();
        assert_eq!(applied, before.pending);
        assert_eq!(db.migrate().await.unwrap(), Vec::new());
        assert_eq!(db.migration_status().await.unwrap(), MigrationStatus::Current);
    }

    #[tokio::test]
    async fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        db.migrate().await.unwrap();
        let Database::Sqlite(store) = &db else { unreachable!() };
        let pool = &store.write_pool;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99991231000000, 'from the future', 1, x'00', 0)",
        )
        .execute(pool)
        .await
        .unwrap();
        let err = db.migrate().await.unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { version: 99991231000000, .. }), "{err}");
        assert!(err.to_string().contains("newer than this binary"), "{err}");
        assert!(db.migration_status().await.is_err());
    }
}
