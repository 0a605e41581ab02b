//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock skew either way), and the recovery codes that stand in for a lost device.
//!
//! Enrolment stores a pending secret; a code from the authenticator app confirms it,
//! switches TOTP on and hands out ten recovery codes, shown once and stored as SHA-256
//! digests (80 random bits each, so a digest cannot be reversed by trying). A code's step
//! is remembered: the same code is never accepted twice.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};
use utoipa::ToSchema;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_store::kernel::principals;

use super::{SecretString, audit_event, constant_time_eq, digest, field_error, passwords, random_bytes, validated};
use crate::{Error, Result, Workspace};

pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;
pub const SKEW: u8 = 1;
pub const ISSUER: &str = "Weft";
pub const RECOVERY_CODES: usize = 10;

/// What an authenticator app needs: the secret (base32) and the `otpauth://` URL a QR
/// code carries. TOTP is not on until a code confirms it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_url: String,
}

/// Recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} redacted)", self.recovery_codes.len())
    }
}

fn totp(secret_base32: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| Error::Internal(format!("stored TOTP secret is unreadable: {e:?}")))?;
    TOTP::new(Algorithm::SHA1, DIGITS, SKEW, STEP_SECS, bytes)
        .map_err(|e| Error::Internal(format!("stored TOTP secret is unusable: {e}")))
}

fn unix(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

/// The code an authenticator shows at `at` for this secret (tests and tools use it).
pub fn code_at(secret_base32: &str, at: OffsetDateTime) -> Result<String> {
    Ok(totp(secret_base32)?.generate(unix(at)))
}

/// The step `code` belongs to when it is valid at `at` (within the skew), else `None`.
pub fn matching_step(secret_base32: &str, code: &str, at: OffsetDateTime) -> Result<Option<i64>> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret_base32)?;
    let now_step = unix(at) / STEP_SECS;
    let mut found = None;
    // Every candidate is computed and compared, whichever matches.
    for step in now_step.saturating_sub(u64::from(SKEW))..=now_step + u64::from(SKEW) {
        let expected = totp.generate(step * STEP_SECS);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            found = i64::try_from(step).ok();
        }
    }
    Ok(found)
}

/// Does `input` look like a TOTP code (rather than a recovery code)?
pub(crate) fn looks_like_code(input: &str) -> bool {
    let input = input.trim();
    input.len() == DIGITS && input.bytes().all(|b| b.is_ascii_digit())
}

fn new_secret() -> Result<String> {
    // 160 bits, as RFC 4226 recommends.
    Ok(Secret::Raw(random_bytes::<20>()?.to_vec()).to_encoded().to_string())
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The Key URI Format authenticator apps read.
pub fn otpauth_url(secret_base32: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret_base32}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        issuer = percent_encode(ISSUER),
        account = percent_encode(account),
    )
}

