use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// The configured database URL cannot be understood. Never includes the password.
    #[error("invalid database_url {url}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The database could not be reached at start. `target` names the host (or file) and
    /// `hint` the most likely fix; the password is never part of either.
    #[error("cannot connect to {backend} at {target}: {reason}\n  hint: {hint}")]
    Connect { backend: &'static str, target: String, reason: String, hint: String },

    /// The database was migrated by a newer Weft than this binary.
    #[error(
        "the database schema is newer than this binary: it has migration {version} ({description}) \
         which this build of Weft does not know. Run a Weft release at least as new as the one \
         that migrated this database, or restore a backup taken before the upgrade."
    )]
    SchemaTooNew { version: i64, description: String },

    /// A migration file applied earlier was changed afterwards.
    #[error("migration {version} was changed after it was applied (checksum differs); restore the original file")]
    MigrationChanged { version: i64 },

    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// A value does not fit its column (more than 64 bits in the field's smallest unit).
    #[error("the value of `{field}` is too large to store exactly")]
    ValueOutOfRange { field: String },

    /// A unique constraint refused the write; `fields` names the declared fields.
    #[error("a record with the same {} already exists", fields.join(", "))]
    Unique { fields: Vec<String> },

    /// A reference names a record that does not exist, or a delete would orphan one.
    #[error("reference constraint failed: {detail}")]
    ForeignKey { detail: String },

    /// A filter that cannot be rendered for this table.
    #[error("{0}")]
    Filter(String),

    /// A record's times cannot be rewritten as asked (`records::backdate`).
    #[error("cannot backdate {type_name} {id}: {reason}")]
    Backdate { type_name: String, id: uuid::Uuid, reason: String },

    /// A unit of work panicked (a bug); it was rolled back and the writer carries on.
    #[error("internal error while writing; nothing was written")]
    UnitPanicked,

    /// The write task is gone (shutting down, or a unit of work panicked mid-batch).
    #[error("the database writer has stopped")]
    WriterStopped,

    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}
