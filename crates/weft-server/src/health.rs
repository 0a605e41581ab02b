//! Probes for load balancers and orchestrators: `/healthz` says the process is up,
//! `/readyz` that it can serve (database reachable, schema current).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use weft_model::ErrorCode;
use weft_workspace::Readiness;

use crate::{AppJson, AppState, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    /// The Weft version serving the request.
    pub version: &'static str,
}

/// The process is up. Never touches the database.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> AppJson<Health> {
    AppJson(Health { status: "ok", version: weft_model::BINARY_VERSION })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`
    pub status: &'static str,
    /// `sqlite` or `postgres`
    pub database: &'static str,
}

/// The database answers and its schema is the one this binary expects.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Ready),
        (status = 503, description = "Database unreachable or schema not current", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.workspace.readiness().await {
        Readiness::Ready => {
            let database = match state.workspace.backend() {
                weft_workspace::Backend::Sqlite => "sqlite",
                weft_workspace::Backend::Postgres => "postgres",
            };
            AppJson(Ready { status: "ready", database }).into_response()
        }
        Readiness::DatabaseUnreachable(cause) => {
            // The cause may name hosts; it goes to the log, not to an unauthenticated caller.
            tracing::warn!(%cause, "readiness: database unreachable");
            Problem::new(ErrorCode::Unavailable).with_detail("database unreachable").into_response()
        }
        Readiness::SchemaNotCurrent(cause) => {
            tracing::warn!(%cause, "readiness: schema not current");
            Problem::new(ErrorCode::Unavailable)
                .with_detail("database schema is not current; run `weft migrate`")
                .into_response()
        }
    }
}
