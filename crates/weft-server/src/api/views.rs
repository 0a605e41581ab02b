//! `/api/v1/types/{name}/views`: saved views of the list page (see
//! `weft_workspace::views` for who sees, shares and changes which).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use weft_workspace::{SavedView, ViewInput, ViewList};

use super::actor::Actor;
use crate::{AppJson, AppState, Problem};

fn parse_view_id(id: &str) -> Result<Uuid, Problem> {
    // A malformed id names no view: the same answer as a missing one.
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("view {id}")).into())
}

/// The type's views the caller sees (its own, and the shared ones), and whether it may
/// share views of this type.
#[utoipa::path(get, path = "/api/v1/types/{name}/views", tag = "types",
    params(("name" = String, Path, description = "Type name")),
    responses(
        (status = 200, body = ViewList),
        (status = 403, description = "The caller may not read this type", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_views(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<AppJson<ViewList>, Problem> {
    Ok(AppJson(state.workspace.list_views(&actor, &name).await?))
}

/// Saves the caller's list setup under a name; `shared` (managers of the type and
/// administrators) lists it to everyone who may read the type.
#[utoipa::path(post, path = "/api/v1/types/{name}/views", tag = "types",
    params(("name" = String, Path, description = "Type name")),
    request_body = ViewInput,
    responses(
        (status = 201, body = SavedView),
        (status = 403, description = "Cannot read the type, or may not share", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every bad field: name, spec/kind, spec/columns/N, spec/sort, spec/filter…", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_view(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    AppJson(input): AppJson<ViewInput>,
) -> Result<Response, Problem> {
    let view = state.workspace.create_view(&actor, &name, input).await?;
    Ok((StatusCode::CREATED, AppJson(view)).into_response())
}

/// Renames, re-shares or replaces the setup of one of the caller's views.
#[utoipa::path(patch, path = "/api/v1/types/{name}/views/{id}", tag = "types",
    params(("name" = String, Path, description = "Type name"), ("id" = String, Path)),
    request_body = ViewInput,
    responses(
        (status = 200, body = SavedView),
        (status = 403, description = "Not the owner, or may not share", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_view(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((name, id)): Path<(String, String)>,
    AppJson(input): AppJson<ViewInput>,
) -> Result<AppJson<SavedView>, Problem> {
    let id = parse_view_id(&id)?;
    Ok(AppJson(state.workspace.update_view(&actor, &name, id, input).await?))
}

/// Deletes a view (its owner; an administrator also a shared one).
#[utoipa::path(delete, path = "/api/v1/types/{name}/views/{id}", tag = "types",
    params(("name" = String, Path, description = "Type name"), ("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_view(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let id = parse_view_id(&id)?;
    state.workspace.delete_view(&actor, &name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
