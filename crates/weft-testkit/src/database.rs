use std::path::{Path, PathBuf};

use sqlx::Connection;
use weft_store::{DatabaseLocation, StoreOptions};

pub const URL_VAR: &str = "WEFT_TEST_DATABASE_URL";
pub const REQUIRE_VAR: &str = "WEFT_TEST_REQUIRE_POSTGRES";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl TestBackend {
    /// Whether the PostgreSQL variant of `test` can run. Unset URL: prints a SKIPPED notice
    /// (or panics when PostgreSQL is required, as on CI).
    pub fn postgres_enabled(test: &str) -> bool {
        if std::env::var(URL_VAR).is_ok_and(|v| !v.trim().is_empty()) {
            return true;
        }
        if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1" || v == "true") {
            panic!("{test}: {REQUIRE_VAR} is set but {URL_VAR} is not; the PostgreSQL variant cannot be skipped here");
        }
        eprintln!("SKIPPED {test}: set {URL_VAR}=postgres://postgres@127.0.0.1:5432/test to run it");
        false
    }
}

/// A database that exists for one test. PostgreSQL databases are dropped on drop.
pub struct TestDatabase {
    pub backend: TestBackend,
    pub location: DatabaseLocation,
    /// The data folder (holds the SQLite file; later blobs and indexes).
    pub data_dir: tempfile::TempDir,
    postgres: Option<PostgresGuard>,
}

struct PostgresGuard {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn new(backend: TestBackend) -> anyhow::Result<Self> {
        let data_dir = tempfile::Builder::new().prefix("weft-test-").tempdir()?;
        match backend {
            TestBackend::Sqlite => {
                let location = DatabaseLocation::parse(None, data_dir.path())?;
                Ok(TestDatabase { backend, location, data_dir, postgres: None })
            }
            TestBackend::Postgres => {
                let admin_url = std::env::var(URL_VAR).map_err(|_| anyhow::anyhow!("{URL_VAR} is not set"))?;
                let name = format!("weft_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await?;
                admin.close().await?;
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&format!("/{name}"));
                let location = DatabaseLocation::parse(Some(url.as_str()), data_dir.path())?;
                Ok(TestDatabase { backend, location, data_dir, postgres: Some(PostgresGuard { admin_url, name }) })
            }
        }
    }

    pub fn store_options(&self) -> StoreOptions {
        let mut options = StoreOptions::new(self.location.clone());
        options.max_connections = 8;
        options
    }

    pub fn data_path(&self) -> &Path {
        self.data_dir.path()
    }

    /// The URL to hand to a spawned `weft` binary (`--database-url`).
    pub fn url(&self) -> String {
        match &self.location {
            DatabaseLocation::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseLocation::Postgres(url) => url.to_string(),
        }
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.location {
            DatabaseLocation::Sqlite(path) => Some(path.clone()),
            DatabaseLocation::Postgres(_) => None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(guard) = self.postgres.take() else {
            return;
        };
        // Drop may run inside a runtime; do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&guard.admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", guard.name))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}
