//! `/api/v1/auth`: signing in (password, then a TOTP code when it is on), signing out,
//! who am I, and accepting an invitation. These routes are public; a successful sign-in
//! sets the `weft_session` cookie (HttpOnly, SameSite=Lax) and returns the CSRF token
//! that cookie-authenticated changes must send back in `X-CSRF-Token`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weft_model::ErrorCode;
use weft_workspace::identity::{LoginOutcome, NewSession, PrincipalView, SecretString, format_utc};

use super::actor::{Authenticated, ClientMeta, Credential, clear_cookie_header, session_cookie_header};
use crate::{AppJson, AppState, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: SecretString,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpLoginRequest {
    /// The challenge `POST /api/v1/auth/login` answered with.
    #[serde(default)]
    #[schema(value_type = String)]
    pub challenge: SecretString,
    /// The 6-digit code from the authenticator app, or a recovery code.
    #[serde(default)]
    #[schema(value_type = String)]
    pub code: SecretString,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub token: SecretString,
    /// The password to set: at least 10 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: SecretString,
}

/// The answer to a sign-in.
// Built once per sign-in and serialised at once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResponse {
    /// Signed in: the cookie is set; send `csrf_token` as `X-CSRF-Token` on changes.
    SignedIn { principal: PrincipalView, csrf_token: String, expires_at: String },
    /// The password was right; finish with `POST /api/v1/auth/login/totp`.
    TotpRequired { challenge: String, expires_at: String },
}

/// Who the caller is, and (for a browser session) the CSRF token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub principal: PrincipalView,
    /// `session` (cookie) or `token` (bearer).
    pub via: String,
    /// Send this as `X-CSRF-Token` on POST, PUT, PATCH and DELETE (sessions only).
    pub csrf_token: Option<String>,
    /// When the session ends at the latest (sessions only).
    pub expires_at: Option<String>,
    /// The roles an API token is limited to (tokens only).
    pub token_roles: Option<Vec<String>>,
}

/// Responses carrying secrets must not be stored by caches.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn signed_in(state: &AppState, client: &ClientMeta, session: NewSession) -> Response {
    let now = state.workspace.auth_settings().clock.now();
    let cookie = session_cookie_header(&session.secret, session.expires_at, now, client.secure);
    let body = LoginResponse::SignedIn {
        principal: session.principal,
        csrf_token: session.csrf_token,
        expires_at: format_utc(session.expires_at),
    };
    let mut response = AppJson(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    no_store(response)
}

/// Signs in with a login and password. Unknown logins and wrong passwords get the same
/// 401; a locked account too. Too many failures from one address: 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, headers(("set-cookie" = String, description = "`weft_session`, when signed in"))),
        (status = 401, description = "invalid login or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json",
            headers(("retry-after" = u64, description = "seconds"))),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    AppJson(request): AppJson<LoginRequest>,
) -> Result<Response, Problem> {
    let outcome =
        state.workspace.login(&request.login, &request.password, &client.info, client.session.as_deref()).await?;
    Ok(match outcome {
        LoginOutcome::SignedIn(session) => signed_in(&state, &client, *session),
        LoginOutcome::TotpRequired(challenge) => no_store(
            AppJson(LoginResponse::TotpRequired { challenge: challenge.challenge, expires_at: challenge.expires_at })
                .into_response(),
        ),
    })
}

/// The second step of a sign-in with TOTP: a code from the app, or a recovery code.
#[utoipa::path(post, path = "/api/v1/auth/login/totp", tag = "auth", request_body = TotpLoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login_totp(
    State(state): State<AppState>,
    client: ClientMeta,
    AppJson(request): AppJson<TotpLoginRequest>,
) -> Result<Response, Problem> {
    let session =
        state.workspace.login_totp(&request.challenge, &request.code, &client.info, client.session.as_deref()).await?;
    Ok(signed_in(&state, &client, session))
}

/// Signs out: the session ends and the cookie is removed.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, headers(("set-cookie" = String, description = "removes `weft_session`"))),
        (status = 400, description = "the request came with an API token, not a session", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    client: ClientMeta,
    auth: Authenticated,
) -> Result<Response, Problem> {
    let Credential::Session { id, .. } = &auth.credential else {
        return Err(Problem::new(ErrorCode::BadRequest)
            .with_detail("this request came with an API token; revoke tokens at /api/v1/me/tokens"));
    };
    state.workspace.logout(&auth.principal, id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear_cookie_header(client.secure));
    Ok(response)
}

/// Who am I: the principal, and for a browser session its CSRF token.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn session(State(state): State<AppState>, auth: Authenticated) -> Result<Response, Problem> {
    let principal = state.workspace.me(&auth.principal).await?;
    let info = match auth.credential {
        Credential::Session { csrf_token, expires_at, .. } => SessionInfo {
            principal,
            via: "session".into(),
            csrf_token: Some(csrf_token),
            expires_at: Some(format_utc(expires_at)),
            token_roles: None,
        },
        Credential::Token => SessionInfo {
            principal,
            via: "token".into(),
            csrf_token: None,
            expires_at: None,
            token_roles: auth.principal.token_roles.clone(),
        },
    };
    Ok(no_store(AppJson(info).into_response()))
}

/// Accepts an invitation: sets the password, activates the guest and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/invitations/accept", tag = "auth", request_body = AcceptInvitationRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "unknown, used or expired invitation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a weak password", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    client: ClientMeta,
    AppJson(request): AppJson<AcceptInvitationRequest>,
) -> Result<Response, Problem> {
    let session = state.workspace.accept_invitation(&request.token, &request.password, &client.info).await?;
    Ok(signed_in(&state, &client, session))
}
