//! Moving a running instance to another version of its process: an explicit admin action,
//! never automatic (running instances stay on the version they started on).
//!
//! The state names elements by their BPMN ids, so migrating is a rename: every element an
//! instance stands at (tokens, the scopes they opened, the waits they hold) is taken to the
//! element of the same id in the new version, or to the one the admin's mapping names. The
//! rules are those of Camunda 8's process instance migration, and they exist so that the
//! migrated instance is one the new version could have produced itself:
//! - the element it lands on is of the same kind (a user task stays a user task, a
//!   multi-instance body stays a multi-instance body of the same flavour);
//! - it sits in the mapped container (an element inside a sub-process stays inside the
//!   sub-process it was mapped with);
//! - a timer or message boundary event armed at the old element lands on one of the same
//!   trigger, attached to the new element; the new element must not bring boundary events
//!   the instance has not armed (they would never fire);
//! - a message subscription keeps its message name (the subscription is found by it);
//! - a token waiting at a join comes in over a flow the new version also has.
//!
//! Everything else carries over unchanged: variables, due times of timers, task ids, the
//! history of the steps already taken. Every problem is listed at once, and on any problem
//! nothing changes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::state::{Instance, ScopeKind, Status, TokenState, WaitKind};
use crate::deploy::Deployment;
use crate::model::{BoundaryTrigger, CatchTrigger, Element, ElementKind, Process};

/// Why an instance cannot move as asked: the element concerned (an element of the running
/// version, or a key of the mapping) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationProblem {
    pub element: String,
    pub reason: String,
}

/// What a migration did: each element of the old version that something stood at, and the
/// element of the new version it stands at now.
pub type Moved = BTreeMap<String, String>;

