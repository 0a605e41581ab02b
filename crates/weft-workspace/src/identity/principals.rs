//! Principals as administrators manage them: create (members, guests bound to a party,
//! service accounts), read, list, update the profile, disable and enable, set roles, reset
//! a password, end every session. Each change checks `require_admin` first and writes its
//! audit entry in the same transaction.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::principals::{self, PrincipalFilter, StoredPrincipal};
use weft_store::kernel::{access, sessions};

use super::{SecretString, field_error, passwords, validated};
use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKindName {
    Member,
    Guest,
    Service,
}

impl PrincipalKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKindName::Member => "member",
            PrincipalKindName::Guest => "guest",
            PrincipalKindName::Service => "service",
        }
    }

    fn parse(s: &str) -> Result<PrincipalKindName> {
        match s {
            "member" => Ok(PrincipalKindName::Member),
            "guest" => Ok(PrincipalKindName::Guest),
            "service" => Ok(PrincipalKindName::Service),
            other => Err(Error::Internal(format!("unknown principal kind `{other}` in the database"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalStatus {
    /// May sign in.
    Active,
    /// A guest who has not accepted the invitation yet.
    Invited,
    /// May not sign in; its sessions and tokens were ended.
    Disabled,
}

impl PrincipalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalStatus::Active => "active",
            PrincipalStatus::Invited => "invited",
            PrincipalStatus::Disabled => "disabled",
        }
    }

    fn parse(s: &str) -> Result<PrincipalStatus> {
        match s {
            "active" => Ok(PrincipalStatus::Active),
            "invited" => Ok(PrincipalStatus::Invited),
            "disabled" => Ok(PrincipalStatus::Disabled),
            other => Err(Error::Internal(format!("unknown principal status `{other}` in the database"))),
        }
    }
}

/// A principal as the API shows it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrincipalView {
    pub id: Uuid,
    pub kind: PrincipalKindName,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    /// The party a guest belongs to.
    pub party: Option<Uuid>,
    pub status: PrincipalStatus,
    pub locale: Option<String>,
    pub roles: Vec<String>,
    pub has_password: bool,
    pub totp_enabled: bool,
    /// Set while sign-in is locked after too many failures.
    pub locked_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A new principal. `kind` defaults to `member`; `roles` to `employee` for members, `guest`
/// for guests and none for service accounts. Guests need `party`; service accounts sign
/// in with API tokens only, so they take no password.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipal {
    #[serde(default)]
    pub kind: Option<PrincipalKindName>,
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub party: Option<Uuid>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretString>,
}

/// A change of profile; absent keys stay as they are, `null` clears `email` or `locale`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
}

/// A key that is present (even as `null`) is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Which principals a list shows.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrincipalQuery {
    pub kind: Option<PrincipalKindName>,
    pub party: Option<Uuid>,
    pub status: Option<PrincipalStatus>,
}

impl Workspace {
    pub(crate) fn view_of(&self, stored: &StoredPrincipal) -> Result<PrincipalView> {
        let now = self.auth_now();
        Ok(PrincipalView {
            id: stored.id,
            kind: PrincipalKindName::parse(&stored.kind)?,
            login: stored.login.clone(),
            display_name: stored.display_name.clone(),
            email: stored.email.clone(),
            party: stored.party,
            status: PrincipalStatus::parse(&stored.status)?,
            locale: stored.locale.clone(),
            roles: self.directory().roles_of(stored.id).to_vec(),
            has_password: stored.password_hash.is_some(),
            totp_enabled: stored.totp_enabled,
            locked_until: stored.locked_until.filter(|t| *t > now).map(format_utc),
            created_at: format_utc(stored.created_at),
            updated_at: format_utc(stored.updated_at),
        })
    }

