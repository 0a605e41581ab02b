//! An instance's state: everything the engine needs to take the next step, serialisable as
//! one compact JSON document that the persistence layer stores per instance.
//!
//! Elements are named by their BPMN ids (not indices) so the state stays readable, survives
//! a reordering of the XML, and can be mapped element by element when an admin migrates
//! instances to a new version. Everything that needs an id outside the engine (tasks, jobs,
//! timers, subscriptions, child instances, incidents) gets `seq`, a per-instance counter, so
//! replaying the same event on the same state hands out the same ids.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::timer::CycleLeft;

/// The version of the state's shape; a newer Weft migrates older states when it reads them.
pub const STATE_FORMAT: u16 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub format: u16,
    pub id: Uuid,
    /// The id of the process (in its deployment) this instance runs.
    pub process: String,
    pub status: Status,
    /// The next number handed out to a token, scope, wait or incident.
    pub seq: u32,
    /// The process-level variables; sub-processes and multi-instance iterations keep their
    /// own in [`Scope::locals`].
    pub variables: Map<String, Json>,
    pub scopes: Vec<Scope>,
    pub tokens: Vec<Token>,
    pub waits: Vec<Wait>,
    /// Steps that ended, oldest first, for metrics and the record's timeline; steps under
    /// way are the tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Step>,
}

impl Instance {
    /// The id the outside world knows an open wait or incident by.
    pub fn wait_id(&self, seq: u32) -> WaitId {
        WaitId { instance: self.id, seq }
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// Every open user task, job, timer, subscription and child instance, with its id.
    pub fn open_waits(&self) -> impl Iterator<Item = (WaitId, &Wait)> {
        self.waits.iter().map(|w| (self.wait_id(w.id), w))
    }

    /// Incidents waiting for an admin: the stuck element and why.
    pub fn incidents(&self) -> impl Iterator<Item = (WaitId, &str, &str)> {
        self.tokens.iter().filter_map(|t| match &t.state {
            TokenState::Incident { id, message } => Some((self.wait_id(*id), t.element.as_str(), message.as_str())),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    /// Reached its end (a terminate end event included).
    Completed,
    /// Cancelled by an admin or the system.
    Cancelled,
    /// Withdrawn by the person who started it.
    Withdrawn,
}

/// Where tokens live and variables are looked up: the process, an embedded sub-process, the
/// body of a multi-instance activity, or one of its iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// The token of the activity this scope belongs to (none for the process and for
    /// iterations, which belong to their body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u32>,
    pub kind: ScopeKind,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub locals: Map<String, Json>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Process,
    SubProcess,
    MultiInstance(Box<Loop>),
    Iteration { index: u32 },
}

/// A multi-instance body's counters: what `nrOfInstances` and friends read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loop {
    pub total: u32,
    pub started: u32,
    pub completed: u32,
    /// Iterations whose outcome carried `approved: true` / `approved: false`.
    #[serde(default)]
    pub approved: u32,
    #[serde(default)]
    pub rejected: u32,
    /// The items still to hand out (sequential only; parallel hands them all out at once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Json>,
    /// `outputElement` of each finished iteration, by index (when an output collection is
    /// declared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<Json>,
    /// Iterations added by 加签 (an approver added to the countersign), by index: whom that
    /// iteration's task goes to, whatever the definition's assignment says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub added: BTreeMap<u32, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub id: u32,
    /// The element it is at.
    pub element: String,
    pub scope: u32,
    pub state: TokenState,
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub entered_at: OffsetDateTime,
    /// Whom the user task here goes to instead of the definition's assignment: an approver
    /// added by 加签, or the holder the task comes back to after them. Cleared when the token
    /// moves on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Approvers added after the current one (加签 after) still to ask at this step, in
    /// order; a rejection skips them. Cleared when the token moves on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Moving between elements during one step; never seen outside the engine.
    Moving,
    /// At an activity or event that waits (for a task, a job, a timer, a message, a child,
    /// or the scope it opened).
    Waiting,
    /// Arrived at a parallel or inclusive join over this flow, waiting for the others.
    Joining { via: String },
    /// Stuck: an expression failed, no flow could be taken, an error was not caught. An
    /// admin retries it with `Event::RetryIncident`.
    Incident { id: u32, message: String },
}

/// Something the instance waits for from outside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wait {
    pub id: u32,
    /// The token it belongs to: the activity's (its task, job or child, and its boundary
    /// events), the catch event's, or the event-based gateway's.
    pub token: u32,
    /// The element that reacts: the task, the catch event, or the boundary event.
    pub element: String,
    pub kind: WaitKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    UserTask,
    Job,
    Timer {
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        at: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cycle: Option<CycleLeft>,
    },
    Message {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correlation: Option<String>,
    },
    Child,
}

impl WaitKind {
    pub fn name(&self) -> &'static str {
        match self {
            WaitKind::UserTask => "a user task",
            WaitKind::Job => "a job",
            WaitKind::Timer { .. } => "a timer",
            WaitKind::Message { .. } => "a message subscription",
            WaitKind::Child => "a child instance",
        }
    }
}

/// A step that ended: how long an element held a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub element: String,
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub ended_at: OffsetDateTime,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    /// Ended early: interrupted by a boundary event, a terminate end, a return to an
    /// earlier step, a withdrawal or a cancellation.
    Cancelled,
}

/// The id of a wait (task, job, timer, subscription, child) or an incident: the instance and
/// its per-instance number. It is the same on every replay of the same step, so the
/// persistence layer can use it as the idempotency key of the effect it names. Written as
/// `<instance>.<seq>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WaitId {
    pub instance: Uuid,
    pub seq: u32,
}

impl fmt::Display for WaitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.instance, self.seq)
    }
}

impl FromStr for WaitId {
    type Err = String;

    fn from_str(s: &str) -> Result<WaitId, String> {
        let bad = || format!("`{s}` is not a wait id such as <instance uuid>.<number>");
        let (instance, seq) = s.rsplit_once('.').ok_or_else(bad)?;
        Ok(WaitId { instance: Uuid::parse_str(instance).map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
    }
}
