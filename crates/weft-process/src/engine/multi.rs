//! Multi-instance activities: one iteration per item of the input collection, in parallel
//! or one after another, until all are done or the completion condition holds. This is how
//! countersigning is modelled: all-of (会签) waits for every approver, any-of (或签)
//! completes on the first answer, N-of-M on `nrOfApproved >= N`; the iterations still
//! open when the condition holds are cancelled.

use serde_json::{Map, Value as Json};

use super::EngineError;
use super::run::Run;
use super::state::{Loop, Scope, ScopeKind};
use super::vars;
use crate::model::Element;
use crate::validate::LOOP_COUNTER;

/// The most iterations one activity may start: a collection is data, and data can be huge.
pub const MAX_ITERATIONS: usize = 10_000;

impl Run<'_> {
    /// `t` reaches a multi-instance activity: it carries the body (and the boundary events);
    /// the iterations get tokens of their own.
    pub(crate) fn enter_multi(&mut self, t: u32, e: &Element) {
        let Some(mi) = &e.multi_instance else { return };
        if !self.arm(t, e) {
            return;
        }
        let scope = self.token_scope(t);
        let items = if let Some(collection) = mi.input_collection {
            match self.eval(collection, scope, None) {
                Ok(Json::Array(items)) => items,
                Ok(other) => {
                    let message = format!("the input collection of `{}` is {other}, not a list", e.id);
                    self.drop_waits(t);
                    self.incident(t, message, None);
                    return;
                }
                Err(message) => {
                    self.drop_waits(t);
                    self.incident(t, format!("the input collection of `{}`: {message}", e.id), None);
                    return;
                }
            }
        } else {
            let count = mi.cardinality.map(|c| self.eval(c, scope, None));
            match count.map(|r| r.map(|v| count_of(&v))) {
                Some(Ok(Some(n))) => vec![Json::Null; n],
                Some(Ok(None)) | None => {
                    self.drop_waits(t);
                    self.incident(t, format!("the loop cardinality of `{}` is not a count", e.id), None);
                    return;
                }
                Some(Err(message)) => {
                    self.drop_waits(t);
                    self.incident(t, format!("the loop cardinality of `{}`: {message}", e.id), None);
                    return;
                }
            }
        };
        if items.len() > MAX_ITERATIONS {
            self.drop_waits(t);
            self.incident(
                t,
                format!("`{}` would start {} iterations (at most {MAX_ITERATIONS})", e.id, items.len()),
                None,
            );
            return;
        }
        let total = u32::try_from(items.len()).unwrap_or(u32::MAX);
        if total == 0 {
            if let Some(name) = &mi.output_collection {
                vars::set(self.inst, scope, name.clone(), Json::Array(Vec::new()), false);
            }
            self.write_tally(scope, 0, 0);
            self.leave(t, false);
            return;
        }
        let body = self.seq();
        let results = if mi.output_collection.is_some() { vec![Json::Null; items.len()] } else { Vec::new() };
        let sequential = mi.sequential;
        let mut state = Loop {
            total,
            started: 0,
            completed: 0,
            approved: 0,
            rejected: 0,
            items: Vec::new(),
            results,
            added: Default::default(),
        };
        let first: Vec<Json> = if sequential {
            let first = items.first().cloned().unwrap_or(Json::Null);
            state.items = items;
            vec![first]
        } else {
            items
        };
        self.inst.scopes.push(Scope {
            id: body,
            parent: Some(scope),
            token: Some(t),
            kind: ScopeKind::MultiInstance(Box::new(state)),
            locals: Map::new(),
        });
        for (k, item) in first.into_iter().enumerate() {
            self.start_iteration(body, e, u32::try_from(k).unwrap_or(u32::MAX), item);
        }
    }

    fn start_iteration(&mut self, body: u32, e: &Element, index: u32, item: Json) {
        let assignee = self.body_mut(body).and_then(|state| state.added.get(&index).cloned());
        let mut locals = Map::new();
        if let Some(name) = e.multi_instance.as_ref().and_then(|m| m.input_element.as_ref()) {
            locals.insert(name.clone(), item);
        }
        locals.insert(LOOP_COUNTER.to_owned(), Json::from(index.saturating_add(1)));
        let scope = self.seq();
        self.inst.scopes.push(Scope {
            id: scope,
            parent: Some(body),
            token: None,
            kind: ScopeKind::Iteration { index },
            locals,
        });
        if let Some(state) = self.body_mut(body) {
            state.started = state.started.saturating_add(1);
        }
        let t = self.spawn(&e.id, scope);
        if let Some(tok) = self.token_mut(t) {
            tok.assignee = assignee;
        }
        self.enqueue(t, None);
    }

    /// 加签 in a countersign: one more iteration, for `approver`, counted like the others
    /// (an all-of then waits for them too). Parallel: it starts now; sequential: it comes
    /// right after the current one. Its item is the approver.
    pub(crate) fn add_iteration(&mut self, t: u32, e: &Element, approver: String) -> Result<(), EngineError> {
        let Some(mi) = &e.multi_instance else {
            return Err(EngineError::Corrupt(format!("`{}` is not a multi-instance activity", e.id)));
        };
        let (sequential, collect) = (mi.sequential, mi.output_collection.is_some());
        let iteration = self.token_scope(t);
        let Some(body) = self.scope(iteration).and_then(|s| s.parent) else {
            return Err(EngineError::Corrupt(format!("the iteration of `{}` has no body", e.id)));
        };
        let Some(state) = self.body_mut(body) else {
            return Err(EngineError::Corrupt(format!("the body of `{}` is missing", e.id)));
        };
        if state.total as usize >= MAX_ITERATIONS {
            return Err(EngineError::CannotAddApprover(format!("`{}` has {MAX_ITERATIONS} iterations already", e.id)));
        }
        state.total = state.total.saturating_add(1);
        if sequential {
            let at = state.started;
            let slot = (at as usize).min(state.items.len());
            state.items.insert(slot, Json::String(approver.clone()));
            if collect {
                let slot = (at as usize).min(state.results.len());
                state.results.insert(slot, Json::Null);
            }
            // Iterations added earlier and not yet started move one place down.
            state.added = std::mem::take(&mut state.added)
                .into_iter()
                .map(|(i, a)| (if i >= at { i.saturating_add(1) } else { i }, a))
                .collect();
            state.added.insert(at, approver);
        } else {
            let index = state.total.saturating_sub(1);
            if collect {
                state.results.push(Json::Null);
            }
            state.added.insert(index, approver.clone());
            self.start_iteration(body, e, index, Json::String(approver));
        }
        Ok(())
    }

    fn body_mut(&mut self, body: u32) -> Option<&mut Loop> {
        match &mut self.scope_mut(body)?.kind {
            ScopeKind::MultiInstance(state) => Some(state),
            _ => None,
        }
    }

    /// Iteration token `t` finished its activity: count it, collect its output, and decide
    /// whether the activity as a whole is done.
    pub(crate) fn iteration_done(&mut self, t: u32) {
        let Some(e) = self.token_element(t) else { return };
        let Some(mi) = &e.multi_instance else { return };
        let iteration = self.token_scope(t);
        let Some(scope) = self.scope(iteration) else { return };
        let ScopeKind::Iteration { index } = scope.kind else { return };
        let approved = scope.locals.get("approved").and_then(Json::as_bool);
        let Some(body) = scope.parent else { return };
        let Some(owner) = self.scope(body).and_then(|b| b.token) else { return };
        let output = match mi.output_element.map(|o| self.eval(o, iteration, None)) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(message)) => {
                self.incident(t, format!("the output element of `{}`: {message}", e.id), None);
                return;
            }
        };
        let tally = |state: &mut Loop, sign: i8| {
            let bump = |n: u32| if sign > 0 { n.saturating_add(1) } else { n.saturating_sub(1) };
            state.completed = bump(state.completed);
            match approved {
                Some(true) => state.approved = bump(state.approved),
                Some(false) => state.rejected = bump(state.rejected),
                None => {}
            }
        };
        if let Some(state) = self.body_mut(body) {
            tally(state, 1);
        }
        let early = match mi.completion.map(|c| self.test(c, iteration)) {
            None => false,
            Some(Ok(holds)) => holds,
            Some(Err(message)) => {
                if let Some(state) = self.body_mut(body) {
                    tally(state, -1);
                }
                self.incident(t, format!("the completion condition of `{}`: {message}", e.id), None);
                return;
            }
        };
        if let (Some(v), Some(state)) = (output, self.body_mut(body))
            && let Some(slot) = state.results.get_mut(index as usize)
        {
            *slot = v;
        }
        self.inst.tokens.retain(|x| x.id != t);
        self.cancel_scope(iteration);
        let Some(state) = self.body_mut(body) else { return };
        let (completed, started, total) = (state.completed, state.started, state.total);
        if early || completed >= total {
            self.finish_body(body, owner, e);
        } else if mi.sequential && started < total {
            let item = state.items.get(started as usize).cloned().unwrap_or(Json::Null);
            self.start_iteration(body, e, started, item);
        }
    }

    /// Closes the body (cancelling iterations still open), writes the output collection and
    /// the tally, and moves the activity on.
    fn finish_body(&mut self, body: u32, owner: u32, e: &Element) {
        while let Some(open) = self.inst.scopes.iter().find(|s| s.parent == Some(body)).map(|s| s.id) {
            self.cancel_scope(open);
        }
        let state = match self.inst.scopes.iter().position(|s| s.id == body) {
            Some(i) => match self.inst.scopes.remove(i).kind {
                ScopeKind::MultiInstance(state) => state,
                _ => return,
            },
            None => return,
        };
        let scope = self.token_scope(owner);
        if let Some(name) = e.multi_instance.as_ref().and_then(|m| m.output_collection.clone()) {
            vars::set(self.inst, scope, name, Json::Array(state.results), false);
        }
        self.write_tally(scope, state.approved, state.rejected);
        self.leave(owner, false);
    }

    /// Leaves the countersign's outcome where the gateway after it can read it.
    fn write_tally(&mut self, scope: u32, approved: u32, rejected: u32) {
        vars::set(self.inst, scope, "nrOfApproved".to_owned(), Json::from(approved), false);
        vars::set(self.inst, scope, "nrOfRejected".to_owned(), Json::from(rejected), false);
    }
}

fn count_of(value: &Json) -> Option<usize> {
    match value {
        Json::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
