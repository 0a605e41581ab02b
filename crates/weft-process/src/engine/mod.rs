//! The engine: a deterministic token machine. Given a deployment, an instance's state, one
//! event and the current time, it moves tokens as far as they go without waiting and returns
//! the effects for the outside world; the same inputs always give the same state, effects
//! and ids.
//!
//! It never panics and never loops for ever: a bad event is an [`EngineError`] returned
//! before anything changes; trouble while moving (an expression failing, no way out of a
//! gateway, an uncaught error, a loop without a wait) becomes an incident on the token
//! concerned, and the rest of the instance carries on.

mod activity;
mod event;
mod gateway;
mod handle;
mod interrupt;
mod migrate;
mod multi;
mod run;
mod state;
mod vars;

pub use event::{Assignment, Effect, EndReason, Event};
pub use migrate::{MigrationProblem, Moved, migrate};
pub use multi::MAX_ITERATIONS;
pub use state::{
    Instance, Loop, Outcome, STATE_FORMAT, Scope, ScopeKind, Status, Step, Token, TokenState, Wait, WaitId, WaitKind,
};

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::deploy::Deployment;
use crate::model::ElementKind;
use crate::timer::{Elapsed, WorkingTime};
use run::Run;

/// Why an event was refused; the instance is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the deployment has no executable process `{0}`")]
    UnknownProcess(String),
    #[error("process `{process}` has no start event {start}")]
    NoStartEvent { process: String, start: String },
    #[error("the instance state has format {0}, which this engine does not read")]
    UnsupportedFormat(u16),
    #[error("the instance is no longer active ({0:?})")]
    NotActive(Status),
    /// Nothing open has this id: it was already handled (a replayed event), cancelled, or
    /// never existed. Callers replaying after a crash can ignore it.
    #[error("no open wait {0}")]
    UnknownWait(WaitId),
    #[error("{id} is {found}, not {expected}")]
    WrongWait { id: WaitId, expected: &'static str, found: &'static str },
    /// No subscription waits for this message; the caller may buffer it.
    #[error("no subscription waits for message `{name}` with correlation {correlation:?}")]
    NoSubscription { name: String, correlation: Option<String> },
    #[error("cannot return to `{element}`: {reason}")]
    CannotReturn { element: String, reason: String },
    #[error("cannot add an approver: {0}")]
    CannotAddApprover(String),
    #[error("no incident {0}")]
    UnknownIncident(WaitId),
    /// The state names an element, token or scope the definition or state does not have:
    /// it belongs to another version, or was altered.
    #[error("the instance state is inconsistent: {0}")]
    Corrupt(String),
}

/// How to start an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The new instance's id; every wait id derives from it.
    pub instance: Uuid,
    pub process: String,
    /// The start event to use: `None` for the none start event, or the id of a message or
    /// timer start event that fired.
    pub start_event: Option<String>,
    pub variables: Map<String, Json>,
}

impl Start {
    pub fn new(instance: Uuid, process: impl Into<String>, variables: Map<String, Json>) -> Start {
        Start { instance, process: process.into(), start_event: None, variables }
    }
}

/// The engine's settings: how delays count time, and how much one event may do.
#[derive(Clone, Copy)]
pub struct Engine<'w> {
    pub(crate) working_time: &'w dyn WorkingTime,
    /// Most elements entered while handling one event; beyond, the remaining tokens become
    /// incidents (a loop of gateways without a wait state would otherwise never end).
    pub max_steps: u32,
}

impl Default for Engine<'static> {
    fn default() -> Engine<'static> {
        Engine { working_time: &Elapsed, max_steps: 10_000 }
    }
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("max_steps", &self.max_steps).finish_non_exhaustive()
    }
}

impl<'w> Engine<'w> {
    pub fn new() -> Engine<'static> {
        Engine::default()
    }

    /// Counts timer delays with `working_time` (a business calendar).
    pub fn with_working_time(working_time: &'w dyn WorkingTime) -> Engine<'w> {
        Engine { working_time, max_steps: 10_000 }
    }

    /// Creates an instance and runs it to its first waits.
    pub fn start(
        &self,
        deployment: &Deployment,
        start: Start,
        now: OffsetDateTime,
    ) -> Result<(Instance, Vec<Effect>), EngineError> {
        let (process, plan) = deployment
            .process(&start.process)
            .filter(|(p, _)| p.executable)
            .ok_or_else(|| EngineError::UnknownProcess(start.process.clone()))?;
        let first = match &start.start_event {
            None => plan.none_starts.get(&None).copied(),
            Some(id) => plan.elements.get(id.as_str()).copied().filter(|i| {
                process
                    .elements
                    .get(*i)
                    .is_some_and(|e| e.parent.is_none() && matches!(e.kind, ElementKind::StartEvent(_)))
            }),
        };
        let Some(first) = first.and_then(|i| process.elements.get(i)) else {
            return Err(EngineError::NoStartEvent {
                process: start.process,
                start: start.start_event.map_or_else(|| "(none start)".to_owned(), |s| format!("`{s}`")),
            });
        };
        let mut instance = Instance {
            format: STATE_FORMAT,
            id: start.instance,
            process: start.process,
            status: Status::Active,
            seq: 1,
            variables: start.variables,
            scopes: vec![Scope { id: 0, parent: None, token: None, kind: ScopeKind::Process, locals: Map::new() }],
            tokens: Vec::with_capacity(2),
            waits: Vec::with_capacity(2),
            history: Vec::new(),
        };
        let mut run = Run::new(self, deployment, process, plan, &mut instance, now);
        run.begin(&first.id);
        let effects = run.finish();
        Ok((instance, effects))
    }

    /// Applies one event. On `Err` the instance is exactly as it was.
    pub fn apply(
        &self,
        deployment: &Deployment,
        instance: &mut Instance,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<Vec<Effect>, EngineError> {
        if instance.format != STATE_FORMAT {
            return Err(EngineError::UnsupportedFormat(instance.format));
        }
        if instance.status != Status::Active {
            return Err(EngineError::NotActive(instance.status));
        }
        let (process, plan) = deployment
            .process(&instance.process)
            .ok_or_else(|| EngineError::UnknownProcess(instance.process.clone()))?;
        let mut run = Run::new(self, deployment, process, plan, instance, now);
        run.handle(event)?;
        Ok(run.finish())
    }
}
