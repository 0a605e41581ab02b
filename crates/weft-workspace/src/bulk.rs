//! Bulk actions of the list page: one lifecycle transition (with its inputs) or a delete,
//! applied to many selected records. Each record goes through the ordinary command path on
//! its own (`transition`, `delete`: access, guards, the version the caller saw, its own
//! transaction, history, audit and event), so one refusal never undoes or hides another:
//! the answer is one outcome per record, in the order asked.

use futures::StreamExt;
use serde_json::{Map, Value as Json};
use uuid::Uuid;
use weft_model::Principal;

use crate::records::RecordView;
use crate::{Error, Result, Workspace};

/// Most records in one bulk request (the page shows at most a few hundred rows).
pub const MAX_BULK_ITEMS: usize = 500;
/// Commands in flight at once: enough for the SQLite writer to group them into one
/// commit, few enough not to crowd out other users.
const IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum BulkCommand {
    /// Runs the transition `name` with the same inputs on every record.
    Transition { name: String, inputs: Map<String, Json> },
    /// The restorable delete.
    Delete,
}

/// One selected record: its id and the version the caller saw (`None`: any version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkTarget {
    pub id: Uuid,
    pub version: Option<i64>,
}

impl Workspace {
    /// Applies `command` to each target through the normal command path; one result per
    /// target in the order given (`Ok(Some(view))` after a transition, `Ok(None)` after a
    /// delete). Only a request that cannot start (unknown type, too many or repeated
    /// targets) is an error as a whole.
    pub async fn bulk_apply(
        &self,
        principal: &Principal,
        type_name: &str,
        command: &BulkCommand,
        targets: &[BulkTarget],
    ) -> Result<Vec<Result<Option<RecordView>>>> {
        self.entry(type_name)?;
        if targets.is_empty() {
            return Err(Error::BadRequest("select at least one record".into()));
        }
        if targets.len() > MAX_BULK_ITEMS {
            return Err(Error::BadRequest(format!(
                "{} records selected; one bulk action takes at most {MAX_BULK_ITEMS}",
                targets.len()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = targets.iter().find(|t| !seen.insert(t.id)) {
            return Err(Error::BadRequest(format!("record {} is selected twice", twice.id)));
        }
        let results = futures::stream::iter(targets.iter().copied())
            .map(|target| async move {
                match command {
                    BulkCommand::Transition { name, inputs } => self
                        .transition(principal, type_name, target.id, name, target.version, inputs.clone())
                        .await
                        .map(Some),
                    BulkCommand::Delete => {
                        self.delete(principal, type_name, target.id, target.version).await.map(|()| None)
                    }
                }
            })
            .buffered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
        Ok(results)
    }
}
