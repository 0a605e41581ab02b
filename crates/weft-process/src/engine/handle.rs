//! Events from outside, each checked in full before the state is touched, so a refused
//! event leaves the instance exactly as it was.

use serde_json::{Map, Value as Json};

use super::event::{EndReason, Event};
use super::run::Run;
use super::state::{ScopeKind, Status, TokenState, WaitId, WaitKind};
use super::{Effect, EngineError};
use crate::model::{BoundaryTrigger, Element, ElementKind};
use crate::timer::CycleLeft;

/// Which kind of wait an event answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    UserTask,
    Job,
    Timer,
    Child,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::UserTask => "a user task",
            Expect::Job => "a job",
            Expect::Timer => "a timer",
            Expect::Child => "a child instance",
        }
    }

    fn matches(self, kind: &WaitKind) -> bool {
        matches!(
            (self, kind),
            (Expect::UserTask, WaitKind::UserTask)
                | (Expect::Job, WaitKind::Job)
                | (Expect::Timer, WaitKind::Timer { .. })
                | (Expect::Child, WaitKind::Child)
        )
    }
}

impl<'a> Run<'a> {
    pub(crate) fn handle(&mut self, event: Event) -> Result<(), EngineError> {
        match event {
            Event::TaskCompleted { task, outputs } => {
                let (w, t, e) = self.find_wait(task, Expect::UserTask)?;
                self.remove_wait(w);
                // A rejection ends the step: approvers added after (加签) are not asked.
                let rejected = outputs.get("approved") == Some(&Json::Bool(false));
                if self.apply_outputs(t, e, outputs, true) {
                    match &e.kind {
                        ElementKind::UserTask(def) if !rejected && self.next_added_approver(t) => {
                            self.user_task(t, e, def);
                        }
                        _ => self.leave(t, true),
                    }
                }
            }
            Event::AddApproverBefore { task, approver, then } => {
                let (w, t, e) = self.find_wait(task, Expect::UserTask)?;
                let ElementKind::UserTask(def) = &e.kind else {
                    return Err(EngineError::Corrupt(format!("user task {task} is at `{}`, not a user task", e.id)));
                };
                self.remove_wait(w);
                if let Some(tok) = self.token_mut(t) {
                    tok.assignee = Some(approver);
                    tok.then.insert(0, then);
                }
                self.user_task(t, e, def);
            }
            Event::AddApproverAfter { task, approver } => {
                let (_, t, e) = self.find_wait(task, Expect::UserTask)?;
                if self.is_iteration_token(t) {
                    self.add_iteration(t, e, approver)?;
                } else if let Some(tok) = self.token_mut(t) {
                    // Right after the current holder, before approvers added earlier.
                    tok.then.insert(0, approver);
                }
            }
            Event::JobCompleted { job, outputs } => {
                let (w, t, e) = self.find_wait(job, Expect::Job)?;
                self.remove_wait(w);
                if self.apply_outputs(t, e, outputs, true) {
                    self.leave(t, true);
                }
            }
            Event::JobFailed { job, error_code, message } => {
                let (w, t, _) = self.find_wait(job, Expect::Job)?;
                self.remove_wait(w);
                self.fail(t, error_code, message);
            }
            Event::ChildCompleted { child, outputs } => {
                let (w, t, e) = self.find_wait(child, Expect::Child)?;
                let merge_all = match &e.kind {
                    ElementKind::CallActivity(call) => call.propagate_child,
                    _ => true,
                };
                self.remove_wait(w);
                if self.apply_outputs(t, e, outputs, merge_all) {
                    self.leave(t, true);
                }
            }
            Event::ChildFailed { child, error_code, message } => {
                let (w, t, _) = self.find_wait(child, Expect::Child)?;
                self.remove_wait(w);
                self.fail(t, error_code, message);
            }
            Event::TimerFired { timer } => {
                let (w, _, _) = self.find_wait(timer, Expect::Timer)?;
                self.trigger(w, None);
            }
            Event::MessageReceived { name, correlation, payload } => {
                let found = self.inst.waits.iter().position(|w| {
                    matches!(&w.kind, WaitKind::Message { name: n, correlation: c } if *n == name && *c == correlation)
                });
                let Some(w) = found else { return Err(EngineError::NoSubscription { name, correlation }) };
                let id = self.wid(self.inst.waits.get(w).map_or(0, |x| x.id));
                self.check_wait(w, id)?;
                self.trigger(w, Some(payload));
            }
            Event::ReturnTo { element } => self.return_to(&element)?,
            Event::Withdraw => self.end_all(EndReason::Withdrawn),
            Event::Cancel => self.end_all(EndReason::Cancelled),
            Event::SetVariables { variables } => self.inst.variables.extend(variables),
            Event::RetryIncident { incident } => self.retry(incident)?,
        }
        Ok(())
    }

