//! Variable scopes: a name is looked up from the innermost scope outwards (an iteration's
//! item, a sub-process's locals, then the process), and a multi-instance body answers its
//! counters (`nrOfInstances`…) without storing them.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use super::state::{Instance, ScopeKind};
use crate::expression::Variables;

/// The variables seen from `scope`, with `overlay` (inputs being mapped, outputs being
/// read) in front.
pub(crate) struct ScopeVars<'a> {
    pub instance: &'a Instance,
    pub scope: u32,
    pub overlay: Option<&'a Map<String, Json>>,
}

impl Variables for ScopeVars<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, Json>> {
        if let Some(v) = self.overlay.and_then(|o| o.get(name)) {
            return Some(Cow::Borrowed(v));
        }
        let mut at = Some(self.scope);
        let mut hops = 0;
        while let Some(id) = at {
            let scope = self.instance.scopes.iter().find(|s| s.id == id)?;
            if let Some(v) = scope.locals.get(name) {
                return Some(Cow::Borrowed(v));
            }
            match &scope.kind {
                ScopeKind::Process => return self.instance.variables.get(name).map(Cow::Borrowed),
                ScopeKind::MultiInstance(l) => {
                    let count = match name {
                        "nrOfInstances" => Some(l.total),
                        "nrOfCompletedInstances" => Some(l.completed),
                        "nrOfActiveInstances" => Some(l.started.saturating_sub(l.completed)),
                        "nrOfApproved" => Some(l.approved),
                        "nrOfRejected" => Some(l.rejected),
                        _ => None,
                    };
                    if let Some(n) = count {
                        return Some(Cow::Owned(Json::from(n)));
                    }
                }
                ScopeKind::SubProcess | ScopeKind::Iteration { .. } => {}
            }
            at = scope.parent;
            hops += 1;
            if hops > instance_depth_limit(self.instance) {
                return None;
            }
        }
        None
    }
}

/// A parent chain longer than the number of scopes is a cycle in a corrupted state.
fn instance_depth_limit(instance: &Instance) -> usize {
    instance.scopes.len()
}

/// Every variable local to the scopes between `scope` and the process (innermost wins),
/// what a task or job sees beyond the process variables.
pub(crate) fn locals(instance: &Instance, scope: u32) -> Map<String, Json> {
    let mut chain = Vec::new();
    let mut at = Some(scope);
    while let Some(id) = at {
        let Some(s) = instance.scopes.iter().find(|s| s.id == id) else { break };
        if chain.len() > instance.scopes.len() {
            break;
        }
        chain.push(s);
        at = s.parent;
    }
    let mut out = Map::new();
    for s in chain.iter().rev() {
        for (k, v) in &s.locals {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Sets `name` as seen from `scope`: in the innermost scope that already has it, otherwise
/// in the nearest multi-instance iteration when `iteration_local` (so parallel approvers do
/// not overwrite one another's answers), otherwise at process level.
pub(crate) fn set(instance: &mut Instance, scope: u32, name: String, value: Json, iteration_local: bool) {
    let mut at = Some(scope);
    let mut target = None;
    let mut hops = 0;
    while let Some(id) = at {
        let Some(s) = instance.scopes.iter().find(|s| s.id == id) else { break };
        if matches!(s.kind, ScopeKind::Process) {
            break;
        }
        if s.locals.contains_key(&name) || (iteration_local && matches!(s.kind, ScopeKind::Iteration { .. })) {
            target = Some(id);
            break;
        }
        at = s.parent;
        hops += 1;
        if hops > instance.scopes.len() {
            break;
        }
    }
    match target.and_then(|id| instance.scopes.iter_mut().find(|s| s.id == id)) {
        Some(s) => {
            s.locals.insert(name, value);
        }
        None => {
            instance.variables.insert(name, value);
        }
    }
}
