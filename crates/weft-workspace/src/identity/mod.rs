//! Identity: who may sign in and how. Principals (members, guests bound to one party,
//! service accounts) with Argon2id passwords and optional TOTP; browser sessions (random
//! ids of which only a SHA-256 digest is stored, idle and absolute expiry, a CSRF token
//! each); API tokens narrowed to some of their owner's roles; invitations that let a
//! partner's contact set a password and sign in.
//!
//! **Invariant:** a failed sign-in never says whether the account exists: an unknown login
//! costs the same password verification as a wrong password, and both get the same answer.
//! **Invariant:** secrets (passwords, session ids, tokens, recovery codes, invitation
//! tokens) are shown once and stored only as hashes; none reaches `Debug` or the audit log.
//!
//! Every change writes an audit entry in its own transaction; failed sign-ins, lockouts,
//! sign-ins and sign-outs are audited too (the actor is the principal, or `anonymous` for a
//! login that names no account).

mod invitations;
pub mod passwords;
pub(crate) mod principals;
mod sessions;
mod throttle;
mod tokens;
pub mod totp;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_store::Tx;
use weft_store::kernel::audit::{self, AuditEntry};

pub use invitations::{CreatedInvitation, NewInvitation};
pub use principals::{NewPrincipal, PrincipalKindName, PrincipalPatch, PrincipalQuery, PrincipalStatus, PrincipalView};
pub use sessions::{LoginOutcome, NewSession, SessionAuth, SessionView, TotpChallenge};
pub use throttle::Throttle;
pub use tokens::{CreatedToken, NewToken, TokenView};
pub use totp::{RecoveryCodes, TotpEnrolment};
/// How identity timestamps are written on the wire (UTC, microseconds).
pub use weft_store::format_utc;

use crate::{Error, Result, Workspace};

/// The one answer to a failed sign-in, whatever went wrong.
pub const INVALID_LOGIN: &str = "invalid login or password";

/// When the `Secure` attribute is set on the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieSecure {
    /// When the request reached the proxy in front of Weft over HTTPS
    /// (`X-Forwarded-Proto: https`).
    Auto,
    Always,
    Never,
}

impl std::str::FromStr for CookieSecure {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(CookieSecure::Auto),
            "always" => Ok(CookieSecure::Always),
            "never" => Ok(CookieSecure::Never),
            other => Err(format!("`{other}` is not one of auto, always, never")),
        }
    }
}

/// The time identity decisions are made at: the wall clock, plus an offset that can be
/// moved forward (tests use it to let sessions, locks and invitations expire without
/// waiting). Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
    /// A frozen clock (tests of timers and calendars): time stands at this instant plus the
    /// offset, so due dates can be asserted exactly.
    frozen_at: Option<OffsetDateTime>,
}

impl Clock {
    /// A clock that stands still at `at` until advanced.
    pub fn frozen(at: OffsetDateTime) -> Clock {
        Clock { offset_micros: Arc::default(), frozen_at: Some(at) }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.frozen_at.unwrap_or_else(weft_store::now)
            + time::Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Sign-in settings (the binary maps the `[auth]` configuration section onto these).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused for this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: u32,
    /// How long a locked account refuses every sign-in, even with the right password.
    pub lockout_duration: Duration,
    /// Failed sign-ins accepted from one address within `ip_window` before it gets 429.
    pub ip_failure_limit: u32,
    pub ip_window: Duration,
    pub cookie_secure: CookieSecure,
    /// How long an invitation can be accepted.
    pub invitation_lifetime: Duration,
    /// How long the second step of a sign-in with TOTP may take.
    pub challenge_lifetime: Duration,
    pub clock: Clock,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_idle: Duration::from_secs(8 * 3600),
            session_absolute: Duration::from_secs(7 * 24 * 3600),
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(15 * 60),
            ip_failure_limit: 20,
            ip_window: Duration::from_secs(10 * 60),
            cookie_secure: CookieSecure::Auto,
            invitation_lifetime: Duration::from_secs(7 * 24 * 3600),
            challenge_lifetime: Duration::from_secs(5 * 60),
            clock: Clock::default(),
        }
    }
}