/// Migrates `instance` (running on `from`) to `to`, renaming its elements by `mapping`
/// (old id → new id; an element without an entry keeps its id). Returns the migrated state
/// and what moved where; on `Err` nothing was changed.
pub fn migrate(
    from: &Deployment,
    to: &Deployment,
    instance: &Instance,
    mapping: &BTreeMap<String, String>,
) -> Result<(Instance, Moved), Vec<MigrationProblem>> {
    let problem = |element: &str, reason: String| MigrationProblem { element: element.to_owned(), reason };
    if instance.status != Status::Active {
        return Err(vec![problem("", format!("the instance is no longer active ({:?})", instance.status))]);
    }
    let Some((old, _)) = from.process(&instance.process) else {
        return Err(vec![problem("", format!("the running version has no process `{}`", instance.process))]);
    };
    let Some((new, _)) = to.process(&instance.process).filter(|(p, _)| p.executable) else {
        return Err(vec![problem("", format!("the new version has no executable process `{}`", instance.process))]);
    };
    let mut problems = Vec::new();
    for (source, target) in mapping {
        if old.element(source).is_none() {
            problems.push(problem(source, format!("the running version has no element `{source}`")));
        }
        if new.element(target).is_none() {
            problems.push(problem(source, format!("the new version has no element `{target}` to map `{source}` to")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut moved = Moved::new();

    // Every element that holds a token, and every element a wait is at.
    let mut standing: Vec<&str> = instance.tokens.iter().map(|t| t.element.as_str()).collect();
    standing.extend(instance.waits.iter().map(|w| w.element.as_str()));
    standing.sort_unstable();
    standing.dedup();
    for id in standing {
        let Some((_, before)) = old.element(id) else {
            problems.push(problem(id, format!("the instance stands at `{id}`, which its version does not have")));
            continue;
        };
        let target = target_of(mapping, id);
        let Some((_, after)) = new.element(target) else {
            problems.push(problem(
                id,
                format!("the instance stands at `{id}` and the new version has no `{target}`: map it to an element"),
            ));
            continue;
        };
        if let Some(reason) = kind_change(before, after) {
            problems.push(problem(id, format!("`{id}` cannot become `{target}`: {reason}")));
            continue;
        }
        let (old_parent, new_parent) = (container(old, before), container(new, after));
        if old_parent.map(|p| target_of(mapping, p)) != new_parent {
            problems.push(problem(
                id,
                format!(
                    "`{id}` is inside {} but `{target}` is inside {}; map the container too",
                    old_parent.map_or("the process".to_owned(), |p| format!("`{p}`")),
                    new_parent.map_or("the process".to_owned(), |p| format!("`{p}`")),
                ),
            ));
            continue;
        }
        moved.insert(id.to_owned(), target.to_owned());
    }

    // Boundary events: the armed ones must land on the new element's, and the new element
    // must not have timer or message boundaries that nothing arms.
    for token in instance.tokens.iter().filter(|t| matches!(t.state, TokenState::Waiting)) {
        let (Some((_, before)), Some((_, after))) =
            (old.element(&token.element), new.element(target_of(mapping, &token.element)))
        else {
            continue;
        };
        if before.boundaries.is_empty() && after.boundaries.is_empty() {
            continue;
        }
        let armed: Vec<&str> = instance
            .waits
            .iter()
            .filter(|w| w.token == token.id)
            .filter(|w| old.element(&w.element).is_some_and(|(_, e)| matches!(e.kind, ElementKind::Boundary(_))))
            .map(|w| target_of(mapping, &w.element))
            .collect();
        // A body of a multi-instance activity or a token inside a scope arms its boundaries
        // once, on the token that entered the activity; iterations arm none.
        let iteration =
            instance.scopes.iter().any(|s| s.id == token.scope && matches!(s.kind, ScopeKind::Iteration { .. }))
                && before.multi_instance.is_some();
        if iteration {
            continue;
        }
        for b in &after.boundaries {
            let Some(boundary) = new.elements.get(*b) else { continue };
            let ElementKind::Boundary(def) = &boundary.kind else { continue };
            if matches!(def.trigger, BoundaryTrigger::Error(_)) {
                continue;
            }
            if !armed.contains(&boundary.id.as_str()) {
                problems.push(problem(
                    &token.element,
                    format!(
                        "the new version attaches boundary event `{}` to `{}`, which running instances have not armed",
                        boundary.id, after.id
                    ),
                ));
            }
        }
        for wait in instance.waits.iter().filter(|w| w.token == token.id) {
            let Some((_, was)) = old.element(&wait.element) else { continue };
            if !matches!(was.kind, ElementKind::Boundary(_)) {
                continue;
            }
            let lands = new.element(target_of(mapping, &wait.element)).map(|(_, e)| e);
            let attached = lands.and_then(|e| match &e.kind {
                ElementKind::Boundary(b) => b.attached_to.and_then(|i| new.elements.get(i)).map(|a| a.id.as_str()),
                _ => None,
            });
            if attached != Some(after.id.as_str()) {
                problems.push(problem(
                    &wait.element,
                    format!(
                        "boundary event `{}` must land on a boundary event attached to `{}`",
                        wait.element, after.id
                    ),
                ));
            }
        }
    }

    // Message subscriptions are found by name; the name must not change under them.
    for wait in &instance.waits {
        let WaitKind::Message { name, .. } = &wait.kind else { continue };
        let Some((_, after)) = new.element(target_of(mapping, &wait.element)) else { continue };
        if message_name(after) != Some(name.as_str()) {
            problems.push(problem(
                &wait.element,
                format!(
                    "`{}` waits for message `{name}`; `{}` waits for {}",
                    wait.element,
                    after.id,
                    message_name(after).map_or("no message".to_owned(), |n| format!("`{n}`"))
                ),
            ));
        }
    }

    // A token waiting at a join came over a flow; the new version must have that flow into
    // the mapped gateway.
    for token in &instance.tokens {
        let TokenState::Joining { via } = &token.state else { continue };
        let into = target_of(mapping, &token.element);
        let kept = new
            .flows
            .iter()
            .any(|f| &f.id == via && f.target.and_then(|i| new.elements.get(i)).is_some_and(|e| e.id == into));
        if !kept {
            problems.push(problem(
                &token.element,
                format!(
                    "a token waits at join `{}` over flow `{via}`, which does not lead to `{into}` in the new version",
                    token.element
                ),
            ));
        }
    }

    if !problems.is_empty() {
        problems.sort_by(|a, b| (&a.element, &a.reason).cmp(&(&b.element, &b.reason)));
        problems.dedup();
        return Err(problems);
    }
    let mut migrated = instance.clone();
    for token in &mut migrated.tokens {
        token.element = target_of(mapping, &token.element).to_owned();
    }
    for wait in &mut migrated.waits {
        wait.element = target_of(mapping, &wait.element).to_owned();
    }
    moved.retain(|from, to| from != to);
    Ok((migrated, moved))
}

/// Where `id` goes: the mapping's entry, or the same id.
fn target_of<'a>(mapping: &'a BTreeMap<String, String>, id: &'a str) -> &'a str {
    mapping.get(id).map_or(id, String::as_str)
}

/// The id of the embedded sub-process an element sits in.
fn container<'p>(process: &'p Process, element: &Element) -> Option<&'p str> {
    element.parent.and_then(|i| process.elements.get(i)).map(|e| e.id.as_str())
}

/// Why `before` cannot become `after`, if it cannot.
fn kind_change(before: &Element, after: &Element) -> Option<String> {
    if std::mem::discriminant(&before.kind) != std::mem::discriminant(&after.kind) {
        return Some(format!("a {} is not a {}", before.kind_name(), after.kind_name()));
    }
    match (&before.kind, &after.kind) {
        (ElementKind::IntermediateCatch(a), ElementKind::IntermediateCatch(b))
            if std::mem::discriminant(a) != std::mem::discriminant(b) =>
        {
            return Some(format!("a {} catch event is not a {} one", catch_name(a), catch_name(b)));
        }
        (ElementKind::Boundary(a), ElementKind::Boundary(b)) => {
            if std::mem::discriminant(&a.trigger) != std::mem::discriminant(&b.trigger) {
                return Some("the boundary events have different triggers".into());
            }
            if a.interrupting != b.interrupting {
                return Some("one boundary event interrupts and the other does not".into());
            }
        }
        _ => {}
    }
    match (&before.multi_instance, &after.multi_instance) {
        (Some(_), None) => Some("the new element is not multi-instance".into()),
        (None, Some(_)) => Some("the new element is multi-instance".into()),
        (Some(a), Some(b)) if a.sequential != b.sequential => {
            Some("one is a sequential multi-instance and the other a parallel one".into())
        }
        _ => None,
    }
}

fn catch_name(trigger: &CatchTrigger) -> &'static str {
    match trigger {
        CatchTrigger::Timer(_) => "timer",
        CatchTrigger::Message(_) => "message",
    }
}

fn message_name(element: &Element) -> Option<&str> {
    match &element.kind {
        ElementKind::ReceiveTask(m)
        | ElementKind::IntermediateCatch(CatchTrigger::Message(m))
        | ElementKind::StartEvent(crate::model::StartTrigger::Message(m)) => m.name.as_deref(),
        ElementKind::Boundary(b) => match &b.trigger {
            BoundaryTrigger::Message(m) => m.name.as_deref(),
            _ => None,
        },
        _ => None,
    }
}
