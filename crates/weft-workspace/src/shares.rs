//! Read on one record for one principal: how assignees, mentioned people and process actors
//! see a record their roles do not reach. A share never lifts a guest beyond its party.
//! Whoever may update a record may share it; admins may share anything; every grant and
//! revocation is audited.

use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::format_utc;
use weft_store::kernel::access::{self, Share};
use weft_store::records::rows::{self, Source};

use crate::access::Action;
use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShareView {
    pub principal: Uuid,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: String,
}

impl Workspace {
    /// Gives `with` read on one record. Sharing twice keeps the first share.
    pub async fn share_record(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
        with: Uuid,
        reason: &str,
    ) -> Result<ShareView> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(Error::Validation(vec![weft_model::schema::FieldError {
                pointer: "/reason".into(),
                code: weft_model::schema::FieldErrorCode::Required,
                reason: "say why (1 to 500 characters)".into(),
            }]));
        }
        if principal.party().is_some() {
            return Err(Error::Forbidden("partner contacts cannot share records".into()));
        }
        let entry = self.entry(type_name)?;
        let gate = (!self.is_admin(principal)).then(|| self.gate(principal, &entry, Some(Action::Update)));
        let actor = principal.clone();
        let share = Share {
            type_name: type_name.to_owned(),
            record_id: id,
            principal: with,
            reason: reason.to_owned(),
            granted_by: principal.actor(),
            granted_at: weft_store::now(),
        };
        let written = share.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let record = rows::get(Source::Tx(tx), &entry.spec, id, false)
                        .await?
                        .ok_or_else(|| Error::NotFound(format!("{} {id}", entry.decl.name)))?;
                    if let Some(gate) = &gate {
                        gate.check(tx, &entry, &record).await?;
                    }
                    let refuse = |code, reason: String| {
                        Err(Error::Validation(vec![weft_model::schema::FieldError {
                            pointer: "/principal".into(),
                            code,
                            reason,
                        }]))
                    };
                    match access::active_principal_party(tx, with).await? {
                        None => {
                            return refuse(
                                weft_model::schema::FieldErrorCode::UnknownReference,
                                format!("no active principal {with}"),
                            );
                        }
                        Some(Some(party)) if record.system.party != Some(party) => {
                            return refuse(
                                weft_model::schema::FieldErrorCode::InvalidFormat,
                                "a partner contact can only be given records of their own party".into(),
                            );
                        }
                        Some(_) => {}
                    }
                    access::put_share(tx, &written).await?;
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "record.share",
                        &written.type_name,
                        &id.to_string(),
                        json!({ "principal": with, "reason": written.reason }),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(view(share))
    }

    /// Takes a share back. Same permission as sharing.
    pub async fn unshare_record(&self, principal: &Principal, type_name: &str, id: Uuid, with: Uuid) -> Result<()> {
        if principal.party().is_some() {
            return Err(Error::Forbidden("partner contacts cannot share records".into()));
        }
        let entry = self.entry(type_name)?;
        let gate = (!self.is_admin(principal)).then(|| self.gate(principal, &entry, Some(Action::Update)));
        let actor = principal.clone();
        let type_name = type_name.to_owned();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    let record = rows::get(Source::Tx(tx), &entry.spec, id, true)
                        .await?
                        .ok_or_else(|| Error::NotFound(format!("{} {id}", entry.decl.name)))?;
                    if let Some(gate) = &gate {
                        gate.check(tx, &entry, &record).await?;
                    }
                    if !access::delete_share(tx, &type_name, id, with).await? {
                        return Err(Error::NotFound(format!("share of {type_name} {id} with {with}")));
                    }
                    crate::admin_audit::record(
                        tx,
                        &actor,
                        "record.unshare",
                        &type_name,
                        &id.to_string(),
                        json!({ "principal": with }),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// Who a record is shared with (for those who may read it).
    pub async fn record_shares(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<Vec<ShareView>> {
        self.get(principal, type_name, id).await?;
        Ok(access::shares_of_record(&self.db, type_name, id).await?.into_iter().map(view).collect())
    }
}

fn view(share: Share) -> ShareView {
    ShareView {
        principal: share.principal,
        reason: share.reason,
        granted_by: share.granted_by,
        granted_at: format_utc(share.granted_at),
    }
}
