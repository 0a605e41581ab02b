//! Who may read and post in a thread. One answer for every path (reads, posts, edits,
//! reactions, the inbox fan-out), so a guest cannot reach an internal message by a side door.

use std::sync::Arc;

use uuid::Uuid;
use weft_model::{Principal, PrincipalKind};
use weft_store::kernel::access as shares;
use weft_store::kernel::collab::{self as store, StoredThread};
use weft_store::records::rows::{self, Source, StoredRecord};

use crate::access::Action;
use crate::catalog::TypeEntry;
use crate::{Error, Result, Workspace};

const ALL: &[&str] = &["internal", "shared"];
const SHARED_ONLY: &[&str] = &["shared"];

/// The message visibilities `principal` may read: guests only ever `shared`.
pub(super) fn visible_to(principal: &Principal) -> &'static [&'static str] {
    match principal.kind {
        PrincipalKind::Guest { .. } => SHARED_ONLY,
        _ => ALL,
    }
}

pub(super) enum Place {
    Record { entry: Arc<TypeEntry>, record: Box<StoredRecord> },
    Channel(StoredThread),
}

impl Place {
    /// The party whose guests may see `shared` messages here: the record's party; for an
    /// external channel, each member guest's own (checked by membership instead).
    pub(super) fn party(&self) -> Option<Uuid> {
        match self {
            Place::Record { record, .. } => record.system.party,
            Place::Channel(_) => None,
        }
    }
}

pub(super) struct ThreadAccess {
    pub place: Place,
    pub visibilities: &'static [&'static str],
    pub may_post: bool,
}

impl ThreadAccess {
    pub(super) fn sees(&self, visibility: &str) -> bool {
        self.visibilities.contains(&visibility)
    }
}

impl Workspace {
    /// Access to one record's thread; `NotFound` when the record is missing or unreadable.
    pub(super) async fn record_thread_access(
        &self,
        principal: &Principal,
        type_name: &str,
        id: Uuid,
    ) -> Result<ThreadAccess> {
        let entry = self.entry(type_name)?;
        let record = rows::get(Source::Db(&self.db), &entry.spec, id, false)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{type_name} {id}")))?;
        self.access_to_record(principal, entry, record).await
    }

    pub(super) async fn access_to_record(
        &self,
        principal: &Principal,
        entry: Arc<TypeEntry>,
        record: StoredRecord,
    ) -> Result<ThreadAccess> {
        if !self.readable_now(principal, &entry, &record).await? {
            return Err(Error::NotFound(format!("{} {}", entry.decl.name, record.system.id)));
        }
        // People brought in by a share (mentioned, assigned) may answer in the thread even
        // without a `comment` grant on the whole type.
        let may_post = self.reach(principal, &entry, &Action::Comment).matches(&entry, &record)
            || shares::is_shared_now(&self.db, &entry.decl.name, record.system.id, principal.id).await?;
        Ok(ThreadAccess {
            place: Place::Record { entry, record: Box::new(record) },
            visibilities: visible_to(principal),
            may_post,
        })
    }

    /// Access to a thread found by id (a message's thread); `NotFound` when the principal
    /// may not read it.
    pub(super) async fn thread_access(&self, principal: &Principal, thread: StoredThread) -> Result<ThreadAccess> {
        match (&thread.type_name, thread.record_id) {
            (Some(type_name), Some(record_id)) if thread.kind == "record" => {
                let entry = self.entry(type_name).map_err(|_| thread_not_found(thread.id))?;
                let record = rows::get(Source::Db(&self.db), &entry.spec, record_id, false)
                    .await?
                    .ok_or_else(|| thread_not_found(thread.id))?;
                self.access_to_record(principal, entry, record).await.map_err(|e| match e {
                    Error::NotFound(_) => thread_not_found(thread.id),
                    other => other,
                })
            }
            _ => self.channel_access(principal, thread).await,
        }
    }

    /// Channels are read and written by their members only.
    pub(super) async fn channel_access(&self, principal: &Principal, thread: StoredThread) -> Result<ThreadAccess> {
        if !principal.is_system() && !store::is_member(&self.db, thread.id, principal.id).await? {
            return Err(thread_not_found(thread.id));
        }
        Ok(ThreadAccess {
            may_post: thread.archived_at.is_none(),
            visibilities: visible_to(principal),
            place: Place::Channel(thread),
        })
    }
}

pub(super) fn thread_not_found(id: Uuid) -> Error {
    Error::NotFound(format!("thread {id}"))
}
