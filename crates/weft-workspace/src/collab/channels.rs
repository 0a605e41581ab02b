//! Channels: threads not bound to a record. Team channels hold members; an external group
//! (`external`) may also hold guests of one or more parties, and everything posted in it is
//! shared. Members of the company create channels; whoever belongs to one may add people;
//! anyone may leave.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use weft_model::schema::{FieldError, FieldErrorCode};
use weft_model::{Principal, PrincipalKind};
use weft_store::format_utc;
use weft_store::kernel::collab::{self as store, StoredThread};
use weft_store::kernel::principals;

use crate::identity::principals::{is_active, principal_of};
use crate::{Error, Result, Workspace, admin_audit};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// 1 to 80 characters.
    pub name: String,
    /// An external group: guests of partner parties may be members; every message is shared.
    #[serde(default)]
    pub external: bool,
    /// People to add besides the creator.
    #[serde(default)]
    pub members: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelView {
    pub id: Uuid,
    pub name: String,
    pub external: bool,
    pub created_at: String,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_posted_at: Option<String>,
    pub members: Vec<Uuid>,
}

fn problem(pointer: impl Into<String>, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
    FieldError { pointer: pointer.into(), code, reason: reason.into() }
}

impl Workspace {
    pub async fn create_channel(&self, principal: &Principal, input: NewChannel) -> Result<ChannelView> {
        if principal.party().is_some() {
            return Err(Error::Forbidden("partner contacts cannot create channels".into()));
        }
        let name = input.name.trim().to_owned();
        let mut problems = Vec::new();
        if name.is_empty() || name.chars().count() > 80 {
            problems.push(problem("/name", FieldErrorCode::Required, "a name of 1 to 80 characters"));
        }
        let mut members = vec![principal.id];
        for (i, id) in input.members.iter().enumerate() {
            if let Err(reason) = self.may_join(*id, input.external).await? {
                problems.push(problem(format!("/members/{i}"), FieldErrorCode::UnknownReference, reason));
            } else if !members.contains(id) {
                members.push(*id);
            }
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let now = weft_store::now();
        let thread = StoredThread {
            id: Uuid::now_v7(),
            kind: "channel".into(),
            type_name: None,
            record_id: None,
            name: Some(name),
            external: input.external,
            created_at: now,
            created_by: principal.actor(),
            last_posted_at: None,
            archived_at: None,
        };
        let (actor, written, added) = (principal.clone(), thread.clone(), members.clone());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::insert_channel(tx, &written).await?;
                    for member in &added {
                        store::add_member(tx, written.id, *member, &actor.actor(), now).await?;
                    }
                    let detail = json!({ "name": written.name, "external": written.external, "members": added });
                    admin_audit::record(tx, &actor, "channel.create", "channel", &written.id.to_string(), detail)
                        .await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(channel_view(thread, members))
    }

    /// The channels the principal belongs to.
    pub async fn channels(&self, principal: &Principal) -> Result<Vec<ChannelView>> {
        self.channel_views(Some(principal.id)).await
    }

    /// Every channel, whoever belongs to it (administrators: attaching a robot to a
    /// channel, seeing what exists). Lists names and members, not messages.
    pub async fn all_channels(&self, principal: &Principal) -> Result<Vec<ChannelView>> {
        self.require_admin(principal)?;
        self.channel_views(None).await
    }

    /// The channels `member` belongs to (all when `None`), with their members.
    async fn channel_views(&self, member: Option<Uuid>) -> Result<Vec<ChannelView>> {
        let mut out = Vec::new();
        for thread in store::channels(&self.db, member).await? {
            let members = store::members(&self.db, thread.id).await?;
            out.push(channel_view(thread, members));
        }
        Ok(out)
    }

    pub async fn channel(&self, principal: &Principal, id: Uuid) -> Result<ChannelView> {
        let thread = self.channel_thread(id).await?;
        self.channel_access(principal, thread.clone()).await?;
        let members = store::members(&self.db, id).await?;
        Ok(channel_view(thread, members))
    }

    /// Adds someone to a channel; any member of the company who belongs to it may.
    pub async fn add_channel_member(&self, principal: &Principal, id: Uuid, who: Uuid) -> Result<ChannelView> {
        let thread = self.channel_thread(id).await?;
        self.channel_access(principal, thread.clone()).await?;
        if principal.party().is_some() {
            return Err(Error::Forbidden("partner contacts cannot add people to channels".into()));
        }
        if let Err(reason) = self.may_join(who, thread.external).await? {
            return Err(Error::Validation(vec![problem("/principal", FieldErrorCode::UnknownReference, reason)]));
        }
        let actor = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if store::add_member(tx, id, who, &actor.actor(), weft_store::now()).await? {
                        admin_audit::record(
                            tx,
                            &actor,
                            "channel.add_member",
                            "channel",
                            &id.to_string(),
                            json!({ "principal": who }),
                        )
                        .await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .await?;
        self.channel(principal, id).await
    }

    /// Removes someone from a channel: oneself (leaving), or anyone when the remover is a
    /// member of the company belonging to the channel.
    pub async fn remove_channel_member(&self, principal: &Principal, id: Uuid, who: Uuid) -> Result<()> {
        let thread = self.channel_thread(id).await?;
        self.channel_access(principal, thread).await?;
        if who != principal.id && principal.party().is_some() {
            return Err(Error::Forbidden("partner contacts can only leave a channel themselves".into()));
        }
        let actor = principal.clone();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    if !store::remove_member(tx, id, who).await? {
                        return Err(Error::NotFound(format!("member {who} of channel {id}")));
                    }
                    admin_audit::record(
                        tx,
                        &actor,
                        "channel.remove_member",
                        "channel",
                        &id.to_string(),
                        json!({ "principal": who }),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// `Ok(Err(reason))` when `who` cannot belong to a channel of this kind.
    async fn may_join(&self, who: Uuid, external: bool) -> Result<std::result::Result<(), String>> {
        let Some(stored) = principals::by_id_now(&self.db, who).await?.filter(is_active) else {
            return Ok(Err(format!("no active person {who}")));
        };
        Ok(match principal_of(&stored)?.kind {
            PrincipalKind::Guest { .. } if !external => {
                Err("partner contacts can only join external groups".to_owned())
            }
            _ => Ok(()),
        })
    }
}

fn channel_view(thread: StoredThread, members: Vec<Uuid>) -> ChannelView {
    ChannelView {
        id: thread.id,
        name: thread.name.unwrap_or_default(),
        external: thread.external,
        created_at: format_utc(thread.created_at),
        created_by: thread.created_by,
        last_posted_at: thread.last_posted_at.map(format_utc),
        members,
    }
}
