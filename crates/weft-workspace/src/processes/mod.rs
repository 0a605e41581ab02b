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
mod migrate;
mod start;
mod start_timers;
mod step;
mod tasks;
mod timeline;

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
pub use jobs::IncidentView;
pub use jobs::JobRun;
pub use messages::Delivery;
pub use metrics::{ProcessMetrics, StepMetrics};
pub use migrate::{MigrateInstances, MigrationOutcome};
pub use start::{ProcessStarts, StartProcess};
pub use tasks::TaskView;
/// Business calendars' declaration format (re-exported for the HTTP layer).
pub use weft_calendar::CalendarDef;

/// The runtime's in-memory part: compiled deployments by definition id, the business
/// calendars, and the clock every step reads (tests freeze and advance it).
#[derive(Debug, Default)]
pub struct ProcessState {
    clock: Clock,
    deployments: RwLock<HashMap<Uuid, Arc<Deployment>>>,
    calendars: calendars::CalendarCache,
    /// Names this node in job locks.
    worker: String,
    /// How long a claimed job is held before another worker may take it over, in seconds
    /// (0: the default, five minutes).
    job_lock_secs: std::sync::atomic::AtomicU64,
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
    /// Where the instance stands: one entry per token.
    pub tokens: Vec<TokenView>,
    /// False when the caller may see the instance but not its data (`variables` is then
    /// empty): a guest, or a participant who may not read the bound record.
    pub variables_visible: bool,
}

/// One token of an instance: the element it is at and how it waits there.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenView {
    pub element: String,
    /// `waiting`, `joining` or `incident`.
    pub state: String,
    pub entered_at: OffsetDateTime,
}

/// A deployed version of a process.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionView {
    pub id: Uuid,
    pub key: String,
    pub version: i64,
    pub name: String,
    pub record_type: Option<String>,
    pub start_on: Option<String>,
    /// Declared variables, name to type.
    pub variables: std::collections::BTreeMap<String, String>,
    pub checksum: String,
    pub deployed_at: OffsetDateTime,
    pub deployed_by: String,
}

fn definition_view(d: &store::StoredDefinition) -> DefinitionView {
    DefinitionView {
        id: d.id,
        key: d.process_key.clone(),
        version: d.version,
        name: d.name.clone(),
        record_type: d.record_type.clone(),
        start_on: d.start_on.clone(),
        variables: serde_json::from_str(&d.variables).unwrap_or_default(),
        checksum: d.checksum.clone(),
        deployed_at: d.deployed_at,
        deployed_by: d.deployed_by.clone(),
    }
}