    /// The open wait `id` of the expected kind, its token and its element.
    fn find_wait(&self, id: WaitId, expect: Expect) -> Result<(usize, u32, &'a Element), EngineError> {
        let found =
            (id.instance == self.inst.id).then(|| self.inst.waits.iter().position(|w| w.id == id.seq)).flatten();
        let Some((w, wait)) = found.and_then(|w| Some((w, self.inst.waits.get(w)?))) else {
            return Err(EngineError::UnknownWait(id));
        };
        if !expect.matches(&wait.kind) {
            return Err(EngineError::WrongWait { id, expected: expect.name(), found: wait.kind.name() });
        }
        let (t, e) = self.check_wait(w, id)?;
        Ok((w, t, e))
    }

    /// The wait's token and the element that reacts, or why the state is inconsistent.
    fn check_wait(&self, w: usize, id: WaitId) -> Result<(u32, &'a Element), EngineError> {
        let Some(wait) = self.inst.waits.get(w) else { return Err(EngineError::UnknownWait(id)) };
        let Some(token) = self.token(wait.token) else {
            return Err(EngineError::Corrupt(format!("wait {id} belongs to no token")));
        };
        if self.element(&token.element).is_none() {
            return Err(EngineError::Corrupt(format!("the token of {id} is at unknown element `{}`", token.element)));
        }
        match self.element(&wait.element) {
            Some((_, e)) => Ok((wait.token, e)),
            None => Err(EngineError::Corrupt(format!("wait {id} is for unknown element `{}`", wait.element))),
        }
    }

    /// Hands the step at `t` to the next approver added after (加签), if any is left.
    fn next_added_approver(&mut self, t: u32) -> bool {
        let Some(tok) = self.token_mut(t) else { return false };
        if tok.then.is_empty() {
            return false;
        }
        tok.assignee = Some(tok.then.remove(0));
        true
    }

    fn remove_wait(&mut self, w: usize) {
        if w < self.inst.waits.len() {
            self.inst.waits.remove(w);
        }
    }

    /// A job or child failed: a BPMN error when it has a code, an incident otherwise.
    fn fail(&mut self, t: u32, error_code: Option<String>, message: String) {
        match error_code {
            Some(code) => self.throw(t, &code, &message),
            None => self.incident(t, message, None),
        }
    }

    /// A timer fired or a message arrived for wait `w`.
    fn trigger(&mut self, w: usize, payload: Option<Map<String, Json>>) {
        let Some(wait) = self.inst.waits.get(w) else { return };
        let t = wait.token;
        let fired_at = match &wait.kind {
            WaitKind::Timer { at, cycle } => Some((*at, *cycle)),
            _ => None,
        };
        let Some((_, reacting)) = self.element(&wait.element) else { return };
        let Some(holder) = self.token_element(t) else { return };
        if let ElementKind::Boundary(boundary) = &reacting.kind {
            if boundary.interrupting {
                self.remove_wait(w);
                self.interrupt(t, reacting, payload);
                return;
            }
            // A message boundary stays subscribed; a timer fires again if it is a cycle.
            if let Some((at, cycle)) = fired_at {
                self.remove_wait(w);
                if let (Some(cycle), BoundaryTrigger::Timer(timer)) = (cycle, &boundary.trigger) {
                    self.repeat(t, reacting, at, cycle, timer.calendar.as_deref());
                }
            }
            self.branch_off(t, reacting, payload);
            return;
        }
        self.remove_wait(w);
        if matches!(holder.kind, ElementKind::EventBasedGateway) {
            // The first event wins: the others are cancelled and the token moves on to it.
            self.drop_waits(t);
            if let Some(tok) = self.token_mut(t) {
                reacting.id.clone_into(&mut tok.element);
            }
        }
        let done = match payload {
            Some(payload) => self.apply_outputs(t, reacting, payload, true),
            None => true,
        };
        if done {
            self.leave(t, true);
        }
    }

