//! Signing in and out, and the sessions that result. A session id is 32 random bytes
//! (base64url) handed to the browser once; only its SHA-256 is stored, so a copy of the
//! database signs no one in. Every sign-in makes a new id (a session id planted before
//! sign-in never becomes valid). A session ends when unused for `session_idle`, at the
//! latest `session_absolute` after sign-in, at sign-out, or when revoked.

use std::fmt;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_store::Tx;
use weft_store::format_utc;
use weft_store::kernel::principals::{self, StoredPrincipal};
use weft_store::kernel::sessions::{self, StoredChallenge, StoredSession};

use super::principals::{is_active, is_locked, normalise_login, principal_of};
use super::totp::{looks_like_code, matching_step, recovery_hash, require_person};
use super::{
    ClientInfo, INVALID_LOGIN, PrincipalView, SecretString, audit_event, digest, field_error, passwords, random_secret,
    std_duration, validated,
};
use crate::{Error, Result, Workspace};

/// A session just made. `secret` goes into the cookie and is never shown again.
#[derive(Clone)]
pub struct NewSession {
    pub secret: String,
    /// What identifies the session in lists (the SHA-256 of `secret`).
    pub id: String,
    pub csrf_token: String,
    pub principal: PrincipalView,
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &self.id)
            .field("principal", &self.principal.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The password was right and TOTP is on: the second step needs `challenge` and a code.
#[derive(Clone, Serialize, ToSchema)]
pub struct TotpChallenge {
    pub challenge: String,
    pub expires_at: String,
}

impl fmt::Debug for TotpChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpChallenge").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    SignedIn(Box<NewSession>),
    TotpRequired(TotpChallenge),
}

/// Who a valid session belongs to, with what the HTTP layer checks.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub principal: Principal,
    /// The session's id (SHA-256 of the cookie value).
    pub id: String,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

/// A session as its owner sees it in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// Why a sign-in failed, for the audit log only (the caller always hears `INVALID_LOGIN`).
#[derive(Debug, Clone, Copy)]
enum Failure {
    UnknownLogin,
    WrongPassword,
    Locked,
    NotActive,
    WrongCode,
    ChallengeInvalid,
}

impl Failure {
    fn name(self) -> &'static str {
        match self {
            Failure::UnknownLogin => "unknown_login",
            Failure::WrongPassword => "wrong_password",
            Failure::Locked => "locked",
            Failure::NotActive => "not_active",
            Failure::WrongCode => "wrong_code",
            Failure::ChallengeInvalid => "challenge_invalid",
        }
    }

    /// Failures that count towards the account's lockout.
    fn counts(self) -> bool {
        matches!(self, Failure::WrongPassword | Failure::WrongCode)
    }
}

/// The result of a unit of work that must commit even when the sign-in fails.
enum Attempt<T> {
    Ok(T),
    Failed(Failure),
}

/// What a sign-in writes about the client.
#[derive(Debug, Clone)]
struct Client {
    ip: String,
    user_agent: Option<String>,
}

impl Client {
    fn of(info: &ClientInfo) -> Client {
        Client {
            ip: if info.ip.is_empty() { "unknown".into() } else { info.ip.clone() },
            user_agent: info.user_agent.clone(),
        }
    }

    fn detail(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut detail = json!({ "ip": self.ip, "user_agent": self.user_agent });
        if let (Some(map), serde_json::Value::Object(extra)) = (detail.as_object_mut(), extra) {
            map.extend(extra);
        }
        detail
    }
}

/// The lockout settings a unit of work needs.
#[derive(Debug, Clone, Copy)]
struct Lockout {
    threshold: i32,
    until: OffsetDateTime,
}

