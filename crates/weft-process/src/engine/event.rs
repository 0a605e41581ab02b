//! What happens to an instance from outside ([`Event`]) and what the engine asks the outside
//! world to do in return ([`Effect`]). The engine does no I/O: the persistence layer stores
//! the new state and the effects in one transaction, then carries the effects out, each
//! keyed by its [`WaitId`] so a retry after a crash does not do it twice.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;

use super::state::WaitId;
use crate::model::{AssignmentRule, Form};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// A user task was completed; an approval is `outputs: {"approved": true|false, …}`,
    /// which multi-instance activities count into `nrOfApproved` / `nrOfRejected`.
    TaskCompleted {
        task: WaitId,
        outputs: Map<String, Json>,
    },
    /// A job (service task, business rule task) finished.
    JobCompleted {
        job: WaitId,
        outputs: Map<String, Json>,
    },
    /// A job failed for good (retries are the job worker's business). With an error code it
    /// is a BPMN error an error boundary event can catch; without, an incident.
    JobFailed {
        job: WaitId,
        error_code: Option<String>,
        message: String,
    },
    TimerFired {
        timer: WaitId,
    },
    /// A message published to this instance; it goes to the oldest matching subscription.
    MessageReceived {
        name: String,
        correlation: Option<String>,
        payload: Map<String, Json>,
    },
    /// A child instance started by a call activity completed with these variables.
    ChildCompleted {
        child: WaitId,
        outputs: Map<String, Json>,
    },
    /// A child instance ended with an uncaught error (forwarded from its `Incident` with an
    /// error code) or was cancelled.
    ChildFailed {
        child: WaitId,
        error_code: Option<String>,
        message: String,
    },
    /// 退回: cancel everything in the scope of `element` and start again there.
    ReturnTo {
        element: String,
    },
    /// 加签 before: `approver` gets the open user task `task`'s step first; once they have
    /// answered, a task at the same step comes back to `then` (its holder now). A rejection
    /// by the added approver is the step's rejection. `task` itself closes without a cancel
    /// effect: the caller records it as handed on, in the same step.
    AddApproverBefore {
        task: WaitId,
        approver: String,
        then: String,
    },
    /// 加签 after: once the holder of `task` has answered (unless they reject), `approver`
    /// gets a task at the same step before the flow moves on. When `task` is one iteration of
    /// a multi-instance countersign, the countersign gets one more iteration for `approver`
    /// instead, counted like the others.
    AddApproverAfter {
        task: WaitId,
        approver: String,
    },
    /// 撤回: the starter takes the request back; whether they may is the caller's check.
    Withdraw,
    Cancel,
    /// Sets process-level variables (an admin fixing data, the bound record changing).
    SetVariables {
        variables: Map<String, Json>,
    },
    /// Takes a stuck token through its element again.
    RetryIncident {
        incident: WaitId,
    },
}

/// Who should do a user task, as the definition says; the façade resolves rules and groups
/// against the org directory, applies out-of-office delegation, and refuses self-approval
/// when forbidden.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Assignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidate_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidate_users: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<AssignmentRule>,
    #[serde(default)]
    pub forbid_self_approval: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Cancelled,
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    CreateUserTask {
        id: WaitId,
        element: String,
        name: Option<String>,
        assignment: Assignment,
        #[serde(with = "time::serde::rfc3339::option")]
        due: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339::option")]
        follow_up: Option<OffsetDateTime>,
        form: Option<Form>,
        /// The task's input mappings and the variables of its enclosing iterations and
        /// sub-processes (the approver of this countersign instance, say); process-level
        /// variables are in the instance.
        inputs: Map<String, Json>,
    },
    CancelUserTask {
        id: WaitId,
    },
    ScheduleTimer {
        id: WaitId,
        element: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    CancelTimer {
        id: WaitId,
    },
    Subscribe {
        id: WaitId,
        element: String,
        message: String,
        correlation: Option<String>,
    },
    Unsubscribe {
        id: WaitId,
    },
    /// Work for a job worker: `kind` is the task type (`weft:transition`, `weft:webhook`,
    /// `weft:decision` with `decisionId` and `resultVariable` headers, …).
    RunJob {
        id: WaitId,
        element: String,
        kind: String,
        headers: Vec<(String, String)>,
        inputs: Map<String, Json>,
        retries: Option<u32>,
    },
    CancelJob {
        id: WaitId,
    },
    /// Start an instance of `process`; report its end with `ChildCompleted` or `ChildFailed`
    /// naming `id`.
    StartChildInstance {
        id: WaitId,
        element: String,
        process: String,
        variables: Map<String, Json>,
    },
    CancelChildInstance {
        id: WaitId,
    },
    /// A message end or throw event: deliver it to whichever instance subscribes.
    PublishMessage {
        element: String,
        message: String,
        correlation: Option<String>,
        variables: Map<String, Json>,
    },
    /// The instance reached its end; for a child, forward as `ChildCompleted`.
    Completed {
        outputs: Map<String, Json>,
    },
    /// The instance was cancelled or withdrawn; for a child, the parent is told by whoever
    /// cancelled it.
    Terminated {
        reason: EndReason,
    },
    /// A token is stuck and needs an admin. `error_code` is set for a BPMN error nothing
    /// caught; in a child instance, forward it to the parent as `ChildFailed`.
    Incident {
        id: WaitId,
        element: String,
        message: String,
        error_code: Option<String>,
    },
}