    pub(crate) async fn stored_principal(&self, id: Uuid) -> Result<StoredPrincipal> {
        principals::by_id_now(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("principal {id}")))
    }

    /// Creates a member, guest or service account (active; without a password it cannot
    /// sign in until one is set).
    pub async fn create_principal(&self, actor: &Principal, input: NewPrincipal) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        let checked = self.check_new_principal(&input, true)?;
        let password_hash = match &input.password {
            Some(p) => Some(passwords::hash(&self.identity, p.expose()).await?),
            None => None,
        };
        let now = self.auth_now();
        let stored = StoredPrincipal {
            id: Uuid::now_v7(),
            kind: checked.kind.as_str().to_owned(),
            login: checked.login,
            display_name: checked.display_name,
            email: checked.email,
            party: input.party,
            status: PrincipalStatus::Active.as_str().to_owned(),
            password_changed_at: password_hash.as_ref().map(|_| now),
            password_hash,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            failed_logins: 0,
            locked_until: None,
            locale: checked.locale,
            created_at: now,
            updated_at: now,
        };
        let actor = actor.clone();
        let roles = checked.roles;
        let row = stored.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if principals::by_login(tx, &row.login).await?.is_some() {
                        return Err(Error::Unique { fields: vec!["login".into()] });
                    }
                    principals::insert(tx, &row).await?;
                    access::set_holdings(tx, row.id, &roles).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.created",
                        "principal",
                        &row.id.to_string(),
                        json!({ "login": row.login, "kind": row.kind, "party": row.party, "roles": roles }),
                    )
                    .await
                })
            })
            .await?;
        self.reload_directory().await?;
        self.view_of(&stored)
    }

    /// Checks a new principal's fields, every problem at once.
    pub(crate) fn check_new_principal(&self, input: &NewPrincipal, allow_password: bool) -> Result<CheckedPrincipal> {
        let kind = input.kind.unwrap_or(PrincipalKindName::Member);
        let mut errors = Vec::new();
        let login = normalise_login(&input.login);
        errors.extend(check_login(&login));
        errors.extend(check_display_name(&input.display_name));
        let email = clean_optional(input.email.as_deref());
        if let Some(email) = &email {
            errors.extend(check_email(email));
        }
        let locale = clean_optional(input.locale.as_deref());
        if let Some(locale) = &locale {
            errors.extend(check_locale(locale));
        }
        match (kind, input.party) {
            (PrincipalKindName::Guest, None) => {
                errors.push(field_error("/party", FieldErrorCode::Required, "a guest belongs to exactly one party"))
            }
            (PrincipalKindName::Member | PrincipalKindName::Service, Some(_)) => {
                errors.push(field_error("/party", FieldErrorCode::ReadOnly, "only guests belong to a party"))
            }
            _ => {}
        }
        let roles = input.roles.clone().unwrap_or_else(|| match kind {
            PrincipalKindName::Member => vec!["employee".to_owned()],
            PrincipalKindName::Guest => vec!["guest".to_owned()],
            PrincipalKindName::Service => Vec::new(),
        });
        let (roles, role_errors) = self.check_roles(kind, &roles);
        errors.extend(role_errors);
        if let Some(password) = &input.password {
            if kind == PrincipalKindName::Service || !allow_password {
                errors.push(field_error(
                    "/password",
                    FieldErrorCode::ReadOnly,
                    "service accounts sign in with API tokens, not passwords",
                ));
            } else {
                errors.extend(passwords::check_policy("/password", password.expose()));
            }
        }
        validated(errors)?;
        Ok(CheckedPrincipal { kind, login, display_name: input.display_name.trim().to_owned(), email, locale, roles })
    }

    /// Known roles only; guests hold guest roles only, members and services never do.
    /// Returns the roles without duplicates, and the problems at `/roles/<i>`.
    fn check_roles(&self, kind: PrincipalKindName, roles: &[String]) -> (Vec<String>, Vec<FieldError>) {
        let directory = self.directory();
        let mut errors = Vec::new();
        let mut out: Vec<String> = Vec::new();
        for (i, name) in roles.iter().enumerate() {
            let pointer = format!("/roles/{i}");
            match directory.roles.get(name) {
                None => errors.push(field_error(&pointer, FieldErrorCode::UnknownOption, format!("no role `{name}`"))),
                Some(role) if role.for_guests && kind != PrincipalKindName::Guest => errors.push(field_error(
                    &pointer,
                    FieldErrorCode::UnknownOption,
                    format!("`{name}` is a guest role; a {} cannot hold it", kind.as_str()),
                )),
                Some(role) if !role.for_guests && kind == PrincipalKindName::Guest => errors.push(field_error(
                    &pointer,
                    FieldErrorCode::UnknownOption,
                    format!("`{name}` is not a guest role; a guest can only hold roles made for guests"),
                )),
                Some(_) if !out.contains(name) => out.push(name.clone()),
                Some(_) => {}
            }
        }
        out.sort();
        (out, errors)
    }

    /// One principal: any principal for an administrator, oneself for everyone else.
    pub async fn principal(&self, actor: &Principal, id: Uuid) -> Result<PrincipalView> {
        if actor.id != id {
            self.require_admin(actor)?;
        }
        self.view_of(&self.stored_principal(id).await?)
    }

    /// The principal signing in as `login` (for administrators and the CLI).
    pub async fn principal_by_login(&self, actor: &Principal, login: &str) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        let login = normalise_login(login);
        let stored = principals::by_login_now(&self.db, &login)
            .await?
            .ok_or_else(|| Error::NotFound(format!("principal with login `{login}`")))?;
        self.view_of(&stored)
    }

    /// Principals by login, narrowed by kind, party and status.
    pub async fn principals(&self, actor: &Principal, query: &PrincipalQuery) -> Result<Vec<PrincipalView>> {
        self.require_admin(actor)?;
        let filter = PrincipalFilter {
            kind: query.kind.map(|k| k.as_str().to_owned()),
            party: query.party,
            status: query.status.map(|s| s.as_str().to_owned()),
        };
        principals::list(&self.db, &filter).await?.iter().map(|p| self.view_of(p)).collect()
    }

    /// Changes the display name, e-mail or locale.
    pub async fn update_principal(&self, actor: &Principal, id: Uuid, patch: PrincipalPatch) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        let mut errors = Vec::new();
        if let Some(name) = &patch.display_name {
            errors.extend(check_display_name(name));
        }
        let email = patch.email.as_ref().map(|e| clean_optional(e.as_deref()));
        if let Some(Some(email)) = &email {
            errors.extend(check_email(email));
        }
        let locale = patch.locale.as_ref().map(|l| clean_optional(l.as_deref()));
        if let Some(Some(locale)) = &locale {
            errors.extend(check_locale(locale));
        }
        validated(errors)?;
        let before = self.stored_principal(id).await?;
        let mut after = before.clone();
        if let Some(name) = &patch.display_name {
            after.display_name = name.trim().to_owned();
        }
        if let Some(email) = email {
            after.email = email;
        }
        if let Some(locale) = locale {
            after.locale = locale;
        }
        let at = self.auth_now();
        after.updated_at = at;
        let actor = actor.clone();
        let row = after.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !principals::update_profile(
                        tx,
                        id,
                        &row.display_name,
                        row.email.as_deref(),
                        row.locale.as_deref(),
                        at,
                    )
                    .await?
                    {
                        return Err(Error::NotFound(format!("principal {id}")));
                    }
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.updated",
                        "principal",
                        &id.to_string(),
                        json!({
                            "display_name": row.display_name,
                            "email": row.email,
                            "locale": row.locale,
                        }),
                    )
                    .await
                })
            })
            .await?;
        self.view_of(&after)
    }

    /// Disables a principal: it can no longer sign in, and its sessions and API tokens end
    /// now. Disabling oneself is refused (it would lock the administrator out).
    pub async fn disable_principal(&self, actor: &Principal, id: Uuid) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        if actor.id == id {
            return Err(Error::Conflict("you cannot disable yourself".into()));
        }
        let mut stored = self.stored_principal(id).await?;
        let at = self.auth_now();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_status(tx, id, PrincipalStatus::Disabled.as_str(), at).await?;
                    let sessions = sessions::revoke_sessions_of(tx, id, None, at).await?;
                    let tokens = sessions::revoke_tokens_of(tx, id, at).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.disabled",
                        "principal",
                        &id.to_string(),
                        json!({ "sessions_revoked": sessions, "tokens_revoked": tokens }),
                    )
                    .await
                })
            })
            .await?;
        stored.status = PrincipalStatus::Disabled.as_str().to_owned();
        stored.updated_at = at;
        self.view_of(&stored)
    }

    /// Lets a disabled principal sign in again (old sessions and tokens stay ended).
    pub async fn enable_principal(&self, actor: &Principal, id: Uuid) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        let mut stored = self.stored_principal(id).await?;
        match PrincipalStatus::parse(&stored.status)? {
            PrincipalStatus::Active => return self.view_of(&stored),
            PrincipalStatus::Invited => {
                return Err(Error::Conflict("the principal has not accepted its invitation yet".into()));
            }
            PrincipalStatus::Disabled => {}
        }
        let at = self.auth_now();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_status(tx, id, PrincipalStatus::Active.as_str(), at).await?;
                    principals::set_lock(tx, id, None).await?;
                    crate::admin_audit::record(tx, &actor, "principal.enabled", "principal", &id.to_string(), json!({}))
                        .await
                })
            })
            .await?;
        stored.status = PrincipalStatus::Active.as_str().to_owned();
        stored.updated_at = at;
        self.view_of(&stored)
    }

    /// Replaces the roles a principal holds.
    pub async fn set_principal_roles(&self, actor: &Principal, id: Uuid, roles: Vec<String>) -> Result<PrincipalView> {
        self.require_admin(actor)?;
        let stored = self.stored_principal(id).await?;
        let kind = PrincipalKindName::parse(&stored.kind)?;
        let (roles, errors) = self.check_roles(kind, &roles);
        validated(errors)?;
        let before = self.directory().roles_of(id).to_vec();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    access::set_holdings(tx, id, &roles).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.roles_set",
                        "principal",
                        &id.to_string(),
                        json!({ "before": before, "after": roles }),
                    )
                    .await
                })
            })
            .await?;
        self.reload_directory().await?;
        self.view_of(&stored)
    }

    /// Sets a new password for someone else (the lock is lifted and every session of the
    /// principal ends).
    pub async fn reset_password(&self, actor: &Principal, id: Uuid, password: &SecretString) -> Result<()> {
        self.require_admin(actor)?;
        validated(passwords::check_policy("/password", password.expose()))?;
        let stored = self.stored_principal(id).await?;
        if stored.kind == PrincipalKindName::Service.as_str() {
            return Err(Error::Validation(vec![field_error(
                "/password",
                FieldErrorCode::ReadOnly,
                "service accounts sign in with API tokens, not passwords",
            )]));
        }
        let hash = passwords::hash(&self.identity, password.expose()).await?;
        let at = self.auth_now();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    principals::set_password(tx, id, &hash, at).await?;
                    let revoked = sessions::revoke_sessions_of(tx, id, None, at).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.password_reset",
                        "principal",
                        &id.to_string(),
                        json!({ "sessions_revoked": revoked }),
                    )
                    .await
                })
            })
            .await
    }

    /// Ends every session of a principal; returns how many were live.
    pub async fn revoke_sessions_of(&self, actor: &Principal, id: Uuid) -> Result<u64> {
        self.require_admin(actor)?;
        self.stored_principal(id).await?;
        let at = self.auth_now();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let revoked = sessions::revoke_sessions_of(tx, id, None, at).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "principal.sessions_revoked",
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
}