/// Records a failed attempt on a known account: counts it when it should count, locks
/// the account at the threshold, and audits both.
async fn record_failure(
    tx: &mut Tx,
    stored: &StoredPrincipal,
    failure: Failure,
    lockout: Lockout,
    client: &Client,
) -> Result<()> {
    let target = stored.id.to_string();
    audit_event(
        tx,
        &target,
        "auth.login_failed",
        "principal",
        &target,
        client.detail(json!({ "reason": failure.name() })),
    )
    .await?;
    if failure.counts() {
        let failures = principals::add_failure(tx, stored.id).await?;
        if failures >= lockout.threshold {
            principals::set_lock(tx, stored.id, Some(lockout.until)).await?;
            audit_event(
                tx,
                &target,
                "auth.locked",
                "principal",
                &target,
                client.detail(json!({ "failures": failures, "until": format_utc(lockout.until) })),
            )
            .await?;
        }
    }
    Ok(())
}

/// Inserts a new session for `stored` and returns its secret, id and CSRF token.
async fn open_session(
    tx: &mut Tx,
    stored: &StoredPrincipal,
    now: OffsetDateTime,
    absolute: time::Duration,
    client: &Client,
    method: &str,
) -> Result<(String, String, String, OffsetDateTime)> {
    let secret = random_secret()?;
    let csrf = random_secret()?;
    let id = digest(&secret);
    let expires_at = now + absolute;
    let session = StoredSession {
        id_hash: id.clone(),
        principal: stored.id,
        csrf_token: csrf.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at,
        revoked_at: None,
        ip: Some(client.ip.clone()),
        user_agent: client.user_agent.clone(),
    };
    if stored.failed_logins > 0 || stored.locked_until.is_some() {
        principals::set_lock(tx, stored.id, None).await?;
    }
    sessions::insert_session(tx, &session).await?;
    let target = stored.id.to_string();
    audit_event(tx, &target, "auth.login", "principal", &target, client.detail(json!({ "method": method }))).await?;
    Ok((secret, id, csrf, expires_at))
}

/// Opens the session an accepted invitation signs in with.
pub(super) async fn open_session_for(
    tx: &mut Tx,
    stored: &StoredPrincipal,
    now: OffsetDateTime,
    absolute: time::Duration,
    client: &ClientInfo,
) -> Result<(String, String, String, OffsetDateTime)> {
    open_session(tx, stored, now, absolute, &Client::of(client), "invitation").await
}

impl Workspace {
    fn lockout(&self, now: OffsetDateTime) -> Lockout {
        let settings = &self.identity.settings;
        Lockout {
            threshold: i32::try_from(settings.lockout_threshold.max(1)).unwrap_or(i32::MAX),
            until: now + std_duration(settings.lockout_duration),
        }
    }

    pub(super) fn new_session(
        &self,
        stored: &StoredPrincipal,
        parts: (String, String, String, OffsetDateTime),
    ) -> Result<NewSession> {
        let (secret, id, csrf_token, expires_at) = parts;
        let mut view = self.view_of(stored)?;
        view.locked_until = None;
        Ok(NewSession { secret, id, csrf_token, principal: view, expires_at })
    }

