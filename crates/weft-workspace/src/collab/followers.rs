//! Followers of a record: its creator and owner, the authors of its messages, the people
//! mentioned in them, and anyone who follows by hand. They get the record's messages and
//! transitions in their inbox (each still filtered by what they may see).

use serde::Serialize;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::format_utc;
use weft_store::kernel::collab as store;

use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowerView {
    pub principal: Uuid,
    /// `creator`, `owner`, `author`, `mentioned` or `manual`.
    pub reason: String,
    pub since: String,
}

impl Workspace {
    /// Follows a record one can read. Following twice changes nothing.
    pub async fn follow_record(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<()> {
        self.record_thread_access(principal, type_name, id).await?;
        let (type_name, who) = (type_name.to_owned(), principal.id);
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::follow(tx, &type_name, id, who, "manual", weft_store::now()).await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// Stops following. Not following is not an error (the call is idempotent).
    pub async fn unfollow_record(&self, principal: &Principal, type_name: &str, id: Uuid) -> Result<()> {
        self.record_thread_access(principal, type_name, id).await?;
        let (type_name, who) = (type_name.to_owned(), principal.id);
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::unfollow(tx, &type_name, id, who).await?;
                    Ok::<_, Error>(())
                })
            })
            .await
    }

    /// Who follows a record: for members of the company who can read it.
    pub async fn record_followers(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
    ) -> Result<Vec<FollowerView>> {
        self.require_staff(principal)?;
        self.record_thread_access(principal, type_name, id).await?;
        Ok(store::followers(&self.db, type_name, id)
            .await?
            .into_iter()
            .map(|f| FollowerView { principal: f.principal, reason: f.reason, since: format_utc(f.since) })
            .collect())
    }
}
