//! `/api/v1/admin/principals` and `/api/v1/admin/invitations`: administrators manage
//! members, guests and service accounts: create, read, list, update, disable and enable,
//! set roles, reset passwords, end sessions, make tokens for service accounts, invite
//! guests. Everything here needs a role granting `admin` (403 otherwise).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weft_workspace::identity::{
    CreatedInvitation, CreatedToken, NewInvitation, NewPrincipal, NewToken, PrincipalPatch, PrincipalQuery,
    PrincipalView, SecretString,
};

use super::actor::{Actor, Admin};
use super::auth::no_store;
use super::me::{TokenList, parse_uuid};
use crate::{AppJson, AppQuery, AppState, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct PrincipalList {
    pub items: Vec<PrincipalView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsRevoked {
    pub sessions_revoked: u64,
}

/// Principals, by login; narrowed by `kind`, `party` and `status`.
#[utoipa::path(get, path = "/api/v1/admin/principals", tag = "admin", params(PrincipalQuery),
    responses((status = 200, body = PrincipalList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_principals(
    State(state): State<AppState>,
    Actor(actor): Actor,
    query: AppQuery<PrincipalQuery>,
) -> Result<AppJson<PrincipalList>, Problem> {
    let AppQuery(query) = query;
    Ok(AppJson(PrincipalList { items: state.workspace.principals(&actor, &query).await? }))
}

/// Creates a member, a guest (bound to `party`) or a service account.
#[utoipa::path(post, path = "/api/v1/admin/principals", tag = "admin", request_body = NewPrincipal,
    responses(
        (status = 201, body = PrincipalView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the login is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "every bad field, with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_principal(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppJson(request): AppJson<NewPrincipal>,
) -> Result<Response, Problem> {
    let created = state.workspace.create_principal(&actor, request).await?;
    Ok((StatusCode::CREATED, AppJson(created)).into_response())
}

#[utoipa::path(get, path = "/api/v1/admin/principals/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = PrincipalView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_principal(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<PrincipalView>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(state.workspace.principal(&actor, id).await?))
}

/// Changes the display name, e-mail or locale (`null` clears the last two).
#[utoipa::path(patch, path = "/api/v1/admin/principals/{id}", tag = "admin", params(("id" = String, Path)),
    request_body = PrincipalPatch,
    responses((status = 200, body = PrincipalView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_principal(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(patch): AppJson<PrincipalPatch>,
) -> Result<AppJson<PrincipalView>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(state.workspace.update_principal(&actor, id, patch).await?))
}

/// Replaces the roles a principal holds. Guests hold guest roles only.
#[utoipa::path(put, path = "/api/v1/admin/principals/{id}/roles", tag = "admin", params(("id" = String, Path)),
    request_body = RolesRequest,
    responses((status = 200, body = PrincipalView), (status = 422, description = "an unknown role, or one of the wrong kind", body = Problem, content_type = "application/problem+json")))]
pub async fn set_roles(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(request): AppJson<RolesRequest>,
) -> Result<AppJson<PrincipalView>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(state.workspace.set_principal_roles(&actor, id, request.roles).await?))
}

/// Disables a principal: no more sign-ins; its sessions and tokens end now.
#[utoipa::path(post, path = "/api/v1/admin/principals/{id}/disable", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = PrincipalView), (status = 409, description = "disabling oneself", body = Problem, content_type = "application/problem+json")))]
pub async fn disable_principal(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<PrincipalView>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(state.workspace.disable_principal(&actor, id).await?))
}

/// Lets a disabled principal sign in again.
#[utoipa::path(post, path = "/api/v1/admin/principals/{id}/enable", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = PrincipalView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn enable_principal(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<PrincipalView>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(state.workspace.enable_principal(&actor, id).await?))
}

/// Sets a new password for a member or guest (lifts a lock, ends its sessions).
#[utoipa::path(post, path = "/api/v1/admin/principals/{id}/password", tag = "admin", params(("id" = String, Path)),
    request_body = PasswordRequest,
    responses((status = 204), (status = 422, description = "a weak password", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(request): AppJson<PasswordRequest>,
) -> Result<StatusCode, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    state.workspace.reset_password(&actor, id, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of a principal.
#[utoipa::path(delete, path = "/api/v1/admin/principals/{id}/sessions", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = SessionsRevoked)))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<SessionsRevoked>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(SessionsRevoked { sessions_revoked: state.workspace.revoke_sessions_of(&actor, id).await? }))
}

/// The API tokens of a principal.
#[utoipa::path(get, path = "/api/v1/admin/principals/{id}/tokens", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = TokenList)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<AppJson<TokenList>, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    Ok(AppJson(TokenList { items: state.workspace.tokens(&actor, id).await? }))
}

/// Makes an API token for a service account, limited to roles it holds.
#[utoipa::path(post, path = "/api/v1/admin/principals/{id}/tokens", tag = "admin", params(("id" = String, Path)),
    request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, description = "not a service account", body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Path(id): Path<String>,
    AppJson(request): AppJson<NewToken>,
) -> Result<Response, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    let created = state.workspace.create_token(&actor, id, request).await?;
    Ok(no_store((StatusCode::CREATED, AppJson(created)).into_response()))
}

/// Revokes an API token of a principal.
#[utoipa::path(delete, path = "/api/v1/admin/principals/{id}/tokens/{token}", tag = "admin",
    params(("id" = String, Path), ("token" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path((id, token)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    state.workspace.require_admin(&actor)?;
    let id = parse_uuid("principal", &id)?;
    let token = parse_uuid("API token", &token)?;
    state.workspace.revoke_token(&actor, id, token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invites a partner's contact: a guest of `party`, `invited` until it accepts with the
/// returned token (shown only now) at `POST /api/v1/auth/invitations/accept`.
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "admin", request_body = NewInvitation,
    responses(
        (status = 201, body = CreatedInvitation),
        (status = 409, description = "the login is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    Admin(actor): Admin,
    AppJson(request): AppJson<NewInvitation>,
) -> Result<Response, Problem> {
    let created = state.workspace.invite_guest(&actor, request).await?;
    Ok(no_store((StatusCode::CREATED, AppJson(created)).into_response()))
}