impl Workspace {
    /// Uses `clock` for every process decision (timers, due dates, delegation days).
    pub fn with_process_clock(mut self, clock: Clock) -> Self {
        let lock = self.processes.job_lock_secs.load(std::sync::atomic::Ordering::Relaxed);
        self.processes = Arc::new(ProcessState::new(clock));
        self.processes.job_lock_secs.store(lock, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// How long a claimed job is held before a worker may take it over (`processes.job_lock_secs`):
    /// a node that dies mid-job leaves it locked that long. Longer than any job may run.
    pub fn with_process_job_lock(self, lock: std::time::Duration) -> Self {
        self.processes.job_lock_secs.store(lock.as_secs().max(1), std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// The job lock in force.
    fn job_lock(&self) -> time::Duration {
        match self.processes.job_lock_secs.load(std::sync::atomic::Ordering::Relaxed) {
            0 => time::Duration::minutes(5),
            // At most a day: a lock is added to the clock, which must not overflow.
            secs => time::Duration::seconds(i64::try_from(secs.min(86_400)).unwrap_or(86_400)),
        }
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

    /// The deployed processes: every version of `key`, or the newest version of each
    /// process (staff: definitions are internal).
    pub async fn process_definitions(
        &self,
        principal: &weft_model::Principal,
        key: Option<&str>,
    ) -> Result<Vec<DefinitionView>> {
        self.require_staff(principal)?;
        let all = store::all_definitions(&self.db, key).await?;
        let mut out: Vec<DefinitionView> = Vec::new();
        for d in &all {
            if key.is_none() && out.last().is_some_and(|last| last.key == d.process_key) {
                continue;
            }
            out.push(definition_view(d));
        }
        if let Some(key) = key
            && out.is_empty()
        {
            return Err(Error::NotFound(format!("process `{key}`")));
        }
        Ok(out)
    }

    /// One version of a process and its BPMN XML (staff).
    pub async fn process_definition(
        &self,
        principal: &weft_model::Principal,
        key: &str,
        version: i64,
    ) -> Result<(DefinitionView, String)> {
        self.require_staff(principal)?;
        let stored = store::definition_version(&self.db, key, version)
            .await?
            .ok_or_else(|| Error::NotFound(format!("process `{key}` version {version}")))?;
        Ok((definition_view(&stored), stored.xml))
    }

    /// One instance. An admin, the starter, and whoever stands to one of its tasks
    /// (assignee, delegate, candidate) may look; anyone else is told it does not exist.
    /// Its variables are shown to an admin, to the member who started it, and to members who
    /// may read the bound record (an unbound instance's to its participants); never to a
    /// guest.
    pub async fn process_instance(&self, principal: &weft_model::Principal, id: Uuid) -> Result<InstanceView> {
        let stored = self.readable_instance(principal, id).await?;
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        let admin = self.is_admin(principal);
        let starter = stored.started_by == Some(me);
        let guest = matches!(principal.kind, weft_model::PrincipalKind::Guest { .. });
        let visible = !guest
            && (admin
                || starter
                || match (&stored.record_type, stored.record_id) {
                    (Some(type_name), Some(record)) => self.get(principal, type_name, record).await.is_ok(),
                    _ => true,
                });
        let mut out = view(&stored)?;
        if !visible {
            out.variables.clear();
            out.variables_visible = false;
        }
        Ok(out)
    }

    /// Instance `id` if `principal` may see it (an admin, its starter, or someone who stands
    /// to it: see `stands_to_instance`); `NotFound` otherwise, as if it did not exist.
    pub(super) async fn readable_instance(
        &self,
        principal: &weft_model::Principal,
        id: Uuid,
    ) -> Result<store::StoredInstance> {
        let stored =
            store::instance(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("process instance {id}")))?;
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        if !self.is_admin(principal) && stored.started_by != Some(me) && !self.stands_to_instance(principal, id).await?
        {
            return Err(Error::NotFound(format!("process instance {id}")));
        }
        Ok(stored)
    }

    /// 我发起的: the instances the principal started (or the person they act for), newest
    /// first, at most 200; `status` narrows them (`active`, `completed`, `cancelled`,
    /// `withdrawn`). Partner contacts see them without variables.
    pub async fn my_processes(
        &self,
        principal: &weft_model::Principal,
        status: Option<&str>,
    ) -> Result<Vec<InstanceView>> {
        if let Some(status) = status
            && !matches!(status, "active" | "completed" | "cancelled" | "withdrawn")
        {
            return Err(Error::BadRequest(format!(
                "`{status}` is not a status (active, completed, cancelled, withdrawn)"
            )));
        }
        let me = principal.on_behalf_of.unwrap_or(principal.id);
        let guest = matches!(principal.kind, weft_model::PrincipalKind::Guest { .. });
        store::instances_started_by(&self.db, me, status, 200)
            .await?
            .iter()
            .map(|stored| {
                let mut out = view(stored)?;
                if guest {
                    out.variables.clear();
                    out.variables_visible = false;
                }
                Ok(out)
            })
            .collect()
    }

    /// The instances bound to a record the principal may read.
    pub async fn processes_of_record(
        &self,
        principal: &weft_model::Principal,
        type_name: &str,
        record: Uuid,
    ) -> Result<Vec<InstanceView>> {
        self.get(principal, type_name, record).await?;
        let guest = matches!(principal.kind, weft_model::PrincipalKind::Guest { .. });
        store::instances_of_record(&self.db, type_name, record)
            .await?
            .iter()
            .map(|stored| {
                let mut out = view(stored)?;
                if guest {
                    out.variables.clear();
                    out.variables_visible = false;
                    out.incidents.clear();
                }
                Ok(out)
            })
            .collect()
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
        tokens: state
            .tokens
            .iter()
            .filter(|t| !matches!(t.state, weft_process::TokenState::Moving))
            .map(|t| TokenView {
                element: t.element.clone(),
                state: match t.state {
                    weft_process::TokenState::Joining { .. } => "joining",
                    weft_process::TokenState::Incident { .. } => "incident",
                    _ => "waiting",
                }
                .into(),
                entered_at: t.entered_at,
            })
            .collect(),
        variables: state.variables,
        variables_visible: true,
    })
}
