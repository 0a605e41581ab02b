//! Invitations: an administrator (later the party app) invites a partner's contact. The
//! guest exists at once, bound to its party and `invited`; the one-time token (shown once,
//! stored as a digest) lets the contact choose a password, which activates the guest and
//! signs it in. Used and expired tokens are refused.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::format_utc;
use weft_store::kernel::access;
use weft_store::kernel::principals::{self, StoredPrincipal};
use weft_store::kernel::sessions::{self, StoredInvitation};

use super::principals::{NewPrincipal, PrincipalKindName, PrincipalStatus, PrincipalView};
use super::sessions::NewSession;
use super::{ClientInfo, SecretString, audit_event, digest, passwords, random_secret, std_duration, validated};
use crate::{Error, Result, Workspace};

/// Who to invite. Roles default to `guest`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// The party the guest belongs to.
    #[serde(default)]
    pub party: Option<Uuid>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// The invited guest and the token to send it (shown this once).
#[derive(Clone, Serialize, ToSchema)]
pub struct CreatedInvitation {
    pub principal: PrincipalView,
    pub token: String,
    pub expires_at: String,
}

impl std::fmt::Debug for CreatedInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedInvitation")
            .field("principal", &self.principal.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why an invitation token was refused.
enum Refusal {
    Unknown,
    Used,
    Expired,
}

impl Refusal {
    fn error(&self) -> Error {
        Error::Unauthenticated(
            match self {
                Refusal::Unknown => "this invitation is not valid",
                Refusal::Used => "this invitation was already used; sign in instead",
                Refusal::Expired => "this invitation has expired; ask for a new one",
            }
            .into(),
        )
    }
}

impl Workspace {
    /// Invites a guest of `party`: creates it `invited` with its roles, and returns the
    /// one-time token that lets it set a password.
    pub async fn invite_guest(&self, actor: &Principal, input: NewInvitation) -> Result<CreatedInvitation> {
        self.require_admin(actor)?;
        let as_principal = NewPrincipal {
            kind: Some(PrincipalKindName::Guest),
            login: input.login.clone(),
            display_name: input.display_name.clone(),
            email: input.email.clone(),
            party: input.party,
            locale: input.locale.clone(),
            roles: input.roles.clone(),
            password: None,
        };
        let checked = self.check_new_principal(&as_principal, false)?;
        let now = self.auth_now();
        let token = random_secret()?;
        let expires_at = now + std_duration(self.identity.settings.invitation_lifetime);
        let stored = StoredPrincipal {
            id: Uuid::now_v7(),
            kind: PrincipalKindName::Guest.as_str().to_owned(),
            login: checked.login,
            display_name: checked.display_name,
            email: checked.email,
            party: input.party,
            status: PrincipalStatus::Invited.as_str().to_owned(),
            password_hash: None,
            password_changed_at: None,
            totp_secret: None,
            totp_enabled: false,
            totp_last_step: None,
            failed_logins: 0,
            locked_until: None,
            locale: checked.locale,
            created_at: now,
            updated_at: now,
        };
        let invitation = StoredInvitation {
            token_hash: digest(&token),
            principal: stored.id,
            created_at: now,
            created_by: actor.actor(),
            expires_at,
            used_at: None,
        };
        let roles = checked.roles;
        let row = stored.clone();
        let actor = actor.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if principals::by_login(tx, &row.login).await?.is_some() {
                        return Err(Error::Unique { fields: vec!["login".into()] });
                    }
                    principals::insert(tx, &row).await?;
                    access::set_holdings(tx, row.id, &roles).await?;
                    sessions::insert_invitation(tx, &invitation).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "invitation.created",
                        "principal",
                        &row.id.to_string(),
                        json!({
                            "login": row.login,
                            "party": row.party,
                            "roles": roles,
                            "expires_at": format_utc(invitation.expires_at),
                        }),
                    )
                    .await
                })
            })
            .await?;
        self.reload_directory().await?;
        Ok(CreatedInvitation { principal: self.view_of(&stored)?, token, expires_at: format_utc(expires_at) })
    }

    /// Accepts an invitation: sets the password, activates the guest and signs it in.
    pub async fn accept_invitation(
        &self,
        token: &SecretString,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<NewSession> {
        let ip = if client.ip.is_empty() { "unknown".to_owned() } else { client.ip.clone() };
        self.identity.throttle.check(&ip, self.auth_now())?;
        let mut errors = Vec::new();
        if token.expose().is_empty() {
            errors.push(super::field_error(
                "/token",
                weft_model::schema::FieldErrorCode::Required,
                "the invitation token is required",
            ));
        }
        errors.extend(passwords::check_policy("/password", password.expose()));
        validated(errors)?;

        let token_hash = digest(token.expose());
        let now = self.auth_now();
        // Look first, hash only for a token that can still be accepted.
        let mut tx = self.db.begin_read().await?;
        let found = sessions::invitation(&mut tx, &token_hash).await?;
        tx.rollback().await?;
        let refusal = match &found {
            None => Some(Refusal::Unknown),
            Some(i) if i.used_at.is_some() => Some(Refusal::Used),
            Some(i) if i.expires_at <= now => Some(Refusal::Expired),
            Some(_) => None,
        };
        if let Some(refusal) = refusal {
            self.identity.throttle.record_failure(&ip, now);
            let detail = json!({ "ip": ip, "reason": match refusal { Refusal::Unknown => "unknown", Refusal::Used => "used", Refusal::Expired => "expired" } });
            let target = found.map(|i| i.principal.to_string()).unwrap_or_default();
            self.db
                .write(move |tx| {
                    Box::pin(async move {
                        audit_event(tx, "anonymous", "invitation.refused", "principal", &target, detail).await
                    })
                })
                .await?;
            return Err(refusal.error());
        }

        let hash = passwords::hash(&self.identity, password.expose()).await?;
        let absolute = std_duration(self.identity.settings.session_absolute);
        let client_detail = json!({ "ip": ip, "user_agent": client.user_agent });
        let session_client = ClientInfo { ip: ip.clone(), user_agent: client.user_agent.clone() };
        let outcome = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let Some(invitation) = sessions::invitation(tx, &token_hash).await? else {
                        return Ok(Err(Refusal::Unknown));
                    };
                    if invitation.expires_at <= now {
                        return Ok(Err(Refusal::Expired));
                    }
                    if !sessions::use_invitation(tx, &token_hash, now).await? {
                        return Ok(Err(Refusal::Used));
                    }
                    let Some(mut stored) = principals::by_id(tx, invitation.principal).await? else {
                        return Ok(Err(Refusal::Unknown));
                    };
                    if stored.status != PrincipalStatus::Invited.as_str() {
                        return Ok(Err(Refusal::Used));
                    }
                    principals::set_password(tx, stored.id, &hash, now).await?;
                    principals::set_status(tx, stored.id, PrincipalStatus::Active.as_str(), now).await?;
                    let target = stored.id.to_string();
                    audit_event(tx, &target, "invitation.accepted", "principal", &target, client_detail).await?;
                    stored.status = PrincipalStatus::Active.as_str().to_owned();
                    stored.password_hash = Some(hash);
                    stored.updated_at = now;
                    let parts = super::sessions::open_session_for(tx, &stored, now, absolute, &session_client).await?;
                    Ok::<_, Error>(Ok((stored, parts)))
                })
            })
            .await?;
        match outcome {
            Ok((stored, parts)) => self.new_session(&stored, parts),
            Err(refusal) => {
                self.identity.throttle.record_failure(&ip, now);
                Err(refusal.error())
            }
        }
    }
}
