//! Processes bound to records, durable: BPMN definitions deployed and versioned, instances
//! run by the pure engine (`weft-process`), their state and effects persisted through the
//! one write path.
//!
//! Every command (start, a task completed, a timer fired, a job done) is one *step*
//! (`step`): load the instance and its revision, let the engine apply the event, resolve
//! what it asks for (assignees, due dates), then in ONE transaction save the new state if the
//! revision has not moved, insert the effects as rows keyed by their wait id (insert or
//! ignore), close the task or job that caused the step, record finished steps, and append an
//! audit entry and a `process.*` outbox event. A step whose transaction was lost replays to
//! the same state and ids, so nothing is done twice; an event for a wait already handled is
//! refused by the engine (`UnknownWait`) and writes nothing.
//!
//! Work between instances (starting a call activity's child, telling the parent it ended)
//! and everything slow (timers, service tasks) goes through `process_jobs`, run by
//! `Workspace::run_due_jobs` (`jobs`).

mod assign;
mod calendars;
mod deploy;
mod jobs;
mod messages;
mod metrics;
mod start;
mod step;
mod tasks;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_process::Deployment;
use weft_store::kernel::processes as store;

use crate::identity::Clock;
use crate::{Error, Result, Workspace};

pub use deploy::{DeployProcess, DeployedProcess};
pub use jobs::JobRun;
pub use messages::Delivery;
pub use metrics::{ProcessMetrics, StepMetrics};
pub use start::{ProcessStarts, StartProcess};
pub use tasks::TaskView;

/// The runtime's in-memory part: compiled deployments by definition id, the business
/// calendars, and the clock every step reads (tests freeze and advance it).
#[derive(Debug, Default)]
pub struct ProcessState {
    clock: Clock,
    deployments: RwLock<HashMap<Uuid, Arc<Deployment>>>,
    calendars: calendars::CalendarCache,
    /// Names this node in job locks.
    worker: String,
}

impl ProcessState {
    fn new(clock: Clock) -> ProcessState {
        ProcessState { clock, worker: format!("worker-{}", Uuid::now_v7()), ..ProcessState::default() }
    }
}

/// An instance as callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    pub id: Uuid,
    pub process_key: String,
    pub version: i64,
    /// `active`, `completed`, `cancelled` or `withdrawn`.
    pub status: String,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub parent_instance: Option<Uuid>,
    pub started_by: Option<Uuid>,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub variables: Map<String, Json>,
    /// Incidents waiting for an admin: (id, element, message).
    pub incidents: Vec<(String, String, String)>,
}

impl Workspace {
    /// Uses `clock` for every process decision (timers, due dates, delegation days).
    pub fn with_process_clock(mut self, clock: Clock) -> Self {
        self.processes = Arc::new(ProcessState::new(clock));
        self
    }

    /// The time process steps are taken at.
    pub fn process_now(&self) -> OffsetDateTime {
        self.processes.clock.now()
    }

    /// The compiled deployment of a stored definition (cached).
    async fn deployment(&self, definition: Uuid) -> Result<Arc<Deployment>> {
        if let Some(d) = self.processes.deployments.read().ok().and_then(|m| m.get(&definition).cloned()) {
            return Ok(d);
        }
        let stored = store::definition(&self.db, definition)
            .await?
            .ok_or_else(|| Error::Internal(format!("process definition {definition} is missing")))?;
        let variables = serde_json::from_str(&stored.variables)
            .map_err(|e| Error::Internal(format!("stored process variables are unreadable: {e}")))?;
        let env = self.environment(stored.record_type.as_deref(), &variables, &[]).await?;
        let deployment = weft_process::deploy(&stored.xml, &env).map_err(|p| {
            Error::Internal(format!("stored process `{}` no longer deploys: {p:?}", stored.process_key))
        })?;
        let deployment = Arc::new(deployment);
        if let Ok(mut cache) = self.processes.deployments.write() {
            cache.insert(definition, deployment.clone());
        }
        Ok(deployment)
    }

    /// One instance (the starter, an admin, or anyone with a task in it may look).
    pub async fn process_instance(&self, principal: &weft_model::Principal, id: Uuid) -> Result<InstanceView> {
        let stored =
            store::instance(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("process instance {id}")))?;
        if !self.is_admin(principal) && stored.started_by != Some(principal.id) {
            let tasks = store::tasks_of_instance(&self.db, id).await?;
            if !tasks.iter().any(|t| t.assignee == Some(principal.id)) {
                return Err(Error::NotFound(format!("process instance {id}")));
            }
        }
        view(&stored)
    }

    /// The instances bound to a record the principal may read.
    pub async fn processes_of_record(
        &self,
        principal: &weft_model::Principal,
        type_name: &str,
        record: Uuid,
    ) -> Result<Vec<InstanceView>> {
        self.get(principal, type_name, record).await?;
        store::instances_of_record(&self.db, type_name, record).await?.iter().map(view).collect()
    }

    /// The steps an instance finished, for metrics and the timeline:
    /// (element, started, ended, outcome).
    pub async fn process_steps(
        &self,
        principal: &weft_model::Principal,
        id: Uuid,
    ) -> Result<Vec<(String, OffsetDateTime, OffsetDateTime, String)>> {
        self.process_instance(principal, id).await?;
        Ok(store::steps_of_instance(&self.db, id)
            .await?
            .into_iter()
            .map(|s| (s.element, s.started_at, s.ended_at, s.outcome))
            .collect())
    }
}

fn view(stored: &store::StoredInstance) -> Result<InstanceView> {
    let state = step::decode_state(&stored.state)?;
    Ok(InstanceView {
        id: stored.id,
        process_key: stored.process_key.clone(),
        version: stored.version,
        status: stored.status.clone(),
        record_type: stored.record_type.clone(),
        record_id: stored.record_id,
        parent_instance: stored.parent_instance,
        started_by: stored.started_by,
        started_at: stored.started_at,
        ended_at: stored.ended_at,
        incidents: state.incidents().map(|(id, e, m)| (id.to_string(), e.to_owned(), m.to_owned())).collect(),
        variables: state.variables,
    })
}
