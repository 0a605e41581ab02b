//! Checks of a lifecycle: states, transitions and what they name.

use std::collections::HashMap;

use super::Problems;
use super::fields::{FieldLevel, Fields, set_value_problems};
use crate::schema::decl::{FieldKind, LifecycleDecl, ObjectTypeDecl, TransitionDecl};
use crate::schema::ident::identifier_problem;
use crate::schema::pointer::child;

pub fn check(decl: &ObjectTypeDecl, lifecycle: &LifecycleDecl, fields: &Fields<'_>, problems: &mut Problems) {
    let base = "/lifecycle";
    let states_at = child(base, "states");
    if lifecycle.states.is_empty() {
        problems.add(states_at.clone(), "a lifecycle needs at least one state");
    }
    let mut first_at: HashMap<&str, usize> = HashMap::new();
    for (j, state) in lifecycle.states.iter().enumerate() {
        let at = child(&states_at, j);
        if let Some(first) = first_at.get(state.name.as_str()) {
            problems.add(
                child(&at, "name"),
                format!("duplicate state name `{}` (first at {})", state.name, child(&states_at, first)),
            );
        } else {
            first_at.insert(&state.name, j);
            if let Some(reason) = identifier_problem(&state.name) {
                problems.add(child(&at, "name"), format!("`{}` {reason}", state.name));
            }
        }
        problems.label(child(&at, "label"), &state.label);
        for (k, name) in state.editable.iter().flatten().enumerate() {
            if decl.field(name).is_none() {
                problems.add(child(&child(&at, "editable"), k), format!("unknown field `{name}`"));
            }
        }
    }
    if lifecycle.state(&lifecycle.initial).is_none() {
        problems.add(child(base, "initial"), format!("unknown state `{}`", lifecycle.initial));
    }
    let transitions_at = child(base, "transitions");
    let mut first_transition: HashMap<&str, usize> = HashMap::new();
    for (t, transition) in lifecycle.transitions.iter().enumerate() {
        let at = child(&transitions_at, t);
        if let Some(first) = first_transition.get(transition.name.as_str()) {
            problems.add(
                child(&at, "name"),
                format!("duplicate transition name `{}` (first at {})", transition.name, child(&transitions_at, first)),
            );
        } else {
            first_transition.insert(&transition.name, t);
            if let Some(reason) = identifier_problem(&transition.name) {
                problems.add(child(&at, "name"), format!("`{}` {reason}", transition.name));
            }
        }
        transition_problems(decl, lifecycle, transition, &at, fields, problems);
    }
}

fn transition_problems(
    decl: &ObjectTypeDecl,
    lifecycle: &LifecycleDecl,
    transition: &TransitionDecl,
    at: &str,
    fields: &Fields<'_>,
    problems: &mut Problems,
) {
    problems.label(child(at, "label"), &transition.label);
    let from_at = child(at, "from");
    if transition.from.is_empty() {
        problems.add(from_at.clone(), "a transition starts from at least one state");
    }
    for (k, from) in transition.from.iter().enumerate() {
        match lifecycle.state(from) {
            None => problems.add(child(&from_at, k), format!("unknown state `{from}`")),
            Some(state) if state.is_final => {
                problems.add(child(&from_at, k), format!("`{from}` is final; no transition leaves it"));
            }
            Some(_) => {}
        }
    }
    if lifecycle.state(&transition.to).is_none() {
        problems.add(child(at, "to"), format!("unknown state `{}`", transition.to));
    }
    if transition.guard.as_deref().is_some_and(|g| g.trim().is_empty()) {
        problems.add(child(at, "guard"), "the expression is empty");
    }
    fields.check(&transition.inputs, &child(at, "inputs"), FieldLevel::Inputs, problems);
    let set_at = child(at, "set");
    for (name, value) in &transition.set {
        let pointer = child(&set_at, name);
        match decl.field(name) {
            None => problems.add(pointer, format!("unknown field `{name}`")),
            Some(field) if matches!(field.kind, FieldKind::Computed { .. }) => {
                problems.add(pointer, "a computed field cannot be set");
            }
            Some(field) => set_value_problems(field, value, &pointer, problems),
        }
    }
}
