//! API tokens: `weft_` and 43 random characters, shown once, stored as a SHA-256 digest.
//! A token belongs to one principal (members make their own; administrators make them for
//! service accounts) and carries some of that principal's roles: a request with it acts
//! with the roles the principal still holds *and* the token names, never more.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::schema::FieldErrorCode;
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::principals;
use weft_store::kernel::sessions::{self, StoredToken};

use super::principals::{PrincipalKindName, is_active, principal_of};
use super::{digest, field_error, random_secret, std_duration, validated};
use crate::{Error, Result, Workspace};

/// Every token starts with this, so scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "weft_";

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for ("CI export", "ERP sync").
    #[serde(default)]
    pub name: String,
    /// The roles the token may use; all of the owner's current roles when absent.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// RFC 3339; the token never expires when absent.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub principal: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// A token just made: `token` is the secret, shown this once.
#[derive(Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken").field("view", &self.view).finish_non_exhaustive()
    }
}

fn view(token: &StoredToken, now: OffsetDateTime) -> TokenView {
    let status = if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    TokenView {
        id: token.id,
        principal: token.principal,
        name: token.name.clone(),
        roles: token.roles.clone(),
        created_at: format_utc(token.created_at),
        created_by: token.created_by.clone(),
        expires_at: token.expires_at.map(format_utc),
        revoked_at: token.revoked_at.map(format_utc),
        last_used_at: token.last_used_at.map(format_utc),
        status: status.to_owned(),
    }
}

impl Workspace {
    /// May `actor` manage the tokens of `owner`? Oneself (a member), or an administrator.
    fn may_manage_tokens_of(&self, actor: &Principal, owner: Uuid) -> Result<()> {
        if actor.id == owner && actor.kind == PrincipalKind::Member { Ok(()) } else { self.require_admin(actor) }
    }

    /// Makes an API token for `owner`: a member for itself, or an administrator for a
    /// service account. Its roles must be roles the owner holds (and, when `actor` came
    /// with a token itself, roles that token may use).
    pub async fn create_token(&self, actor: &Principal, owner: Uuid, input: NewToken) -> Result<CreatedToken> {
        let for_self = actor.id == owner;
        if for_self {
            if actor.kind != PrincipalKind::Member {
                return Err(Error::Forbidden("only members make their own API tokens".into()));
            }
        } else {
            self.require_admin(actor)?;
        }
        let stored_owner = self.stored_principal(owner).await?;
        if !for_self && stored_owner.kind != PrincipalKindName::Service.as_str() {
            return Err(Error::Forbidden("administrators make API tokens for service accounts only".into()));
        }
        if !is_active(&stored_owner) {
            return Err(Error::Conflict("the principal is not active".into()));
        }
        let directory = self.directory();
        let held: Vec<String> = directory
            .roles_of(owner)
            .iter()
            .filter(|r| !for_self || actor.token_roles.as_ref().is_none_or(|allowed| allowed.contains(r)))
            .cloned()
            .collect();
        let now = self.auth_now();
        let mut errors = Vec::new();
        let name = input.name.trim().to_owned();
        if name.is_empty() {
            errors.push(field_error("/name", FieldErrorCode::Required, "a token needs a name"));
        } else if name.chars().count() > 100 {
            errors.push(field_error("/name", FieldErrorCode::TooLong, "a token name has at most 100 characters"));
        }
        let mut roles: Vec<String> = Vec::new();
        match &input.roles {
            None => roles = held.clone(),
            Some(asked) if asked.is_empty() => {
                errors.push(field_error("/roles", FieldErrorCode::Required, "a token needs at least one role"))
            }
            Some(asked) => {
                for (i, role) in asked.iter().enumerate() {
                    if !held.contains(role) {
                        errors.push(field_error(
                            &format!("/roles/{i}"),
                            FieldErrorCode::UnknownOption,
                            format!("the token's owner does not hold role `{role}`"),
                        ));
                    } else if !roles.contains(role) {
                        roles.push(role.clone());
                    }
                }
            }
        }
        if input.roles.is_none() && held.is_empty() {
            errors.push(field_error("/roles", FieldErrorCode::Required, "the owner holds no role a token could use"));
        }
        let expires_at = match input.expires_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match OffsetDateTime::parse(text, &Rfc3339) {
                Ok(at) if at > now => Some(at),
                Ok(_) => {
                    errors.push(field_error("/expires_at", FieldErrorCode::OutOfRange, "must be in the future"));
                    None
                }
                Err(_) => {
                    errors.push(field_error("/expires_at", FieldErrorCode::InvalidFormat, "not an RFC 3339 date-time"));
                    None
                }
            },
        };
        validated(errors)?;
        roles.sort();
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let token = StoredToken {
            id: Uuid::now_v7(),
            principal: owner,
            name,
            token_hash: digest(&secret),
            roles,
            created_at: now,
            created_by: actor.actor(),
            expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        let row = token.clone();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    sessions::insert_token(tx, &row).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "token.created",
                        "api_token",
                        &row.id.to_string(),
                        json!({ "owner": row.principal, "name": row.name, "roles": row.roles, "expires_at": row.expires_at.map(format_utc) }),
                    )
                    .await
                })
            })
            .await?;
        Ok(CreatedToken { token: secret, view: view(&token, now) })
    }

    /// The tokens of `owner` (never their secrets), newest first.
    pub async fn tokens(&self, actor: &Principal, owner: Uuid) -> Result<Vec<TokenView>> {
        self.may_manage_tokens_of(actor, owner)?;
        let now = self.auth_now();
        Ok(sessions::tokens_of(&self.db, owner).await?.iter().map(|t| view(t, now)).collect())
    }

    /// Revokes one token of `owner`.
    pub async fn revoke_token(&self, actor: &Principal, owner: Uuid, id: Uuid) -> Result<()> {
        self.may_manage_tokens_of(actor, owner)?;
        let at = self.auth_now();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !sessions::revoke_token(tx, owner, id, at).await? {
                        return Err(Error::NotFound(format!("API token {id}")));
                    }
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "token.revoked",
                        "api_token",
                        &id.to_string(),
                        json!({ "owner": owner }),
                    )
                    .await
                })
            })
            .await
    }

    /// The principal an API token acts as, with `token_roles` set to the roles it may use.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Principal> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(Error::Unauthenticated("not a Weft API token".into()));
        }
        let Some(token) = sessions::token_by_hash(&self.db, &digest(secret)).await? else {
            return Err(Error::Unauthenticated("unknown API token".into()));
        };
        let now = self.auth_now();
        if token.revoked_at.is_some() {
            return Err(Error::Unauthenticated("the API token was revoked".into()));
        }
        if token.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::Unauthenticated("the API token has expired".into()));
        }
        let stored = principals::by_id_now(&self.db, token.principal).await?;
        let Some(stored) = stored.filter(is_active) else {
            return Err(Error::Unauthenticated("the token's principal is disabled".into()));
        };
        let stale = token.last_used_at.is_none_or(|t| now - t >= std_duration(self.identity.settings.touch_interval()));
        if stale {
            let id = token.id;
            self.db.write(move |tx| Box::pin(async move { sessions::touch_token(tx, id, now).await })).await?;
        }
        let directory = self.directory();
        let held = directory.roles_of(stored.id);
        let mut principal = principal_of(&stored)?;
        principal.token_roles = Some(token.roles.into_iter().filter(|r| held.contains(r)).collect());
        Ok(principal)
    }
}