/// A new principal's fields once checked and cleaned.
#[derive(Debug, Clone)]
pub(crate) struct CheckedPrincipal {
    pub kind: PrincipalKindName,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub roles: Vec<String>,
}

/// Logins are compared lower-cased and without surrounding spaces.
pub(crate) fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

fn clean_optional(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn check_login(login: &str) -> Vec<FieldError> {
    if login.is_empty() {
        vec![field_error("/login", FieldErrorCode::Required, "a login is required")]
    } else if login.chars().count() > 254 {
        vec![field_error("/login", FieldErrorCode::TooLong, "a login has at most 254 characters")]
    } else if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
        vec![field_error("/login", FieldErrorCode::InvalidFormat, "a login has no spaces or control characters")]
    } else {
        vec![]
    }
}

fn check_display_name(name: &str) -> Vec<FieldError> {
    let name = name.trim();
    if name.is_empty() {
        vec![field_error("/display_name", FieldErrorCode::Required, "a display name is required")]
    } else if name.chars().count() > 200 {
        vec![field_error("/display_name", FieldErrorCode::TooLong, "a display name has at most 200 characters")]
    } else {
        vec![]
    }
}

fn check_email(email: &str) -> Vec<FieldError> {
    let well_formed = email.chars().count() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if well_formed {
        vec![]
    } else {
        vec![field_error("/email", FieldErrorCode::InvalidFormat, "not an e-mail address")]
    }
}

