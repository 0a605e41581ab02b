//! `/api/v1/me`: the signed-in principal's own account: profile, password, TOTP, the
//! sessions it is signed in with, and its API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use weft_workspace::identity::{
    CreatedToken, NewToken, PrincipalView, RecoveryCodes, SecretString, SessionView, TokenView, TotpEnrolment,
};

use super::actor::{Actor, Authenticated};
use super::auth::no_store;
use crate::{AppJson, AppState, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub current_password: SecretString,
    /// At least 10 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub new_password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// How many other sessions were ended.
    pub sessions_revoked: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirmation {
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

pub(crate) fn parse_uuid(what: &str, id: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(id).map_err(|_| weft_workspace::Error::NotFound(format!("{what} {id}")).into())
}

/// The signed-in principal.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = PrincipalView), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<PrincipalView>, Problem> {
    Ok(AppJson(state.workspace.me(&actor).await?))
}

/// Changes one's password. Every other session ends; this one stays.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses(
        (status = 200, body = PasswordChanged),
        (status = 403, description = "the current password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a weak new password", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Authenticated,
    AppJson(request): AppJson<ChangePasswordRequest>,
) -> Result<AppJson<PasswordChanged>, Problem> {
    let sessions_revoked = state
        .workspace
        .change_password(&auth.principal, auth.session_id(), &request.current_password, &request.new_password)
        .await?;
    Ok(AppJson(PasswordChanged { sessions_revoked }))
}

/// Starts TOTP enrolment: the secret and the `otpauth://` URL for the authenticator app.
/// TOTP is on only once a code confirms it.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "me",
    responses((status = 200, body = TotpEnrolment), (status = 409, description = "TOTP is already on", body = Problem, content_type = "application/problem+json")))]
pub async fn enrol_totp(State(state): State<AppState>, Actor(actor): Actor) -> Result<Response, Problem> {
    Ok(no_store(AppJson(state.workspace.enrol_totp(&actor).await?).into_response()))
}

/// Confirms TOTP with a code from the app; returns the recovery codes, shown only now.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "me", request_body = TotpCode,
    responses((status = 200, body = RecoveryCodes), (status = 422, description = "the code does not match", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(request): AppJson<TotpCode>,
) -> Result<Response, Problem> {
    Ok(no_store(AppJson(state.workspace.confirm_totp(&actor, &request.code).await?).into_response()))
}

/// Turns TOTP off (the password confirms it).
#[utoipa::path(post, path = "/api/v1/me/totp/disable", tag = "me", request_body = PasswordConfirmation,
    responses((status = 204), (status = 403, description = "the password is wrong", body = Problem, content_type = "application/problem+json")))]
pub async fn disable_totp(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(request): AppJson<PasswordConfirmation>,
) -> Result<StatusCode, Problem> {
    state.workspace.disable_totp(&actor, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sessions one is signed in with; `current` marks this one.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "me", responses((status = 200, body = SessionList)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<AppJson<SessionList>, Problem> {
    Ok(AppJson(SessionList { items: state.workspace.my_sessions(&auth.principal, auth.session_id()).await? }))
}

/// Ends one of one's sessions (signed in on another device).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_session(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.workspace.revoke_my_session(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", responses((status = 200, body = TokenList)))]
pub async fn list_tokens(State(state): State<AppState>, Actor(actor): Actor) -> Result<AppJson<TokenList>, Problem> {
    let id = actor.id;
    Ok(AppJson(TokenList { items: state.workspace.tokens(&actor, id).await? }))
}

/// Makes an API token (members only), limited to roles one holds. The token is in the
/// answer, and only there.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", request_body = NewToken,
    responses(
        (status = 201, body = CreatedToken),
        (status = 422, description = "a role one does not hold, a bad expiry", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Actor(actor): Actor,
    AppJson(request): AppJson<NewToken>,
) -> Result<Response, Problem> {
    let id = actor.id;
    let created = state.workspace.create_token(&actor, id, request).await?;
    Ok(no_store((StatusCode::CREATED, AppJson(created)).into_response()))
}

/// Revokes one of one's API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let token = parse_uuid("API token", &id)?;
    let owner = actor.id;
    state.workspace.revoke_token(&actor, owner, token).await?;
    Ok(StatusCode::NO_CONTENT)
}
