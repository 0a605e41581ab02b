//! `/api/v1/admin/roles`: roles as whole documents (grants and field rules), for admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use weft_model::access::RoleDef;
use weft_workspace::roles::RoleView;

use super::actor::{Actor, Admin};
use crate::{AppJson, AppState, Problem};

/// Every role with its grants and field rules.
#[utoipa::path(get, path = "/api/v1/admin/roles", tag = "access",
    responses((status = 200, body = Vec<RoleView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_roles(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<Vec<RoleView>>, Problem> {
    Ok(AppJson(state.workspace.roles(&actor).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/roles/{name}", tag = "access",
    params(("name" = String, Path)),
    responses((status = 200, body = RoleView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_role(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<AppJson<RoleView>, Problem> {
    Ok(AppJson(state.workspace.role(&actor, &name).await?))
}

/// Creates or replaces a role. The document's `name` must match the path. Refused with
/// every problem (unknown type, transition or field; a condition that is not strict FEEL
/// or cannot become SQL; a guest role with a scope other than `party`).
#[utoipa::path(put, path = "/api/v1/admin/roles/{name}", tag = "access",
    params(("name" = String, Path)),
    request_body = RoleDef,
    responses((status = 200, body = RoleView),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_role(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(name): Path<String>,
    AppJson(role): AppJson<RoleDef>,
) -> Result<AppJson<RoleView>, Problem> {
    if role.name != name {
        return Err(weft_workspace::Error::Declaration(vec![weft_model::schema::DeclProblem {
            pointer: "/name".into(),
            reason: format!("the document names `{}` but the path names `{name}`", role.name),
        }])
        .into());
    }
    Ok(AppJson(state.workspace.put_role(&actor, role).await?))
}

/// Deletes a role; its holders lose it. `admin` cannot be deleted.
#[utoipa::path(delete, path = "/api/v1/admin/roles/{name}", tag = "access",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_role(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    state.workspace.delete_role(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
