//! Ends and interruptions: end events (none, message, terminate, error), BPMN errors
//! looking for a boundary event to catch them, and boundary events firing.

use serde_json::{Map, Value as Json};

use super::run::Run;
use super::state::{Outcome, ScopeKind, TokenState};
use crate::model::{BoundaryTrigger, Element, ElementKind, EndResult};

impl<'a> Run<'a> {
    pub(crate) fn end(&mut self, t: u32, e: &Element, result: &EndResult) {
        self.record(t, e, Outcome::Completed);
        match result {
            EndResult::None => self.consume(t),
            EndResult::Message(m) => {
                if self.publish(t, e, m) {
                    self.consume(t);
                }
            }
            EndResult::Terminate => self.terminate(t),
            EndResult::Error(error) => self.throw(t, error.code(), &format!("thrown by end event `{}`", e.id)),
        }
    }

    /// A terminate end event: everything else in its scope ends now.
    pub(crate) fn terminate(&mut self, t: u32) {
        let scope = self.token_scope(t);
        let others: Vec<u32> =
            self.inst.tokens.iter().filter(|x| x.scope == scope && x.id != t).map(|x| x.id).collect();
        for o in others {
            self.cancel_token(o);
        }
        self.remove_token(t);
        self.scope_maybe_done(scope);
    }

    /// Throws BPMN error `code` from `from`: the nearest enclosing activity with a matching
    /// error boundary event catches it; otherwise the token becomes an incident carrying the
    /// code (a child instance's parent then gets it as `ChildFailed`).
    pub(crate) fn throw(&mut self, from: u32, code: &str, message: &str) {
        let mut current = Some(from);
        let mut hops = 0;
        while let Some(c) = current {
            hops += 1;
            if hops > self.inst.tokens.len() + self.inst.scopes.len() + 1 {
                break;
            }
            let Some(tok) = self.token(c) else { break };
            let scope_id = tok.scope;
            if !self.is_iteration_token(c)
                && let Some(e) = self.token_element(c)
                && let Some(boundary) = self.catching_boundary(e, code)
            {
                self.interrupt(c, boundary, None);
                return;
            }
            let Some(scope) = self.scope(scope_id) else { break };
            current = match scope.kind {
                ScopeKind::Process => None,
                ScopeKind::SubProcess | ScopeKind::MultiInstance(_) => scope.token,
                ScopeKind::Iteration { .. } => scope.parent.and_then(|b| self.scope(b)).and_then(|b| b.token),
            };
        }
        self.incident(from, format!("error `{code}` was not caught ({message})"), Some(code.to_owned()));
    }

    pub(crate) fn catching_boundary(&self, e: &Element, code: &str) -> Option<&'a Element> {
        let mut catch_all = None;
        for &b in &e.boundaries {
            let Some(boundary) = self.element_at(b) else { continue };
            if let ElementKind::Boundary(def) = &boundary.kind
                && let BoundaryTrigger::Error(error) = &def.trigger
            {
                match error {
                    Some(error) if error.code() == code => return Some(boundary),
                    Some(_) => {}
                    None => catch_all = catch_all.or(Some(boundary)),
                }
            }
        }
        catch_all
    }

    /// An interrupting boundary event fired: the activity `t` carries ends with everything
    /// inside it, and `t` continues from the boundary event.
    pub(crate) fn interrupt(&mut self, t: u32, boundary: &Element, payload: Option<Map<String, Json>>) {
        let body = self.release_scopes(t);
        self.drop_waits(t);
        if !body && let Some(e) = self.token_element(t) {
            self.record(t, e, Outcome::Cancelled);
        }
        self.forget_added(t);
        let now = self.now;
        if let Some(tok) = self.token_mut(t) {
            boundary.id.clone_into(&mut tok.element);
            tok.entered_at = now;
            tok.state = TokenState::Waiting;
        }
        if let Some(payload) = payload
            && !self.apply_outputs(t, boundary, payload, true)
        {
            return;
        }
        self.leave(t, true);
    }

    /// A non-interrupting boundary event fired: a new path starts beside the activity.
    pub(crate) fn branch_off(&mut self, t: u32, boundary: &Element, payload: Option<Map<String, Json>>) {
        let scope = self.token_scope(t);
        let fresh = self.spawn(&boundary.id, scope);
        if let Some(tok) = self.token_mut(fresh) {
            tok.state = TokenState::Waiting;
        }
        if let Some(payload) = payload
            && !self.apply_outputs(fresh, boundary, payload, true)
        {
            return;
        }
        self.leave(fresh, true);
    }
}
