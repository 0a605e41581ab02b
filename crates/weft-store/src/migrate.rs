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
            Database::Sqlite(store) => migrate_sqlite(&store.write_pool).await?,
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

/// Runs SQLite's pending migrations with foreign keys off, as SQLite's procedure for
/// changing a table prescribes: a migration that rebuilds a parent table (to change a check,
/// say) drops it while its children still reference it, which enforcement would refuse. The
/// pragma is a no-op inside a transaction, so it is set on the pool's one connection around
/// the migrator's transactions; before it is switched back on, every reference must still
/// resolve.
async fn migrate_sqlite(pool: &sqlx::SqlitePool) -> Result<std::result::Result<(), MigrateError>> {
    use sqlx::Executor;
    let mut conn = pool.acquire().await?;
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let outcome = SQLITE.run_direct(&mut *conn).await;
    let dangling = match &outcome {
        Ok(()) => sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await.map(|rows| rows.len()),
        Err(_) => Ok(0),
    };
    // Switched on again whatever happened, before any error is returned.
    conn.execute("PRAGMA foreign_keys = ON").await?;
    match dangling? {
        0 => Ok(outcome),
        n => Err(Error::ForeignKey { detail: format!("after migrating, {n} rows reference rows that do not exist") }),
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

    /// A database at the migrations before the process tables were rebuilt (their checks
    /// without `IN` lists), holding an instance with a task, a step, a job, a subscription and
    /// a history entry, is migrated: every row stays, every reference resolves, the checks
    /// still refuse a bad status, and foreign keys are enforced again afterwards.
    #[tokio::test]
    async fn rebuilding_the_process_tables_keeps_their_rows_and_references() {
        const REBUILT: i64 = 20261205000000;
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir).await;
        let Database::Sqlite(store) = &db else { unreachable!() };
        let pool = &store.write_pool;
        let mut before = Migrator::DEFAULT;
        before.migrations = SQLITE.iter().filter(|m| m.version < REBUILT).cloned().collect::<Vec<_>>().into();
        before.run(pool).await.unwrap();
        for statement in [
            "INSERT INTO process_definitions (id, process_key, version, name, variables, xml, checksum, deployed_at, \
             deployed_by) VALUES (x'01', 'p', 1, 'P', '{}', '<x/>', 'c', '2026-12-05T00:00:00.000000Z', 'system')",
            "INSERT INTO process_instances (id, definition_id, process_key, version, status, started_at, state, \
             revision) VALUES (x'02', x'01', 'p', 1, 'active', '2026-12-05T00:00:00.000000Z', '{}', 3)",
            "INSERT INTO process_tasks (id, instance_id, element, status, candidate_principals, candidate_roles, \
             candidate_units, created_at, inputs) VALUES ('t1', x'02', 'approve', 'open', '[]', '[\"admin\"]', '[]', \
             '2026-12-05T00:00:00.000000Z', '{}')",
            "INSERT INTO process_steps (instance_id, ordinal, process_key, version, element, started_at, ended_at, \
             outcome) VALUES (x'02', 0, 'p', 1, 'start', '2026-12-05T00:00:00.000000Z', \
             '2026-12-05T00:00:00.000000Z', 'completed')",
            "INSERT INTO process_jobs (id, instance_id, element, kind, payload, due_at, status, max_attempts, \
             created_at) VALUES ('j1', x'02', 'remind', 'timer', '{}', '2026-12-06T00:00:00.000000Z', 'pending', 5, \
             '2026-12-05T00:00:00.000000Z')",
            "INSERT INTO process_subscriptions (id, instance_id, element, message, status, created_at) \
             VALUES ('s1', x'02', 'wait', 'paid', 'open', '2026-12-05T00:00:00.000000Z')",
            "INSERT INTO process_history (instance_id, at, actor, action, detail) \
             VALUES (x'02', '2026-12-05T00:00:00.000000Z', 'system', 'timer.fire', '{}')",
        ] {
            sqlx::query(statement).execute(pool).await.unwrap();
        }

        let applied = db.migrate().await.unwrap();
        assert!(applied.iter().any(|m| m.version == REBUILT), "{applied:?}");

        let count = |table: &str| format!("SELECT count(*) FROM {table}");
        for table in [
            "process_instances",
            "process_tasks",
            "process_steps",
            "process_jobs",
            "process_subscriptions",
            "process_history",
        ] {
            let n: i64 = sqlx::query_scalar(&count(table)).fetch_one(pool).await.unwrap();
            assert_eq!(n, 1, "{table}");
        }
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM process_instances WHERE id = x'02'")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(revision, 3);
        let dangling = sqlx::query("PRAGMA foreign_key_check").fetch_all(pool).await.unwrap();
        assert!(dangling.is_empty());
        let enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
        assert_eq!(enforced, 1);
        let lists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('process_instances', 'process_tasks', 'process_jobs') \
             AND sql LIKE '%IN (%'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(lists, 0);
        let indexes: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('process_instances_by_record', \
             'process_instances_by_status', 'process_tasks_by_instance', 'process_tasks_open_by_assignee', \
             'process_jobs_due')",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(indexes, 5);

        let bad_status = sqlx::query("UPDATE process_tasks SET status = 'lost' WHERE id = 't1'").execute(pool).await;
        assert!(bad_status.unwrap_err().to_string().contains("CHECK constraint failed"));
        let bad_job = sqlx::query("UPDATE process_jobs SET status = 'lost' WHERE id = 'j1'").execute(pool).await;
        assert!(bad_job.unwrap_err().to_string().contains("CHECK constraint failed"));
        let bad_instance =
            sqlx::query("UPDATE process_instances SET status = 'lost' WHERE id = x'02'").execute(pool).await;
        assert!(bad_instance.unwrap_err().to_string().contains("CHECK constraint failed"));
        for status in ["completed", "cancelled", "withdrawn", "active"] {
            sqlx::query("UPDATE process_instances SET status = ?1 WHERE id = x'02'")
                .bind(status)
                .execute(pool)
                .await
                .unwrap();
        }
        let orphan = sqlx::query(
            "INSERT INTO process_steps (instance_id, ordinal, process_key, version, element, started_at, ended_at, \
             outcome) VALUES (x'09', 0, 'p', 1, 'start', 'a', 'b', 'completed')",
        )
        .execute(pool)
        .await;
        assert!(orphan.unwrap_err().to_string().contains("FOREIGN KEY constraint failed"));
    }
}