/// A BCP 47-ish tag: `en`, `zh-CN`, `pt-BR`.
fn check_locale(locale: &str) -> Vec<FieldError> {
    let mut parts = locale.split('-');
    let language_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if language_ok && rest_ok {
        vec![]
    } else {
        vec![field_error("/locale", FieldErrorCode::InvalidFormat, "a locale looks like `en` or `zh-CN`")]
    }
}

/// The principal a stored row acts as.
pub(crate) fn principal_of(stored: &StoredPrincipal) -> Result<Principal> {
    let kind = match PrincipalKindName::parse(&stored.kind)? {
        PrincipalKindName::Member => PrincipalKind::Member,
        PrincipalKindName::Service => PrincipalKind::Service,
        PrincipalKindName::Guest => PrincipalKind::Guest {
            party: stored.party.ok_or_else(|| Error::Internal(format!("guest {} has no party", stored.id)))?,
        },
    };
    Ok(Principal::new(stored.id, kind))
}

pub(crate) fn is_active(stored: &StoredPrincipal) -> bool {
    stored.status == PrincipalStatus::Active.as_str()
}

pub(crate) fn is_locked(stored: &StoredPrincipal, now: OffsetDateTime) -> bool {
    stored.locked_until.is_some_and(|until| until > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_trimmed_and_lower_cased() {
        assert_eq!(normalise_login("  Ann@Example.COM "), "ann@example.com");
        assert!(check_login("ann smith").iter().any(|e| e.pointer == "/login"));
        assert_eq!(check_login("")[0].code, FieldErrorCode::Required);
        assert!(check_login("ann").is_empty());
    }

    #[test]
    fn emails_and_locales_are_checked() {
        assert!(check_email("ann@example.com").is_empty());
        for bad in ["ann", "@example.com", "ann@example", "ann@@x.com", "a b@x.com", "ann@x.com."] {
            assert_eq!(check_email(bad).len(), 1, "{bad}");
        }
        for good in ["en", "zh-CN", "pt-BR", "zh-Hans-CN"] {
            assert!(check_locale(good).is_empty(), "{good}");
        }
        for bad in ["e", "english", "zh_CN", "zh-"] {
            assert_eq!(check_locale(bad).len(), 1, "{bad}");
        }
    }
}
