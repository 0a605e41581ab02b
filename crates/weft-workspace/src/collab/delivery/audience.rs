//! Who may receive a notice: the same checks as the inbox fan-out and every thread read
//! (`collab::access`), made again when a delivery is queued and again when it is sent, so
//! an internal message never reaches a guest's mailbox, and someone who lost access to a
//! record since gets nothing more about it.

use weft_model::Principal;
use weft_store::kernel::collab as store;
use weft_store::kernel::principals::{self, StoredPrincipal};
use weft_store::records::rows::{self, Source};

use super::notice::Notice;
use crate::collab::access::visible_to;
use crate::identity::principals::{is_active, principal_of};
use crate::{Result, Workspace};

impl Workspace {
    /// The principal behind an id, when active: its stored row (address, locale) and the
    /// `Principal` access checks take.
    pub(super) async fn recipient(&self, id: uuid::Uuid) -> Result<Option<(StoredPrincipal, Principal)>> {
        match principals::by_id_now(&self.db, id).await?.filter(is_active) {
            Some(stored) => {
                let principal = principal_of(&stored)?;
                Ok(Some((stored, principal)))
            }
            None => Ok(None),
        }
    }

    /// May `principal` read what `notice` is about: the message (its visibility, and it
    /// not being deleted), the record, or — on a channel — membership.
    pub(super) async fn may_receive(&self, principal: &Principal, notice: &Notice) -> Result<bool> {
        if let Some(message) = notice.message {
            match store::message(&self.db, message).await? {
                Some(m) if m.deleted_at.is_none() && visible_to(principal).contains(&m.visibility.as_str()) => {}
                _ => return Ok(false),
            }
        }
        match (&notice.type_name, notice.record) {
            (Some(type_name), Some(id)) => {
                let Ok(entry) = self.entry(type_name) else { return Ok(false) };
                match rows::get(Source::Db(&self.db), &entry.spec, id, false).await? {
                    Some(record) => self.readable_now(principal, &entry, &record).await,
                    None => Ok(false),
                }
            }
            _ => match notice.thread {
                Some(channel) => Ok(store::is_member(&self.db, channel, principal.id).await?),
                // Neither record nor channel: a to-do without a record, for staff only.
                None => Ok(principal.party().is_none()),
            },
        }
    }
}
