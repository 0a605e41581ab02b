//! What activities and events do when a token arrives: evaluate their inputs, open the
//! wait the outside world answers (a user task, a job, a timer, a subscription, a child
//! instance), and write back what comes out.

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;

use super::event::{Assignment, Effect};
use super::run::Run;
use super::state::{Scope, ScopeKind, Wait, WaitId, WaitKind};
use super::vars::{self, ScopeVars};
use crate::expression::{self, as_text};
use crate::model::{BoundaryTrigger, CallActivity, Element, ElementKind, ExprId, Job, MessageRef, Timer, UserTask};
use crate::timer;

impl Run<'_> {
    pub(crate) fn eval(&self, id: ExprId, scope: u32, overlay: Option<&Map<String, Json>>) -> Result<Json, String> {
        let dep = self.dep;
        let compiled = dep.compiled(id).ok_or("the expression is not in the deployment")?;
        let vars = ScopeVars { instance: self.inst, scope, overlay };
        expression::value(compiled, &vars, dep.schema(), self.now)
    }

    pub(crate) fn test(&self, id: ExprId, scope: u32) -> Result<bool, String> {
        let dep = self.dep;
        let compiled = dep.compiled(id).ok_or("the expression is not in the deployment")?;
        let vars = ScopeVars { instance: self.inst, scope, overlay: None };
        expression::holds(compiled, &vars, dep.schema(), self.now)
    }

    /// The activity's input mappings, each seeing the ones before it.
    pub(crate) fn inputs(&mut self, t: u32, e: &Element) -> Option<Map<String, Json>> {
        let scope = self.token_scope(t);
        let mut out = Map::new();
        for m in &e.inputs {
            match self.eval(m.source, scope, Some(&out)) {
                Ok(v) => {
                    out.insert(m.target.clone(), v);
                }
                Err(message) => {
                    self.incident(t, format!("input `{}`: {message}", m.target), None);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// What a task, job or child sees beyond the process variables: enclosing locals and the
    /// input mappings.
    pub(crate) fn visible_inputs(&self, t: u32, inputs: Map<String, Json>) -> Map<String, Json> {
        let mut shown = vars::locals(self.inst, self.token_scope(t));
        shown.extend(inputs);
        shown
    }

    /// Writes what a finished activity returned: through its output mappings when it has
    /// some, otherwise all of it when `merge_all`. False (with an incident) when a mapping
    /// fails.
    pub(crate) fn apply_outputs(&mut self, t: u32, e: &Element, outputs: Map<String, Json>, merge_all: bool) -> bool {
        let scope = self.token_scope(t);
        if e.outputs.is_empty() {
            if merge_all {
                for (k, v) in outputs {
                    vars::set(self.inst, scope, k, v, true);
                }
            }
            return true;
        }
        self.map_outputs(t, e, scope, Some(&outputs))
    }

    pub(crate) fn map_outputs(
        &mut self,
        t: u32,
        e: &Element,
        eval_scope: u32,
        overlay: Option<&Map<String, Json>>,
    ) -> bool {
        let mut results = Vec::with_capacity(e.outputs.len());
        for m in &e.outputs {
            match self.eval(m.source, eval_scope, overlay) {
                Ok(v) => results.push((m.target.clone(), v)),
                Err(message) => {
                    self.incident(t, format!("output `{}`: {message}", m.target), None);
                    return false;
                }
            }
        }
        let scope = self.token_scope(t);
        for (k, v) in results {
            vars::set(self.inst, scope, k, v, true);
        }
        true
    }

    // ---- waits ----

    pub(crate) fn open_wait(&mut self, t: u32, element: &str, kind: WaitKind) -> WaitId {
        let id = self.seq();
        self.inst.waits.push(Wait { id, token: t, element: element.to_owned(), kind });
        self.wid(id)
    }

    /// Arms the boundary timers and messages of the activity `t` carries.
    pub(crate) fn arm(&mut self, t: u32, e: &Element) -> bool {
        for &b in &e.boundaries {
            let Some(boundary) = self.element_at(b) else { continue };
            let ElementKind::Boundary(def) = &boundary.kind else { continue };
            let ok = match &def.trigger {
                BoundaryTrigger::Timer(timer) => self.schedule(t, boundary, timer),
                BoundaryTrigger::Message(m) => self.subscribe(t, boundary, m),
                BoundaryTrigger::Error(_) => true,
            };
            if !ok {
                self.drop_waits(t);
                return false;
            }
        }
        true
    }

    /// Starts a timer for `element` (a catch or boundary event) on behalf of `t`.
    pub(crate) fn schedule(&mut self, t: u32, element: &Element, timer: &Timer) -> bool {
        let scope = self.token_scope(t);
        let text = match self.eval(timer.value, scope, None) {
            Ok(Json::String(s)) => s,
            Ok(other) => {
                self.incident(t, format!("the timer of `{}` gives {other}, not ISO 8601 text", element.id), None);
                return false;
            }
            Err(message) => {
                self.incident(t, format!("the timer of `{}`: {message}", element.id), None);
                return false;
            }
        };
        let spec = match timer::read_timer(timer.kind, &text) {
            Ok(spec) => spec,
            Err(message) => {
                self.incident(t, format!("the timer of `{}`: {message}", element.id), None);
                return false;
            }
        };
        let Some((at, cycle)) = timer::first_fire(spec, timer.calendar.as_deref(), self.now, self.working_time) else {
            self.incident(t, format!("the timer of `{}` falls outside the supported years", element.id), None);
            return false;
        };
        let id = self.open_wait(t, &element.id, WaitKind::Timer { at, cycle });
        self.effects.push(Effect::ScheduleTimer { id, element: element.id.clone(), at });
        true
    }

    pub(crate) fn subscribe(&mut self, t: u32, element: &Element, m: &MessageRef) -> bool {
        let Some(name) = m.name.clone() else {
            self.incident(t, format!("the message `{}` is not declared", m.id), None);
            return false;
        };
        let Some(correlation) = self.correlation(t, m) else { return false };
        let id =
            self.open_wait(t, &element.id, WaitKind::Message { name: name.clone(), correlation: correlation.clone() });
        self.effects.push(Effect::Subscribe { id, element: element.id.clone(), message: name, correlation });
        true
    }

    /// The message's correlation key as seen by `t`: `Some(None)` when it has none.
    pub(crate) fn correlation(&mut self, t: u32, m: &MessageRef) -> Option<Option<String>> {
        let Some(key) = m.correlation_key else { return Some(None) };
        match self.eval(key, self.token_scope(t), None) {
            Ok(v) => match as_text(&v) {
                Some(text) => Some(Some(text)),
                None => {
                    self.incident(t, format!("the correlation key of message `{}` is {v}, not text", m.id), None);
                    None
                }
            },
            Err(message) => {
                self.incident(t, format!("the correlation key of message `{}`: {message}", m.id), None);
                None
            }
        }
    }

    pub(crate) fn publish(&mut self, t: u32, e: &Element, m: &MessageRef) -> bool {
        let Some(name) = m.name.clone() else {
            self.incident(t, format!("the message `{}` is not declared", m.id), None);
            return false;
        };
        let Some(correlation) = self.correlation(t, m) else { return false };
        let Some(variables) = self.inputs(t, e) else { return false };
        self.effects.push(Effect::PublishMessage { element: e.id.clone(), message: name, correlation, variables });
        true
    }

    pub(crate) fn user_task(&mut self, t: u32, e: &Element, task: &UserTask) {
        let scope = self.token_scope(t);
        let Some(inputs) = self.inputs(t, e) else { return };
        let mut assignment = Assignment {
            rule: task.rule.clone(),
            forbid_self_approval: task.forbid_self_approval,
            ..Assignment::default()
        };
        let read = |run: &mut Self, expr: Option<ExprId>, what: &str| -> Result<Json, ()> {
            let Some(expr) = expr else { return Ok(Json::Null) };
            run.eval(expr, scope, Some(&inputs)).map_err(|message| run.incident(t, format!("{what}: {message}"), None))
        };
        if let Some(added) = self.token(t).and_then(|tok| tok.assignee.clone()) {
            // An approver added by 加签 (or the holder it comes back to): that person only.
            assignment.rule = None;
            assignment.assignee = Some(added);
        } else {
            let Ok(assignee) = read(self, task.assignee, "the assignee") else { return };
            let Ok(groups) = read(self, task.candidate_groups, "the candidate groups") else { return };
            let Ok(users) = read(self, task.candidate_users, "the candidate users") else { return };
            assignment.assignee = as_text(&assignee);
            assignment.candidate_groups = list(&groups);
            assignment.candidate_users = list(&users);
        }
        let Ok(due) = read(self, task.due, "the due date") else { return };
        let Ok(follow_up) = read(self, task.follow_up, "the follow-up date") else { return };
        let instant = |run: &mut Self, v: &Json, what: &str| -> Result<Option<OffsetDateTime>, ()> {
            match v {
                Json::Null => Ok(None),
                Json::String(s) => match timer::read_instant(s) {
                    Some(at) => Ok(Some(at)),
                    None => {
                        run.incident(t, format!("the {what} `{s}` is not a date and time"), None);
                        Err(())
                    }
                },
                other => {
                    run.incident(t, format!("the {what} is {other}, not a date and time"), None);
                    Err(())
                }
            }
        };
        let Ok(due) = instant(self, &due, "due date") else { return };
        let Ok(follow_up) = instant(self, &follow_up, "follow-up date") else { return };
        let id = self.open_wait(t, &e.id, WaitKind::UserTask);
        let inputs = self.visible_inputs(t, inputs);
        self.effects.push(Effect::CreateUserTask {
            id,
            element: e.id.clone(),
            name: e.name.clone(),
            assignment,
            due,
            follow_up,
            form: task.form.clone(),
            inputs,
        });
    }

    pub(crate) fn job(&mut self, t: u32, e: &Element, job: &Job) {
        let Some(inputs) = self.inputs(t, e) else { return };
        let id = self.open_wait(t, &e.id, WaitKind::Job);
        let inputs = self.visible_inputs(t, inputs);
        self.effects.push(Effect::RunJob {
            id,
            element: e.id.clone(),
            kind: job.kind.clone(),
            headers: job.headers.clone(),
            inputs,
            retries: job.retries,
        });
    }

    pub(crate) fn call(&mut self, t: u32, e: &Element, call: &CallActivity) {
        let Some(inputs) = self.inputs(t, e) else { return };
        let variables = if call.propagate_parent {
            let mut all = self.inst.variables.clone();
            all.extend(self.visible_inputs(t, inputs));
            all
        } else {
            inputs
        };
        let id = self.open_wait(t, &e.id, WaitKind::Child);
        self.effects.push(Effect::StartChildInstance {
            id,
            element: e.id.clone(),
            process: call.process_id.clone(),
            variables,
        });
    }

    pub(crate) fn open_subprocess(&mut self, t: u32, ix: usize, e: &Element) {
        let Some(inputs) = self.inputs(t, e) else { return };
        let Some(start) = self.plan.none_starts.get(&Some(ix)).and_then(|s| self.element_at(*s)) else {
            self.incident(t, format!("the sub-process `{}` has no none start event", e.id), None);
            return;
        };
        let parent = self.token_scope(t);
        let s = self.seq();
        self.inst.scopes.push(Scope {
            id: s,
            parent: Some(parent),
            token: Some(t),
            kind: ScopeKind::SubProcess,
            locals: inputs,
        });
        let first = self.spawn(&start.id, s);
        self.enqueue(first, None);
    }

    /// The last token of sub-process scope `s` ended: map its outputs, close it, and move
    /// its activity on.
    pub(crate) fn close_subprocess(&mut self, s: u32, owner: u32) {
        let Some(e) = self.token_element(owner) else { return };
        if !e.outputs.is_empty() && !self.map_outputs(owner, e, s, None) {
            return;
        }
        self.inst.scopes.retain(|x| x.id != s);
        self.leave(owner, true);
    }
}

/// Candidate groups or users: a comma-separated string or a list.
fn list(value: &Json) -> Vec<String> {
    match value {
        Json::Null => Vec::new(),
        Json::String(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Json::Array(items) => items.iter().filter_map(as_text).collect(),
        other => as_text(other).into_iter().collect(),
    }
}