    /// Signs in with a login and password. With TOTP on, the answer is a challenge for
    /// `login_totp` instead of a session. `replaces` is the session the browser held
    /// before (it ends: one browser, one session). Every failure is
    /// `Unauthenticated(INVALID_LOGIN)`, whether the login exists or not, and takes as
    /// long; `RateLimited` when the client's address failed too often.
    pub async fn login(
        &self,
        login: &str,
        password: &SecretString,
        client: &ClientInfo,
        replaces: Option<&str>,
    ) -> Result<LoginOutcome> {
        let client = Client::of(client);
        self.identity.throttle.check(&client.ip, self.auth_now())?;
        let mut errors = Vec::new();
        if login.trim().is_empty() {
            errors.push(field_error("/login", FieldErrorCode::Required, "a login is required"));
        }
        if password.expose().is_empty() {
            errors.push(field_error("/password", FieldErrorCode::Required, "a password is required"));
        }
        validated(errors)?;

        let login = normalise_login(login);
        let stored = principals::by_login_now(&self.db, &login).await?;
        let hash = stored.as_ref().and_then(|p| p.password_hash.as_deref());
        let verified = passwords::verify(&self.identity, password.expose(), hash).await?;
        let now = self.auth_now();

        let Some(stored) = stored else {
            let attempted: String = login.chars().take(254).collect();
            let detail = client.detail(json!({ "reason": Failure::UnknownLogin.name(), "login": attempted }));
            self.db
                .write(move |tx| {
                    Box::pin(async move {
                        audit_event(tx, "anonymous", "auth.login_failed", "login", &attempted, detail).await?;
                        // The same statement a wrong password runs (matching no row), so the
                        // database work, like the hashing, does not tell the two apart.
                        principals::add_failure(tx, Uuid::nil()).await?;
                        Ok::<_, Error>(())
                    })
                })
                .await?;
            return Err(self.failed(&client));
        };

        let failure = if !is_active(&stored) || stored.kind == "service" {
            Some(Failure::NotActive)
        } else if is_locked(&stored, now) {
            Some(Failure::Locked)
        } else if !verified {
            Some(Failure::WrongPassword)
        } else {
            None
        };
        if let Some(failure) = failure {
            let lockout = self.lockout(now);
            let audit_client = client.clone();
            self.db
                .write(move |tx| {
                    Box::pin(async move { record_failure(tx, &stored, failure, lockout, &audit_client).await })
                })
                .await?;
            return Err(self.failed(&client));
        }

        if stored.totp_enabled {
            let challenge = random_secret()?;
            let expires_at = now + std_duration(self.identity.settings.challenge_lifetime);
            let row = StoredChallenge {
                id_hash: digest(&challenge),
                principal: stored.id,
                created_at: now,
                expires_at,
                used_at: None,
                ip: Some(client.ip.clone()),
            };
            let target = stored.id.to_string();
            let detail = client.detail(json!({}));
            self.db
                .write(move |tx| {
                    Box::pin(async move {
                        sessions::delete_challenges_before(tx, now).await?;
                        sessions::insert_challenge(tx, &row).await?;
                        audit_event(tx, &target, "auth.password_verified", "principal", &target, detail).await
                    })
                })
                .await?;
            return Ok(LoginOutcome::TotpRequired(TotpChallenge { challenge, expires_at: format_utc(expires_at) }));
        }

        let absolute = std_duration(self.identity.settings.session_absolute);
        let replaces = replaces.map(digest);
        let row = stored.clone();
        let parts = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    if let Some(old) = replaces {
                        sessions::revoke_session(tx, &old, None, now).await?;
                    }
                    open_session(tx, &row, now, absolute, &client, "password").await
                })
            })
            .await?;
        Ok(LoginOutcome::SignedIn(Box::new(self.new_session(&stored, parts)?)))
    }

    /// Counts a failed attempt from the client's address and returns the one answer.
    fn failed(&self, client: &Client) -> Error {
        self.identity.throttle.record_failure(&client.ip, self.auth_now());
        Error::Unauthenticated(INVALID_LOGIN.into())
    }

    /// The second step of a sign-in with TOTP: the challenge from `login` and a code from
    /// the authenticator app, or one of the recovery codes (each works once).
    pub async fn login_totp(
        &self,
        challenge: &SecretString,
        code: &SecretString,
        client: &ClientInfo,
        replaces: Option<&str>,
    ) -> Result<NewSession> {
        let client = Client::of(client);
        self.identity.throttle.check(&client.ip, self.auth_now())?;
        let mut errors = Vec::new();
        if challenge.expose().is_empty() {
            errors.push(field_error(
                "/challenge",
                FieldErrorCode::Required,
                "the challenge from the sign-in is required",
            ));
        }
        if code.expose().trim().is_empty() {
            errors.push(field_error("/code", FieldErrorCode::Required, "a TOTP code or a recovery code is required"));
        }
        validated(errors)?;

        let now = self.auth_now();
        let lockout = self.lockout(now);
        let absolute = std_duration(self.identity.settings.session_absolute);
        let challenge_hash = digest(challenge.expose());
        let code = code.expose().to_owned();
        let replaces = replaces.map(digest);
        let audit_client = client.clone();
        let attempt = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let client = audit_client;
                    let challenge = sessions::challenge(tx, &challenge_hash).await?;
                    let Some(challenge) = challenge.filter(|c| c.used_at.is_none() && c.expires_at > now) else {
                        let detail = client.detail(json!({ "reason": Failure::ChallengeInvalid.name() }));
                        audit_event(tx, "anonymous", "auth.login_failed", "login_challenge", "", detail).await?;
                        return Ok(Attempt::Failed(Failure::ChallengeInvalid));
                    };
                    let Some(stored) = principals::by_id(tx, challenge.principal).await? else {
                        return Ok(Attempt::Failed(Failure::ChallengeInvalid));
                    };
                    let failure = if !is_active(&stored) || !stored.totp_enabled {
                        Some(Failure::NotActive)
                    } else if is_locked(&stored, now) {
                        Some(Failure::Locked)
                    } else {
                        None
                    };
                    if let Some(failure) = failure {
                        record_failure(tx, &stored, failure, lockout, &client).await?;
                        return Ok(Attempt::Failed(failure));
                    }
                    let method = if looks_like_code(&code) {
                        let secret = stored.totp_secret.clone().unwrap_or_default();
                        match matching_step(&secret, &code, now)? {
                            Some(step) if principals::advance_totp_step(tx, stored.id, step).await? => Some("totp"),
                            _ => None,
                        }
                    } else if principals::use_recovery_code(tx, stored.id, &recovery_hash(stored.id, &code), now)
                        .await?
                    {
                        Some("recovery_code")
                    } else {
                        None
                    };
                    let Some(method) = method else {
                        record_failure(tx, &stored, Failure::WrongCode, lockout, &client).await?;
                        return Ok(Attempt::Failed(Failure::WrongCode));
                    };
                    if !sessions::use_challenge(tx, &challenge.id_hash, now).await? {
                        return Ok(Attempt::Failed(Failure::ChallengeInvalid));
                    }
                    if let Some(old) = replaces {
                        sessions::revoke_session(tx, &old, None, now).await?;
                    }
                    let parts = open_session(tx, &stored, now, absolute, &client, method).await?;
                    Ok::<_, Error>(Attempt::Ok((stored, parts)))
                })
            })
            .await?;
        match attempt {
            Attempt::Ok((stored, parts)) => self.new_session(&stored, parts),
            Attempt::Failed(Failure::ChallengeInvalid) => {
                self.identity.throttle.record_failure(&client.ip, self.auth_now());
                Err(Error::Unauthenticated("the sign-in has expired or was already completed; sign in again".into()))
            }
            Attempt::Failed(_) => {
                self.identity.throttle.record_failure(&client.ip, self.auth_now());
                Err(Error::Unauthenticated("invalid code".into()))
            }
        }
    }

    /// The principal a session cookie stands for, if the session is live. Moves the idle
    /// deadline forward (writing at most once a minute).
    pub async fn authenticate_session(&self, secret: &str) -> Result<SessionAuth> {
        self.session_for(secret, true).await
    }

    /// Whether a session is still live (not ended, expired, idle too long, or its account
    /// disabled), without counting the check as activity: what a long-lived connection
    /// opened with the session asks from time to time.
    pub async fn check_session(&self, secret: &str) -> Result<SessionAuth> {
        self.session_for(secret, false).await
    }

    async fn session_for(&self, secret: &str, touch: bool) -> Result<SessionAuth> {
        let id = digest(secret);
        let Some(session) = sessions::session(&self.db, &id).await? else {
            return Err(Error::Unauthenticated("no valid session; sign in".into()));
        };
        let now = self.auth_now();
        let settings = &self.identity.settings;
        if session.revoked_at.is_some() {
            return Err(Error::Unauthenticated("the session was ended; sign in again".into()));
        }
        if now >= session.expires_at || now - session.last_seen_at >= std_duration(settings.session_idle) {
            return Err(Error::Unauthenticated("the session has expired; sign in again".into()));
        }
        let stored = principals::by_id_now(&self.db, session.principal).await?;
        let Some(stored) = stored.filter(is_active) else {
            return Err(Error::Unauthenticated("the account is disabled".into()));
        };
        if touch && now - session.last_seen_at >= std_duration(settings.touch_interval()) {
            let id = id.clone();
            self.db.write(move |tx| Box::pin(async move { sessions::touch_session(tx, &id, now).await })).await?;
        }
        Ok(SessionAuth {
            principal: principal_of(&stored)?,
            id,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        })
    }

    /// Ends the session `id` (its SHA-256 id) of `principal`.
    pub async fn logout(&self, principal: &Principal, id: &str) -> Result<()> {
        let at = self.auth_now();
        let id = id.to_owned();
        let owner = principal.id;
        let target = owner.to_string();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    sessions::revoke_session(tx, &id, Some(owner), at).await?;
                    audit_event(tx, &target, "auth.logout", "principal", &target, json!({})).await
                })
            })
            .await
    }

    /// The live sessions of `principal`, newest first; `current` marks the one in use.
    pub async fn my_sessions(&self, principal: &Principal, current: Option<&str>) -> Result<Vec<SessionView>> {
        let now = self.auth_now();
        let idle = std_duration(self.identity.settings.session_idle);
        Ok(sessions::live_sessions_of(&self.db, principal.id, now)
            .await?
            .into_iter()
            .filter(|s| now - s.last_seen_at < idle)
            .map(|s| SessionView {
                current: current == Some(s.id_hash.as_str()),
                id: s.id_hash,
                created_at: format_utc(s.created_at),
                last_seen_at: format_utc(s.last_seen_at),
                expires_at: format_utc(s.expires_at),
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one of one's own sessions.
    pub async fn revoke_my_session(&self, principal: &Principal, id: &str) -> Result<()> {
        let at = self.auth_now();
        let id = id.to_owned();
        let owner = principal.id;
        let actor = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !sessions::revoke_session(tx, &id, Some(owner), at).await? {
                        return Err(Error::NotFound(format!("session {id}")));
                    }
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "session.revoked",
                        "principal",
                        &owner.to_string(),
                        json!({}),
                    )
                    .await
                })
            })
            .await
    }

    /// Changes one's own password after checking the current one; every other session of
    /// the principal ends (`current` survives). Returns how many ended.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: Option<&str>,
        current_password: &SecretString,
        new_password: &SecretString,
    ) -> Result<u64> {
        require_person(principal)?;
        let mut errors = Vec::new();
        if current_password.expose().is_empty() {
            errors.push(field_error("/current_password", FieldErrorCode::Required, "the current password is required"));
        }
        errors.extend(passwords::check_policy("/new_password", new_password.expose()));
        validated(errors)?;
        let stored = self.stored_principal(principal.id).await?;
        if is_locked(&stored, self.auth_now()) {
            return Err(Error::Forbidden("sign-in is locked after too many failures; try again later".into()));
        }
        if !passwords::verify(&self.identity, current_password.expose(), stored.password_hash.as_deref()).await? {
            self.count_wrong_password(principal).await?;
            return Err(Error::Forbidden("the current password is wrong".into()));
        }
        let hash = passwords::hash(&self.identity, new_password.expose()).await?;
        let at = self.auth_now();
        let id = principal.id;
        let keep = current.map(str::to_owned);
        let actor = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_password(tx, id, &hash, at).await?;
                    let revoked = sessions::revoke_sessions_of(tx, id, keep.as_deref(), at).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "auth.password_changed",
                        "principal",
                        &id.to_string(),
                        json!({ "sessions_revoked": revoked }),
                    )
                    .await?;
                    Ok::<_, Error>(revoked)
                })
            })
            .await
    }

    /// The principal's own record (who am I).
    pub async fn me(&self, principal: &Principal) -> Result<PrincipalView> {
        self.view_of(&self.stored_principal(principal.id).await?)
    }
}