const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// `xxxx-xxxx-xxxx-xxxx` from an unambiguous 32-letter alphabet: 80 random bits.
fn new_recovery_code() -> Result<String> {
    let bytes = random_bytes::<16>()?;
    let letters: Vec<char> = bytes.iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)])).collect();
    Ok(letters.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// How a recovery code is stored: salted with its principal, spaces, dashes and case
/// ignored.
pub(crate) fn recovery_hash(principal: uuid::Uuid, code: &str) -> String {
    let normalised: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    digest(&format!("{principal}:{normalised}"))
}

/// Members and guests sign in with passwords; services and the system do not.
pub(crate) fn require_person(principal: &Principal) -> Result<()> {
    match principal.kind {
        weft_model::PrincipalKind::Member | weft_model::PrincipalKind::Guest { .. } => Ok(()),
        _ => Err(Error::Forbidden("only members and guests sign in with a password".into())),
    }
}

impl Workspace {
    /// Starts TOTP enrolment: a new secret, pending until `confirm_totp`.
    pub async fn enrol_totp(&self, principal: &Principal) -> Result<TotpEnrolment> {
        require_person(principal)?;
        let stored = principals::by_id_now(&self.db, principal.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("principal {}", principal.id)))?;
        if stored.totp_enabled {
            return Err(Error::Conflict("TOTP is already on; turn it off first to enrol another device".into()));
        }
        let secret = new_secret()?;
        let url = otpauth_url(&secret, &stored.login);
        let id = principal.id;
        let actor = principal.clone();
        let at = self.auth_now();
        let pending = secret.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_totp(tx, id, Some(&pending), false, None, at).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "auth.totp_enrolment_started",
                        "principal",
                        &id.to_string(),
                        json!({}),
                    )
                    .await
                })
            })
            .await?;
        Ok(TotpEnrolment { secret, otpauth_url: url })
    }

    /// Confirms enrolment with a code from the app: TOTP is on from now, and the ten
    /// recovery codes are returned (the only time they are shown).
    pub async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<RecoveryCodes> {
        require_person(principal)?;
        validated(if code.trim().is_empty() {
            vec![field_error("/code", FieldErrorCode::Required, "the code from the authenticator app is required")]
        } else {
            vec![]
        })?;
        let stored = principals::by_id_now(&self.db, principal.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("principal {}", principal.id)))?;
        if stored.totp_enabled {
            return Err(Error::Conflict("TOTP is already on".into()));
        }
        let Some(secret) = stored.totp_secret else {
            return Err(Error::Conflict("no TOTP enrolment is pending; start one first".into()));
        };
        let Some(step) = matching_step(&secret, code, self.auth_now())? else {
            return Err(Error::Validation(vec![field_error(
                "/code",
                FieldErrorCode::InvalidFormat,
                "the code does not match; check the device's clock and enter the current code",
            )]));
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect::<Result<_>>()?;
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(principal.id, c)).collect();
        let id = principal.id;
        let actor = principal.clone();
        let at = self.auth_now();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_totp(tx, id, Some(&secret), true, Some(step), at).await?;
                    principals::replace_recovery_codes(tx, id, &hashes).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "auth.totp_enabled",
                        "principal",
                        &id.to_string(),
                        json!({ "recovery_codes": hashes.len() }),
                    )
                    .await
                })
            })
            .await?;
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// Turns TOTP off (and forgets the recovery codes); needs the password.
    pub async fn disable_totp(&self, principal: &Principal, password: &SecretString) -> Result<()> {
        require_person(principal)?;
        validated(if password.expose().is_empty() {
            vec![field_error("/password", FieldErrorCode::Required, "the password is required")]
        } else {
            vec![]
        })?;
        let stored = principals::by_id_now(&self.db, principal.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("principal {}", principal.id)))?;
        if !passwords::verify(&self.identity, password.expose(), stored.password_hash.as_deref()).await? {
            self.count_wrong_password(principal).await?;
            return Err(Error::Forbidden("the password is wrong".into()));
        }
        let id = principal.id;
        let actor = principal.clone();
        let at = self.auth_now();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_totp(tx, id, None, false, None, at).await?;
                    principals::replace_recovery_codes(tx, id, &[]).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "auth.totp_disabled",
                        "principal",
                        &id.to_string(),
                        json!({}),
                    )
                    .await
                })
            })
            .await
    }

    /// A wrong password given while signed in (to turn TOTP off, to change the password)
    /// counts towards the lockout like a failed sign-in.
    pub(crate) async fn count_wrong_password(&self, principal: &Principal) -> Result<()> {
        let id = principal.id;
        let threshold = self.identity.settings.lockout_threshold;
        let lock_until = self.auth_now() + super::std_duration(self.identity.settings.lockout_duration);
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let failures = principals::add_failure(tx, id).await?;
                    let target = id.to_string();
                    audit_event(tx, &target, "auth.password_rejected", "principal", &target, json!({})).await?;
                    if failures >= i32::try_from(threshold).unwrap_or(i32::MAX) {
                        principals::set_lock(tx, id, Some(lock_until)).await?;
                        audit_event(tx, &target, "auth.locked", "principal", &target, json!({ "failures": failures }))
                            .await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"

    #[test]
    fn codes_match_rfc_6238_sha1_vectors() {
        let at = OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(code_at(RFC_SECRET, at).unwrap(), "287082");
        let at = OffsetDateTime::from_unix_timestamp(1_111_111_109).unwrap();
        assert_eq!(code_at(RFC_SECRET, at).unwrap(), "081804");
    }

    #[test]
    fn a_code_matches_within_one_step_of_skew_only() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let code = code_at(RFC_SECRET, at).unwrap();
        let step = 1_700_000_000 / 30;
        assert_eq!(matching_step(RFC_SECRET, &code, at).unwrap(), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, at + time::Duration::seconds(30)).unwrap(), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, at + time::Duration::seconds(61)).unwrap(), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", at).unwrap(), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", at).unwrap(), None);
    }

    #[test]
    fn otpauth_url_names_issuer_and_account() {
        let url = otpauth_url("ABC", "ann@example.com");
        assert_eq!(
            url,
            "otpauth://totp/Weft:ann%40example.com?secret=ABC&issuer=Weft&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_long_and_normalised_when_hashed() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 19, "{code}");
        let id = uuid::Uuid::now_v7();
        assert_eq!(recovery_hash(id, &code), recovery_hash(id, &code.to_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash(id, &code), recovery_hash(uuid::Uuid::now_v7(), &code));
        assert!(new_secret().unwrap().len() >= 32);
    }
}
