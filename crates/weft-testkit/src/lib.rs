//! Test kit: every integration test gets its own database, on SQLite and on PostgreSQL.
//!
//! - `TestDatabase::new(backend)`: a fresh SQLite file in a temporary folder, or a fresh
//!   PostgreSQL database created on the server named by `WEFT_TEST_DATABASE_URL` and
//!   dropped when the test ends.
//! - `spawn_app(backend)`: the real router on `127.0.0.1:0` over such a database, with an
//!   administrator (`admin_id`, role `admin`) whose API token `client` sends on every
//!   request; `anonymous` sends none. `create_member`, `create_guest` and `sign_in` make
//!   people and browser sessions (a cookie client and its CSRF token).
//! - `on_both_databases!(test_fn, …)`: one test per backend. When
//!   `WEFT_TEST_DATABASE_URL` is unset the PostgreSQL variant prints a visible SKIPPED
//!   notice and passes; with `WEFT_TEST_REQUIRE_POSTGRES=1` (CI) it fails instead.
#![forbid(unsafe_code)]

mod app;
mod database;
pub mod fixtures;
pub mod people;

pub use app::{
    ADMIN_LOGIN, ADMIN_PASSWORD, AuditRow, SignedIn, TestApp, bearer_client, cookie_client, spawn_app, spawn_app_with,
    spawn_app_with_auth,
};
pub use database::{TestBackend, TestDatabase};

/// Generates `mod <name> { sqlite, postgres }` tests calling `async fn <name>(TestBackend)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::TestBackend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::TestBackend::postgres_enabled(concat!(module_path!(), "::postgres")) {
                    super::$name($crate::TestBackend::Postgres).await;
                }
            }
        }
    )*};
}
