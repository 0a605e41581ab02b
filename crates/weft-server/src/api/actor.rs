//! Who is calling. A request is authenticated by an API token
//! (`Authorization: Bearer weft_…`) or by the session cookie (`weft_session`) a sign-in set.
//! With neither, or with one that is unknown, expired, revoked or whose principal is
//! disabled, the answer is 401 `unauthenticated`.
//!
//! A cookie is sent by the browser on its own, so a cookie-authenticated request that
//! changes something (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token
//! in `X-CSRF-Token` (a page of another site cannot read it); 403 otherwise. A bearer
//! token is never sent on its own, so bearer requests need no CSRF token.
//!
//! A member standing in for someone out of office sends `Weft-On-Behalf-Of: <their id>`:
//! the request then acts for them (their tasks and approvals; each change records both
//! names), provided a delegation from them to the caller covers today. 403 otherwise.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, header};
use time::OffsetDateTime;
use weft_model::{ErrorCode, Principal};
use weft_workspace::identity::{ClientInfo, CookieSecure};

use crate::{AppState, Problem};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "weft_session";
/// The header carrying the session's CSRF token on unsafe requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header naming the delegator a request acts for.
pub const ON_BEHALF_HEADER: &str = "weft-on-behalf-of";

/// The principal a request acts as. Every handler that needs a caller takes this.
pub struct Actor(pub Principal);

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session: its id (the SHA-256 of the cookie) and CSRF token.
    Session { id: String, csrf_token: String, expires_at: OffsetDateTime },
    /// An API token.
    Token,
}

/// The principal and its credential, for handlers that need to know which (sign-out,
/// the session list).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub credential: Credential,
}

impl Authenticated {
    /// The id of the session this request came with, if it came with one.
    pub fn session_id(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { id, .. } => Some(id),
            Credential::Token => None,
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        if let Some(done) = parts.extensions.get::<Authenticated>() {
            return Ok(done.clone());
        }
        let mut authenticated = authenticate(parts, state).await?;
        if let Some(value) = parts.headers.get(ON_BEHALF_HEADER) {
            let delegator =
                value.to_str().ok().and_then(|v| uuid::Uuid::parse_str(v.trim()).ok()).ok_or_else(|| {
                    Problem::new(ErrorCode::BadRequest)
                        .with_detail("Weft-On-Behalf-Of must be the id of the principal you stand in for")
                })?;
            authenticated.principal = state.workspace.act_on_behalf(&authenticated.principal, delegator).await?;
        }
        parts.extensions.insert(authenticated.clone());
        Ok(authenticated)
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        Authenticated::from_request_parts(parts, state).await.map(|a| Actor(a.principal))
    }
}

/// An administrator. Taken before the body, so a caller without `admin` hears 403 before
/// anything about what it sent (a body's problems are for those allowed to send it).
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Actor(principal) = Actor::from_request_parts(parts, state).await?;
        state.workspace.require_admin(&principal)?;
        Ok(Admin(principal))
    }
}

fn unauthenticated(detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::Unauthenticated).with_detail(detail)
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, Problem> {
    let workspace = &state.workspace;
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| unauthenticated("the Authorization header is not readable"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(unauthenticated("use `Authorization: Bearer <API token>`")),
        };
        let principal = workspace.authenticate_token(token).await?;
        return Ok(Authenticated { principal, credential: Credential::Token });
    }
    let Some(secret) = session_cookie(&parts.headers) else {
        return Err(unauthenticated("sign in, or send an API token as `Authorization: Bearer <token>`"));
    };
    let session = workspace.authenticate_session(&secret).await?;
    if !is_safe(&parts.method) {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !same_secret(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(Problem::new(ErrorCode::Forbidden).with_detail(
                "a request signed in by cookie must send the session's CSRF token in the X-CSRF-Token header \
                 (GET /api/v1/auth/session returns it)",
            ));
        }
    }
    Ok(Authenticated {
        principal: session.principal,
        credential: Credential::Session {
            id: session.id,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        },
    })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Equal secrets, compared in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of the session cookie, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// What a sign-in handler needs to know about the request: the client (address, user
/// agent), the session cookie it already holds, and whether cookies it sets are `Secure`.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub info: ClientInfo,
    pub session: Option<String>,
    pub secure: bool,
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        let secure = match state.workspace.auth_settings().cookie_secure {
            CookieSecure::Always => true,
            CookieSecure::Never => false,
            CookieSecure::Auto => parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https")),
        };
        Ok(ClientMeta { info: ClientInfo::new(ip, user_agent), session: session_cookie(&parts.headers), secure })
    }
}

/// `Set-Cookie` for a new session that lasts until `expires_at`.
pub fn session_cookie_header(
    secret: &str,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
    secure: bool,
) -> HeaderValue {
    let max_age = (expires_at - now).whole_seconds().max(0);
    cookie_header(&format!("{SESSION_COOKIE}={secret}; Max-Age={max_age}"), secure)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie_header(secure: bool) -> HeaderValue {
    cookie_header(&format!("{SESSION_COOKIE}=; Max-Age=0"), secure)
}

fn cookie_header(start: &str, secure: bool) -> HeaderValue {
    let value = format!("{start}; Path=/; HttpOnly; SameSite=Lax{}", if secure { "; Secure" } else { "" });
    // The secret is base64url: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("weft_session=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; weft_session=abc_-1; lang=zh"));
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc_-1"));
        headers.insert(header::COOKIE, HeaderValue::from_static("weft_session_old=x"));
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let now = OffsetDateTime::now_utc();
        let set = session_cookie_header("s3cret", now + time::Duration::hours(1), now, true);
        assert_eq!(set.to_str().unwrap(), "weft_session=s3cret; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax; Secure");
        let clear = clear_cookie_header(false);
        assert_eq!(clear.to_str().unwrap(), "weft_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn csrf_comparison_needs_a_non_empty_exact_match() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"", b""));
        assert!(!same_secret(b"abc", b"abd"));
    }
}
