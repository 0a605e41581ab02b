//! One step of an instance: tokens enter elements from a FIFO queue (never by recursion, so
//! a long path cannot exhaust the stack), activities open waits, and leaving an element
//! queues its successors. Inclusive joins are decided only once the queue is empty, when
//! every token that moved in this step has settled.

use std::collections::VecDeque;

use time::OffsetDateTime;

use super::Engine;
use super::event::Effect;
use super::state::{Instance, Outcome, Scope, ScopeKind, Status, Step, Token, TokenState, WaitId, WaitKind};
use crate::deploy::{Deployment, Plan};
use crate::model::{CatchTrigger, Element, ElementKind, Flow, Process};
use crate::timer::WorkingTime;

pub(crate) struct Run<'a> {
    pub working_time: &'a dyn WorkingTime,
    pub max_steps: u32,
    pub dep: &'a Deployment,
    pub process: &'a Process,
    pub plan: &'a Plan,
    pub inst: &'a mut Instance,
    pub now: OffsetDateTime,
    pub effects: Vec<Effect>,
    queue: VecDeque<(u32, Option<usize>)>,
    steps: u32,
}

impl<'a> Run<'a> {
    pub fn new(
        engine: &'a Engine<'_>,
        dep: &'a Deployment,
        process: &'a Process,
        plan: &'a Plan,
        inst: &'a mut Instance,
        now: OffsetDateTime,
    ) -> Run<'a> {
        Run {
            working_time: engine.working_time,
            max_steps: engine.max_steps,
            dep,
            process,
            plan,
            inst,
            now,
            effects: Vec::with_capacity(4),
            queue: VecDeque::new(),
            steps: 0,
        }
    }

    /// Places the first token on the start event `element` of the process.
    pub fn begin(&mut self, element: &str) {
        let t = self.spawn(element, 0);
        self.queue.push_back((t, None));
    }

    /// Moves every token as far as it goes, then hands back the effects.
    pub fn finish(mut self) -> Vec<Effect> {
        loop {
            while let Some((token, via)) = self.queue.pop_front() {
                if self.inst.status != Status::Active {
                    self.queue.clear();
                    break;
                }
                self.steps += 1;
                if self.steps > self.max_steps {
                    let message = format!(
                        "more than {} elements entered in one step: a loop without a wait state?",
                        self.max_steps
                    );
                    self.incident(token, message, None);
                    continue;
                }
                self.enter(token, via);
            }
            if self.inst.status != Status::Active || !self.fire_inclusive_join() {
                break;
            }
        }
        self.effects
    }

    // ---- lookups ----

    pub fn element(&self, id: &str) -> Option<(usize, &'a Element)> {
        let process = self.process;
        let i = *self.plan.elements.get(id)?;
        Some((i, process.elements.get(i)?))
    }

    pub fn element_at(&self, i: usize) -> Option<&'a Element> {
        let process = self.process;
        process.elements.get(i)
    }

    pub fn flow(&self, f: usize) -> Option<&'a Flow> {
        let process = self.process;
        process.flows.get(f)
    }

    pub fn token(&self, t: u32) -> Option<&Token> {
        self.inst.tokens.iter().find(|x| x.id == t)
    }

    pub fn token_mut(&mut self, t: u32) -> Option<&mut Token> {
        self.inst.tokens.iter_mut().find(|x| x.id == t)
    }

    pub fn scope(&self, s: u32) -> Option<&Scope> {
        self.inst.scopes.iter().find(|x| x.id == s)
    }

    pub fn scope_mut(&mut self, s: u32) -> Option<&mut Scope> {
        self.inst.scopes.iter_mut().find(|x| x.id == s)
    }

    pub fn token_scope(&self, t: u32) -> u32 {
        self.token(t).map_or(0, |x| x.scope)
    }

    /// The element a token is at.
    pub fn token_element(&self, t: u32) -> Option<&'a Element> {
        let id = &self.token(t)?.element;
        self.element(id).map(|(_, e)| e)
    }

    pub fn seq(&mut self) -> u32 {
        let s = self.inst.seq;
        self.inst.seq = s.wrapping_add(1);
        s
    }

    pub fn wid(&self, seq: u32) -> WaitId {
        self.inst.wait_id(seq)
    }

    /// Whether `t` runs one iteration of a multi-instance activity (rather than carrying
    /// the activity as a whole, with its boundary events).
    pub fn is_iteration_token(&self, t: u32) -> bool {
        let Some(tok) = self.token(t) else { return false };
        let Some(scope) = self.scope(tok.scope) else { return false };
        if !matches!(scope.kind, ScopeKind::Iteration { .. }) {
            return false;
        }
        let owner = scope.parent.and_then(|b| self.scope(b)).and_then(|b| b.token).and_then(|o| self.token(o));
        owner.is_some_and(|o| o.element == tok.element)
    }

    // ---- tokens ----

    pub fn spawn(&mut self, element: &str, scope: u32) -> u32 {
        let id = self.seq();
        self.inst.tokens.push(Token {
            id,
            element: element.to_owned(),
            scope,
            state: TokenState::Moving,
            entered_at: self.now,
            assignee: None,
            then: Vec::new(),
        });
        id
    }

    /// Forgets the approvers 加签 added at the element `t` leaves: they belong to that step.
    pub(crate) fn forget_added(&mut self, t: u32) {
        if let Some(tok) = self.token_mut(t) {
            tok.assignee = None;
            tok.then.clear();
        }
    }

    pub fn enqueue(&mut self, t: u32, via: Option<usize>) {
        self.queue.push_back((t, via));
    }

    pub(crate) fn move_to(&mut self, t: u32, element: &str, via: Option<usize>) {
        if let Some(tok) = self.token_mut(t) {
            element.clone_into(&mut tok.element);
            tok.state = TokenState::Moving;
        }
        self.queue.push_back((t, via));
    }

    pub(crate) fn remove_token(&mut self, t: u32) {
        self.inst.tokens.retain(|x| x.id != t);
    }

    /// Marks `t` stuck and tells the outside world.
    pub fn incident(&mut self, t: u32, message: String, error_code: Option<String>) {
        let id = self.seq();
        let wid = self.wid(id);
        let Some(tok) = self.token_mut(t) else { return };
        tok.state = TokenState::Incident { id, message: message.clone() };
        let element = tok.element.clone();
        self.effects.push(Effect::Incident { id: wid, element, message, error_code });
    }

    pub(crate) fn enter(&mut self, t: u32, via: Option<usize>) {
        let Some(tok) = self.token_mut(t) else { return };
        if tok.state != TokenState::Moving {
            return;
        }
        tok.state = TokenState::Waiting;
        let element = tok.element.clone();
        let Some((ix, e)) = self.element(&element) else {
            self.incident(t, format!("the definition has no element `{element}`"), None);
            return;
        };
        let now = self.now;
        if let Some(tok) = self.token_mut(t) {
            tok.entered_at = now;
        }
        let whole = !self.is_iteration_token(t);
        if whole && e.multi_instance.is_some() {
            self.enter_multi(t, e);
            return;
        }
        if whole && e.is_activity() && !self.arm(t, e) {
            return;
        }
        match &e.kind {
            ElementKind::StartEvent(_) | ElementKind::Task | ElementKind::Boundary(_) => self.leave(t, true),
            ElementKind::Throw(message) => {
                if message.as_ref().is_none_or(|m| self.publish(t, e, m)) {
                    self.leave(t, false);
                }
            }
            ElementKind::EndEvent(result) => self.end(t, e, result),
            ElementKind::UserTask(task) => self.user_task(t, e, task),
            ElementKind::ServiceTask(job) | ElementKind::BusinessRuleTask(job) => self.job(t, e, job),
            ElementKind::ReceiveTask(m) | ElementKind::IntermediateCatch(CatchTrigger::Message(m)) => {
                self.subscribe(t, e, m);
            }
            ElementKind::IntermediateCatch(CatchTrigger::Timer(timer)) => {
                self.schedule(t, e, timer);
            }
            ElementKind::ExclusiveGateway { default } => self.exclusive(t, e, *default),
            ElementKind::InclusiveGateway { default } => {
                if e.incoming.len() > 1 {
                    self.join_wait(t, via);
                } else {
                    self.inclusive(t, e, *default);
                }
            }
            ElementKind::ParallelGateway => {
                if e.incoming.len() > 1 {
                    self.parallel_join(t, e, via);
                } else {
                    self.take(t, &e.outgoing);
                }
            }
            ElementKind::EventBasedGateway => self.event_gateway(t, e),
            ElementKind::SubProcess => self.open_subprocess(t, ix, e),
            ElementKind::CallActivity(call) => self.call(t, e, call),
        }
    }

    /// The element is done: its waits close, the step is recorded, and the token goes on
    /// over every outgoing flow (or ends an iteration).
    pub fn leave(&mut self, t: u32, record: bool) {
        let Some(e) = self.token_element(t) else { return };
        self.drop_waits(t);
        self.forget_added(t);
        if record {
            self.record(t, e, Outcome::Completed);
        }
        if let Some(tok) = self.token_mut(t) {
            tok.state = TokenState::Waiting;
        }
        if self.is_iteration_token(t) {
            self.iteration_done(t);
            return;
        }
        self.take(t, &e.outgoing);
    }

    /// Sends `t` down the first of `flows` and new tokens down the others; with none, the
    /// token is used up.
    pub fn take(&mut self, t: u32, flows: &[usize]) {
        let scope = self.token_scope(t);
        let mut first = true;
        for &f in flows {
            let Some(target) = self.flow(f).and_then(|fl| fl.target).and_then(|i| self.element_at(i)) else {
                continue;
            };
            let token = if first { t } else { self.spawn(&target.id, scope) };
            first = false;
            self.move_to(token, &target.id, Some(f));
        }
        if first {
            self.consume(t);
        }
    }

    /// Removes `t`, which reached its end, and closes its scope if it was the last one.
    pub fn consume(&mut self, t: u32) {
        let scope = self.token_scope(t);
        self.drop_waits(t);
        self.remove_token(t);
        self.scope_maybe_done(scope);
    }

    pub fn scope_maybe_done(&mut self, s: u32) {
        if self.inst.tokens.iter().any(|x| x.scope == s) {
            return;
        }
        let Some(scope) = self.scope(s) else { return };
        match scope.kind {
            ScopeKind::Process => self.complete_instance(),
            ScopeKind::SubProcess => {
                if let Some(owner) = scope.token {
                    self.close_subprocess(s, owner);
                }
            }
            ScopeKind::MultiInstance(_) | ScopeKind::Iteration { .. } => {}
        }
    }

    pub fn complete_instance(&mut self) {
        self.inst.status = Status::Completed;
        self.inst.scopes.retain(|s| matches!(s.kind, ScopeKind::Process));
        let outputs = self.inst.variables.clone();
        self.effects.push(Effect::Completed { outputs });
    }

    pub(crate) fn record(&mut self, t: u32, e: &Element, outcome: Outcome) {
        let step_worthy = e.is_activity()
            || matches!(
                e.kind,
                ElementKind::IntermediateCatch(_) | ElementKind::Boundary(_) | ElementKind::EndEvent(_)
            );
        if !step_worthy {
            return;
        }
        let Some(started_at) = self.token(t).map(|x| x.entered_at) else { return };
        self.inst.history.push(Step { element: e.id.clone(), started_at, ended_at: self.now, outcome });
    }

    // ---- cancelling ----

    /// Closes every wait of `t`, telling the outside world.
    pub fn drop_waits(&mut self, t: u32) {
        if !self.inst.waits.iter().any(|w| w.token == t) {
            return;
        }
        let mut kept = Vec::with_capacity(self.inst.waits.len());
        for w in std::mem::take(&mut self.inst.waits) {
            if w.token == t {
                let id = self.wid(w.id);
                self.effects.push(cancel_effect(&w.kind, id));
            } else {
                kept.push(w);
            }
        }
        self.inst.waits = kept;
    }

    /// Ends `t` early with everything it holds (child scopes, waits).
    pub fn cancel_token(&mut self, t: u32) {
        let body = self.release_scopes(t);
        self.drop_waits(t);
        if !body
            && let Some(e) = self.token_element(t)
            && !matches!(e.kind, ElementKind::EndEvent(_))
        {
            self.record(t, e, Outcome::Cancelled);
        }
        self.remove_token(t);
    }

    /// Cancels the scopes `t` owns; says whether one was a multi-instance body (whose
    /// iterations record their own steps).
    pub fn release_scopes(&mut self, t: u32) -> bool {
        let owned: Vec<(u32, bool)> = self
            .inst
            .scopes
            .iter()
            .filter(|s| s.token == Some(t))
            .map(|s| (s.id, matches!(s.kind, ScopeKind::MultiInstance(_))))
            .collect();
        let mut body = false;
        for (s, is_body) in owned {
            body |= is_body;
            self.cancel_scope(s);
        }
        body
    }

    /// Removes scope `s` first (so a corrupted cycle of scopes cannot recurse for ever), then
    /// everything inside it.
    pub fn cancel_scope(&mut self, s: u32) {
        self.inst.scopes.retain(|x| x.id != s);
        while let Some(t) = self.inst.tokens.iter().find(|x| x.scope == s).map(|x| x.id) {
            self.cancel_token(t);
        }
        while let Some(c) = self.inst.scopes.iter().find(|x| x.parent == Some(s)).map(|x| x.id) {
            self.cancel_scope(c);
        }
    }
}

/// What the outside world is told when a wait closes unfulfilled.
pub(crate) fn cancel_effect(kind: &WaitKind, id: WaitId) -> Effect {
    match kind {
        WaitKind::UserTask => Effect::CancelUserTask { id },
        WaitKind::Job => Effect::CancelJob { id },
        WaitKind::Timer { .. } => Effect::CancelTimer { id },
        WaitKind::Message { .. } => Effect::Unsubscribe { id },
        WaitKind::Child => Effect::CancelChildInstance { id },
    }
}