    /// Schedules the next firing of a repeating non-interrupting boundary timer.
    fn repeat(
        &mut self,
        t: u32,
        boundary: &Element,
        at: time::OffsetDateTime,
        cycle: CycleLeft,
        calendar: Option<&str>,
    ) {
        let Some(next) = self.working_time.add(calendar, at, cycle.every) else { return };
        let remaining = cycle.remaining.map(|n| n.saturating_sub(1));
        let cycle = (remaining != Some(0)).then_some(CycleLeft { remaining, every: cycle.every });
        let id = self.seq();
        self.inst.waits.push(super::state::Wait {
            id,
            token: t,
            element: boundary.id.clone(),
            kind: WaitKind::Timer { at: next, cycle },
        });
        let id = self.wid(id);
        self.effects.push(Effect::ScheduleTimer { id, element: boundary.id.clone(), at: next });
    }

    /// 退回: everything in the scope of `element` is cancelled and a token starts there.
    fn return_to(&mut self, element: &str) -> Result<(), EngineError> {
        let refuse =
            |reason: &str| EngineError::CannotReturn { element: element.to_owned(), reason: reason.to_owned() };
        let Some((_, e)) = self.element(element) else { return Err(refuse("the process has no such element")) };
        let steppable = e.is_activity() || matches!(e.kind, ElementKind::IntermediateCatch(_));
        if !steppable {
            return Err(refuse("only activities and catch events can be returned to"));
        }
        let scope = match e.parent {
            None => 0,
            Some(p) => {
                let Some(container) = self.element_at(p) else { return Err(refuse("its sub-process is missing")) };
                let open: Vec<u32> = self
                    .inst
                    .scopes
                    .iter()
                    .filter(|s| matches!(s.kind, ScopeKind::SubProcess))
                    .filter(|s| s.token.and_then(|t| self.token(t)).is_some_and(|t| t.element == container.id))
                    .map(|s| s.id)
                    .collect();
                match open.as_slice() {
                    [one] => *one,
                    [] => return Err(refuse("its sub-process is not running")),
                    _ => return Err(refuse("its sub-process runs more than once")),
                }
            }
        };
        let in_scope: Vec<u32> = self.inst.tokens.iter().filter(|x| x.scope == scope).map(|x| x.id).collect();
        for t in in_scope {
            self.cancel_token(t);
        }
        let t = self.spawn(element, scope);
        self.enqueue(t, None);
        Ok(())
    }

    /// Withdrawal or cancellation: everything ends, every wait is closed.
    fn end_all(&mut self, reason: EndReason) {
        while let Some(t) = self.inst.tokens.iter().find(|x| x.scope == 0).map(|x| x.id) {
            self.cancel_token(t);
        }
        while let Some(t) = self.inst.tokens.first().map(|x| x.id) {
            self.cancel_token(t);
        }
        for w in std::mem::take(&mut self.inst.waits) {
            let id = self.wid(w.id);
            self.effects.push(super::run::cancel_effect(&w.kind, id));
        }
        self.inst.scopes.retain(|s| matches!(s.kind, ScopeKind::Process));
        self.inst.status = match reason {
            EndReason::Cancelled => Status::Cancelled,
            EndReason::Withdrawn => Status::Withdrawn,
        };
        self.effects.push(Effect::Terminated { reason });
    }

    /// Runs a stuck token's element again from the start (its boundary timers restart too).
    fn retry(&mut self, incident: WaitId) -> Result<(), EngineError> {
        let found = (incident.instance == self.inst.id)
            .then(|| {
                self.inst
                    .tokens
                    .iter()
                    .find(|t| matches!(t.state, TokenState::Incident { id, .. } if id == incident.seq))
                    .map(|t| t.id)
            })
            .flatten();
        let Some(t) = found else { return Err(EngineError::UnknownIncident(incident)) };
        if self.token_element(t).is_none() {
            return Err(EngineError::Corrupt(format!("incident {incident} is at an unknown element")));
        }
        self.release_scopes(t);
        self.drop_waits(t);
        if let Some(tok) = self.token_mut(t) {
            tok.state = TokenState::Moving;
        }
        self.enqueue(t, None);
        Ok(())
    }
}