impl AuthSettings {
    /// `last_seen_at` and `last_used_at` are written at most this often: once a minute, or
    /// more often when the idle lifetime is very short.
    fn touch_interval(&self) -> Duration {
        Duration::from_secs(60).min(self.session_idle / 4)
    }
}

/// The identity state a workspace holds: settings, the per-address throttles (failed
/// sign-ins; submissions of public forms), and a limit on concurrent password hashing (so a
/// burst of sign-ins cannot take every core).
#[derive(Debug)]
pub struct IdentityState {
    pub(crate) settings: AuthSettings,
    pub(crate) throttle: Throttle,
    pub(crate) public_forms: Throttle,
    pub(crate) hashing: tokio::sync::Semaphore,
}

/// Public forms (a supplier's application) an address may submit per hour.
const PUBLIC_FORMS_PER_HOUR: u32 = 5;

impl IdentityState {
    pub fn new(settings: AuthSettings) -> IdentityState {
        passwords::warm_up_in_background();
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        IdentityState {
            throttle: Throttle::new(settings.ip_failure_limit, settings.ip_window),
            public_forms: Throttle::new(PUBLIC_FORMS_PER_HOUR, std::time::Duration::from_secs(3600)),
            hashing: tokio::sync::Semaphore::new(cores.max(2)),
            settings,
        }
    }
}

impl Default for IdentityState {
    fn default() -> Self {
        IdentityState::new(AuthSettings::default())
    }
}

/// Where a sign-in comes from, for throttling and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address, or `unknown`.
    pub ip: String,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn new(ip: impl Into<String>, user_agent: Option<&str>) -> ClientInfo {
        ClientInfo { ip: ip.into(), user_agent: user_agent.map(|ua| ua.chars().take(512).collect()) }
    }
}

/// A password, passphrase or one-time secret as received: never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> SecretString {
        SecretString(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        SecretString(value.to_owned())
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(redacted)")
    }
}

impl Workspace {
    /// Replaces the sign-in settings (and with them the per-address throttle).
    pub fn with_auth_settings(mut self, settings: AuthSettings) -> Self {
        self.identity = Arc::new(IdentityState::new(settings));
        self
    }

    pub fn auth_settings(&self) -> &AuthSettings {
        &self.identity.settings
    }

    pub(crate) fn auth_now(&self) -> OffsetDateTime {
        self.identity.settings.clock.now()
    }
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness from the operating system: {e}")))?;
    Ok(bytes)
}

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn random_secret() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A password for someone who will be told it once (a new administrator, a reset):
/// 20 random bytes, base64url (27 characters), well past the password policy.
pub fn generate_password() -> Result<SecretString> {
    Ok(SecretString::new(URL_SAFE_NO_PAD.encode(random_bytes::<20>()?)))
}

/// The SHA-256 of a secret, lower-case hex: what is stored in its place.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time independent of where they first differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Appends an audit entry for a sign-in event (the actor may be `anonymous`).
pub(crate) async fn audit_event(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    target_type: &str,
    target_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let entry = AuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        detail,
    };
    audit::append(tx, &entry, weft_store::now()).await?;
    Ok(())
}

pub(crate) fn field_error(pointer: &str, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.to_owned(), code, reason: reason.into() }
}

/// `Ok(())` when there are no errors, else every one of them.
pub(crate) fn validated(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

pub(crate) fn std_duration(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        let a = random_secret().unwrap();
        let b = random_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert_eq!(digest("x").len(), 64);
    }

    #[test]
    fn secret_strings_are_redacted() {
        assert_eq!(format!("{:?}", SecretString::from("hunter2")), "SecretString(redacted)");
    }

    #[test]
    fn clock_clones_share_the_offset() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(3600));
        assert!(other.now() - before >= time::Duration::minutes(59));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
