//! Passwords: the policy (length only: at least 10 characters, at most 1024, so a long
//! passphrase is always welcome) and Argon2id hashing with the argon2 crate's default
//! parameters (19 MiB, 2 passes, 1 lane), stored as PHC strings so parameters can change
//! later without invalidating old hashes.
//!
//! Hashing and verifying take tens of milliseconds on purpose; they run on the blocking
//! pool, a few at a time. A sign-in with an unknown login verifies against a dummy hash
//! made with the same parameters, so its timing matches a wrong password's.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use weft_model::schema::{FieldError, FieldErrorCode};

use super::{IdentityState, field_error};
use crate::{Error, Result};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 1024;

/// What is wrong with `password` as a new password, addressed at `pointer`.
pub fn check_policy(pointer: &str, password: &str) -> Vec<FieldError> {
    let length = password.chars().count();
    if password.is_empty() {
        vec![field_error(pointer, FieldErrorCode::Required, "a password is required")]
    } else if length < MIN_LENGTH {
        vec![field_error(
            pointer,
            FieldErrorCode::InvalidFormat,
            format!("too short: a password has at least {MIN_LENGTH} characters"),
        )]
    } else if length > MAX_LENGTH {
        vec![field_error(pointer, FieldErrorCode::TooLong, format!("a password has at most {MAX_LENGTH} characters"))]
    } else if password.trim().is_empty() {
        vec![field_error(pointer, FieldErrorCode::InvalidFormat, "a password cannot be only spaces")]
    } else {
        Vec::new()
    }
}

fn hash_now(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

fn verify_now(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash cannot be read");
            false
        }
    }
}

/// A hash of a password no one knows, with the parameters real hashes use.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("weft-dummy-password-never-used").unwrap_or_default());

async fn blocking<T: Send + 'static>(state: &IdentityState, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit =
        state.hashing.acquire().await.map_err(|_| Error::Unavailable("password hashing is shutting down".into()))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))
}

/// Hashes a password on the calling thread (for tools and fixtures that write principals
/// themselves; the façade uses `hash` on the blocking pool).
pub fn hash_blocking(password: &str) -> Result<String> {
    hash_now(password)
}

/// Hashes a new password (the caller checked the policy).
pub(crate) async fn hash(state: &IdentityState, password: &str) -> Result<String> {
    let password = password.to_owned();
    blocking(state, move || hash_now(&password)).await?
}

/// Verifies `password` against `hash`, or against the dummy hash when there is none, so
/// the time taken does not depend on whether the account exists or has a password.
pub(crate) async fn verify(state: &IdentityState, password: &str, hash: Option<&str>) -> Result<bool> {
    // Longer than any password we accept: refuse, but only after the same work.
    let acceptable = password.chars().count() <= MAX_LENGTH;
    let candidate = if acceptable { password.to_owned() } else { String::new() };
    let hash = hash.map(str::to_owned);
    let real = hash.is_some();
    let matched = blocking(state, move || {
        let target = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_now(&candidate, &target)
    })
    .await?;
    Ok(matched && real && acceptable)
}

/// Makes the dummy hash now rather than on the first sign-in with an unknown login.
pub(crate) fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// `warm_up` on a thread of its own, once per process.
pub(crate) fn warm_up_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = std::thread::Builder::new().name("weft-dummy-hash".into()).spawn(warm_up);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_the_pointer_and_the_rule() {
        assert_eq!(check_policy("/password", "")[0].code, FieldErrorCode::Required);
        let short = check_policy("/password", "short");
        assert_eq!((short[0].pointer.as_str(), short[0].code), ("/password", FieldErrorCode::InvalidFormat));
        assert!(check_policy("/p", "correct horse").is_empty());
        assert_eq!(check_policy("/p", &"x".repeat(1025))[0].code, FieldErrorCode::TooLong);
        assert!(check_policy("/p", &"x".repeat(1024)).is_empty());
        assert_eq!(check_policy("/p", "           ")[0].code, FieldErrorCode::InvalidFormat);
        // Characters, not bytes: ten CJK characters are enough.
        assert!(check_policy("/p", "密码密码密码密码密码").is_empty());
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let hash = hash_now("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_now("correct horse battery", &hash));
        assert!(!verify_now("correct horse battery!", &hash));
        assert_ne!(hash, hash_now("correct horse battery").unwrap(), "salted");
        assert!(!verify_now("x", "not a phc string"));
    }

    #[tokio::test]
    async fn verify_without_a_hash_is_false_but_does_the_work() {
        let state = IdentityState::default();
        warm_up();
        assert!(!verify(&state, "weft-dummy-password-never-used", None).await.unwrap());
        let hash = hash(&state, "correct horse battery").await.unwrap();
        assert!(verify(&state, "correct horse battery", Some(&hash)).await.unwrap());
        assert!(!verify(&state, &"x".repeat(2000), Some(&hash)).await.unwrap());
    }
}
