//! Pure types shared by every Weft crate. No I/O, no async, no database or HTTP types:
//! everything here can be used from any layer and tested in isolation.
#![forbid(unsafe_code)]

pub mod access;
pub mod error_code;
pub mod principal;
pub mod schema;

pub use error_code::ErrorCode;
pub use principal::{Principal, PrincipalKind};

/// The version of this build, shown by `weft version` and `/healthz`.
pub const BINARY_VERSION: &str = env!("CARGO_PKG_VERSION");
