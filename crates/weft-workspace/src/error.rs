use weft_model::ErrorCode;
use weft_model::schema::{DeclProblem, FieldError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a command or read can answer besides success. Each variant maps to one
/// `ErrorCode`; the HTTP layer renders it, the CLI prints it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Every bad field at once.
    #[error("validation failed: {}", summary(.0))]
    Validation(Vec<FieldError>),

    /// A declaration refused, with every problem.
    #[error("the declaration has {} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Declaration(Vec<DeclProblem>),

    /// The change would destroy data and was not explicitly allowed.
    #[error("the change is destructive ({}); repeat it with allow_destructive to apply it", .0.join("; "))]
    Destructive(Vec<String>),

    /// No such type or record, or the principal may not know it exists.
    #[error("{0} not found")]
    NotFound(String),

    /// The record changed since the version the caller read.
    #[error("the record was changed by someone else (current version {current})")]
    Stale { current: i64 },

    /// A unique value is taken.
    #[error("a record with the same {} already exists", .fields.join(", "))]
    Unique { fields: Vec<String> },

    /// The command conflicts with the record's state (transition not allowed from here,
    /// delete restricted by references, an idempotency key reused for another request).
    #[error("{0}")]
    Conflict(String),

    /// The principal may see the record but not do this.
    #[error("permission denied: {0}")]
    Forbidden(String),

    /// A malformed request that is not about one field (a bad cursor, a bad filter).
    #[error("{0}")]
    BadRequest(String),

    /// A dependency is busy or too slow right now; retry later.
    #[error("{0}")]
    Unavailable(String),

    /// No valid session or token, or a sign-in that failed (never saying which part).
    #[error("{0}")]
    Unauthenticated(String),

    /// Too many attempts; try again after the given number of seconds.
    /// An upload over the per-file limit, or one the workspace's storage quota cannot hold.
    #[error("{0}")]
    TooLarge(String),

    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },

    /// A fault on our side that is not the store's (a document we wrote cannot be read back).
    #[error("{0}")]
    Internal(String),

    #[error(transparent)]
    Store(weft_store::Error),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.pointer, e.reason)).collect::<Vec<_>>().join("; ")
}

impl From<weft_store::Error> for Error {
    fn from(e: weft_store::Error) -> Self {
        match e {
            weft_store::Error::Unique { fields } => Error::Unique { fields },
            weft_store::Error::ValueOutOfRange { field } => Error::Validation(vec![FieldError {
                pointer: format!("/{field}"),
                code: weft_model::schema::FieldErrorCode::OutOfRange,
                reason: "too large to store exactly".into(),
            }]),
            other => Error::Store(other),
        }
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Validation(_) | Error::Declaration(_) => ErrorCode::ValidationFailed,
            Error::Destructive(_) | Error::Unique { .. } | Error::Conflict(_) => ErrorCode::Conflict,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Stale { .. } => ErrorCode::PreconditionFailed,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::Internal(_) => ErrorCode::Internal,
            Error::Store(weft_store::Error::ForeignKey { .. }) => ErrorCode::Conflict,
            Error::Store(_) => ErrorCode::Internal,
        }
    }
}
