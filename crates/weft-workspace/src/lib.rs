//! The Workspace: the one façade through which every command and read passes
//! (DESIGN.md "The path of a change"). Declarations (`declare`), commands on records
//! (`records`), reads (`reads`) and the event consumers (`consumers`) all live here, and
//! all of them ask the access policy (`access`) first.
#![forbid(unsafe_code)]

pub mod access;
pub mod admin_audit;
pub mod aggregate;
pub mod apps;
mod builtin_roles;
pub mod bulk;
mod catalog;
pub mod collab;
pub mod consumers;
mod create_lots;
pub mod create_with;
mod created_values;
pub mod decisions;
mod declare;
pub mod delegation;
pub mod directory;
mod error;
pub mod export;
mod expressions;
pub mod identity;
pub mod org;
pub mod org_admin;
pub mod party_link;
pub mod processes;
pub mod reads;
pub mod records;
pub mod roles;
pub mod rules;
pub mod search;
pub mod shares;
pub mod views;

use std::sync::Arc;

use weft_model::schema::ObjectTypeDecl;
use weft_store::kernel::registry;
use weft_store::{Database, MigrationStatus, PlannedMigration, StoreOptions};

pub use access::{Action, FieldRules, Reach, TypePermissions};
pub use aggregate::{AggregateGroup, AggregateQuery};
pub use builtin_roles::builtin_roles;
pub use bulk::{BulkCommand, BulkTarget};
pub use create_with::{CreatedWith, CreatedWithOutcome};
pub use declare::{ADMIN_APP, DeclareOptions, DeclarePlan, PlannedStep};
pub use error::{Error, Result};
pub use export::{ExportFile, ExportFormat, ExportLang, ExportQuery};
pub use reads::{ListQuery, Page, ProcessStep, TimelineEntry};
pub use records::{BulkMode, BulkRow, Created, Idempotency, RecordView};
pub use views::{SavedView, ViewInput, ViewKind, ViewList, ViewSpec};
pub use weft_store::{Backend, DatabaseLocation, Synchronous};

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
    catalog: Arc<catalog::Catalog>,
    decisions: Arc<decisions::DecisionCache>,
    directory: Arc<directory::DirectoryCell>,
    identity: Arc<identity::IdentityState>,
    processes: Arc<processes::ProcessState>,
    /// Attachment content; `None` until `with_blob_store` (uploads then answer 503).
    blobs: Option<Arc<collab::BlobStore>>,
    /// The outbox tail for live connections, started by the first one.
    live: Arc<tokio::sync::OnceCell<collab::live::LiveFeed>>,
    /// Live connections' credential checks, one per credential.
    live_credentials: Arc<collab::live_credentials::CredentialChecks>,
    /// This node's full-text index; `None` until `with_search_index` (search answers 503).
    search: Option<Arc<search::SearchIndex>>,
    /// Creates waiting to be written together (`create_lots`).
    create_lots: Arc<create_lots::CreateLots<records::PreparedCreate>>,
    /// Creates with dependents waiting to be written together (`create_with`).
    with_lots: Arc<create_lots::CreateLots<create_with::WithUnit>>,
}

impl Workspace {
    /// Connects to the database. Does not migrate: callers decide (`serve` migrates on
    /// start, `migrate --dry-run` must not). Declared types are loaded once migrated.
    pub async fn connect(options: &StoreOptions) -> Result<Self> {
        let db = Database::connect(options).await?;
        let workspace = Workspace {
            db,
            catalog: Arc::default(),
            decisions: Arc::default(),
            directory: Arc::default(),
            identity: Arc::default(),
            processes: Arc::default(),
            blobs: None,
            live: Arc::default(),
            live_credentials: Arc::default(),
            search: None,
            create_lots: Arc::default(),
            with_lots: Arc::default(),
        };
        if workspace.db.migration_status().await? == MigrationStatus::Current {
            workspace.load_catalog().await?;
            workspace.reload_directory().await?;
        }
        Ok(workspace)
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Applies pending migrations and returns them (empty when already current).
    pub async fn migrate(&self) -> Result<Vec<PlannedMigration>> {
        let applied = self.db.migrate().await?;
        self.load_catalog().await?;
        self.add_missing_system_columns().await?;
        self.ensure_builtin_roles().await?;
        self.reload_directory().await?;
        Ok(applied)
    }

    /// Record tables made before a system column existed (`unit` came with access
    /// control) get it, empty, with its index: every query names every system column.
    /// Tables made before the composite system indexes (`party, created_at, id` and the
    /// like) get them, and lose the single-column ones they replace. Tables, columns and
    /// indexes an older Weft named past 63 bytes get the names that fit
    /// (`ddl::adopt_fitted_names`).
    async fn add_missing_system_columns(&self) -> Result<()> {
        use weft_store::records::ddl;
        for entry in self.catalog.all() {
            for step in ddl::adopt_fitted_names(&self.db, &entry.spec).await? {
                tracing::info!(r#type = %entry.decl.name, %step, "upgrading a record table");
            }
            let existing = ddl::table_columns(&self.db, &entry.spec.table).await?;
            let indexes = ddl::table_indexes(&self.db, &entry.spec.table).await?;
            let mut steps = ddl::system_columns_plan(&entry.spec, self.db.backend(), &existing);
            steps.extend(ddl::system_indexes_plan(&entry.spec, self.db.backend(), &indexes));
            if steps.is_empty() {
                continue;
            }
            for step in &steps {
                tracing::info!(r#type = %entry.decl.name, step = %step.description, "upgrading a record table");
            }
            self.db
                .write(move |tx| {
                    Box::pin(async move {
                        for step in &steps {
                            tx.execute_ddl(&step.sql).await?;
                        }
                        Ok::<(), Error>(())
                    })
                })
                .await?;
        }
        Ok(())
    }

    async fn load_catalog(&self) -> Result<()> {
        for row in registry::all(&self.db).await? {
            let decl: ObjectTypeDecl = serde_json::from_str(&row.declaration)
                .map_err(|e| Error::BadRequest(format!("stored declaration of `{}` is unreadable: {e}", row.name)))?;
            self.catalog.put(catalog::TypeEntry::new(decl, row.app, row.revision));
        }
        Ok(())
    }

    /// Reloads roles, holdings and the org tree after a change to any of them. Every
    /// command that changes them calls this once its transaction has committed.
    pub async fn reload_directory(&self) -> Result<()> {
        self.directory.set(directory::Directory::load(&self.db).await?);
        Ok(())
    }

    /// The current snapshot of roles, holdings and the org tree.
    pub fn directory(&self) -> Arc<directory::Directory> {
        self.directory.get()
    }

    /// The primary org unit of `principal` (records it creates belong there by default).
    pub fn primary_unit(&self, principal: &weft_model::Principal) -> Option<uuid::Uuid> {
        self.directory.get().org.primary_unit(principal.id)
    }

    /// The declarations of every type, by name.
    pub fn types(&self) -> Vec<(ObjectTypeDecl, String, i64)> {
        self.catalog.all().iter().map(|e| (e.decl.clone(), e.app.clone(), e.revision)).collect()
    }

    pub fn type_decl(&self, name: &str) -> Option<ObjectTypeDecl> {
        self.catalog.get(name).map(|e| e.decl.clone())
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

    /// Walks the audit chain.
    pub async fn verify_audit(&self) -> Result<weft_store::kernel::audit::AuditVerdict> {
        Ok(weft_store::kernel::audit::verify(&self.db).await?)
    }

    /// Releases the database at shutdown.
    pub async fn close(&self) {
        self.db.close().await;
    }
}
