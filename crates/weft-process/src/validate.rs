//! Whether a parsed definition can run, with every reason it cannot listed at once.
//!
//! Beyond the shape of the graph, the checks are the ones that would otherwise surface as
//! stuck instances weeks later: a gateway that can find no way out (so a default flow is
//! required whenever there is a choice), a condition naming a variable nobody sets, a call
//! to a process that does not exist.

use std::collections::{BTreeSet, HashMap, HashSet};

use weft_expr::{FieldType, Schema};

use crate::deploy::{Deployment, Environment};
use crate::expression::{self, Compiled};
use crate::model::{
    BoundaryTrigger, CatchTrigger, Definitions, Element, ElementKind, ExprId, ExprRole, Expression, Process,
    StartTrigger, Timer, TimerKind,
};
use crate::problem::{Problem, ProblemCode};
use crate::timer;

/// Names the engine itself sets inside a multi-instance activity.
pub(crate) const LOOP_COUNTER: &str = "loopCounter";
pub(crate) const COMPLETION_NAMES: [&str; 5] =
    ["nrOfInstances", "nrOfCompletedInstances", "nrOfActiveInstances", "nrOfApproved", "nrOfRejected"];

/// Checks `definitions` against `env` and compiles its expressions; refuses with every
/// problem found, the reader's included, ordered by line.
pub fn validate(definitions: Definitions, env: &Environment) -> Result<Deployment, Vec<Problem>> {
    // Pools drawn for documentation (`isExecutable="false"`) never run, so only their ids
    // matter; what is inside them is not checked.
    let documentation: HashSet<&str> = definitions
        .processes
        .iter()
        .filter(|p| !p.executable)
        .flat_map(|p| {
            std::iter::once(p.id.as_str())
                .chain(p.elements.iter().map(|e| e.id.as_str()))
                .chain(p.flows.iter().map(|f| f.id.as_str()))
        })
        .collect();
    let mut problems: Vec<Problem> = definitions
        .problems
        .iter()
        .filter(|p| p.element.as_deref().is_none_or(|e| !documentation.contains(e)))
        .cloned()
        .collect();
    duplicate_ids(&definitions, &mut problems);
    if !definitions.processes.iter().any(|p| p.executable) {
        problems.push(Problem::new(None, None, ProblemCode::NoProcess, "the document has no executable process"));
    }
    let known: BTreeSet<&str> = definitions
        .processes
        .iter()
        .filter(|p| p.executable)
        .map(|p| p.id.as_str())
        .chain(env.processes.iter().map(String::as_str))
        .collect();
    for process in definitions.processes.iter().filter(|p| p.executable) {
        starts(process, &mut problems);
        reachability(process, &mut problems);
        flows_and_gateways(process, &mut problems);
        activities(process, &known, &mut problems);
    }
    let compiled = expressions(&definitions, env, &documentation, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line.unwrap_or(0));
        return Err(problems);
    }
    Ok(Deployment::new(definitions, compiled, env.variables.clone()))
}

fn duplicate_ids(defs: &Definitions, problems: &mut Vec<Problem>) {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let ids = defs
        .processes
        .iter()
        .flat_map(|p| {
            std::iter::once((p.id.as_str(), p.line))
                .chain(p.elements.iter().map(|e| (e.id.as_str(), e.line)))
                .chain(p.flows.iter().map(|f| (f.id.as_str(), f.line)))
        })
        .chain(defs.messages.iter().map(|m| (m.id.as_str(), m.line)))
        .chain(defs.errors.iter().map(|e| (e.id.as_str(), e.line)));
    for (id, line) in ids {
        if let Some(first) = seen.insert(id, line) {
            seen.insert(id, first);
            problems.push(Problem::at(
                id,
                line,
                ProblemCode::DuplicateId,
                format!("the id is already used on line {first}"),
            ));
        }
    }
}

/// Each container (the process, each sub-process) and the elements directly in it.
fn containers(process: &Process) -> Vec<(Option<usize>, Vec<usize>)> {
    let mut out: Vec<(Option<usize>, Vec<usize>)> = vec![(None, Vec::new())];
    for (i, e) in process.elements.iter().enumerate() {
        if matches!(e.kind, ElementKind::SubProcess) {
            out.push((Some(i), Vec::new()));
        }
    }
    for (i, e) in process.elements.iter().enumerate() {
        if let Some(slot) = out.iter_mut().find(|(c, _)| *c == e.parent) {
            slot.1.push(i);
        }
    }
    out
}

fn starts(process: &Process, problems: &mut Vec<Problem>) {
    for (container, members) in containers(process) {
        let (owner, line) = match container.and_then(|c| process.elements.get(c)) {
            Some(e) => (e.id.as_str(), e.line),
            None => (process.id.as_str(), process.line),
        };
        let mut none_starts = 0;
        let mut any = false;
        for &i in &members {
            let e = &process.elements[i];
            let ElementKind::StartEvent(trigger) = &e.kind else { continue };
            any = true;
            match trigger {
                StartTrigger::None => none_starts += 1,
                _ if container.is_some() => problems.push(Problem::at(
                    &e.id,
                    e.line,
                    ProblemCode::StartNotAllowed,
                    "an embedded sub-process starts with a none start event only",
                )),
                _ => {}
            }
            if !e.incoming.is_empty() {
                problems.push(Problem::at(
                    &e.id,
                    e.line,
                    ProblemCode::InvalidValue,
                    "a start event has no incoming flow",
                ));
            }
        }
        if !any {
            problems.push(Problem::at(owner, line, ProblemCode::NoStartEvent, "there is no start event"));
        } else if none_starts > 1 {
            problems.push(Problem::at(
                owner,
                line,
                ProblemCode::SeveralNoneStarts,
                format!("there are {none_starts} none start events; keep one"),
            ));
        } else if container.is_some() && none_starts == 0 {
            problems.push(Problem::at(
                owner,
                line,
                ProblemCode::NoStartEvent,
                "the sub-process has no none start event",
            ));
        }
    }
}

/// Elements no start event leads to, and elements whose token would have nowhere to go.
fn reachability(process: &Process, problems: &mut Vec<Problem>) {
    let n = process.elements.len();
    let mut reached = vec![false; n];
    let mut stack: Vec<usize> = process
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| e.parent.is_none() && matches!(e.kind, ElementKind::StartEvent(_)))
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        let e = &process.elements[i];
        let next = e.outgoing.iter().filter_map(|f| process.flows.get(*f).and_then(|f| f.target));
        let inner = process
            .elements
            .iter()
            .enumerate()
            .filter(|(_, c)| c.parent == Some(i) && matches!(c.kind, ElementKind::StartEvent(_)))
            .map(|(c, _)| c);
        stack.extend(next.chain(e.boundaries.iter().copied()).chain(inner).filter(|j| !reached[*j]));
    }
    for (i, e) in process.elements.iter().enumerate() {
        let parent_reached = e.parent.is_none_or(|p| reached[p]);
        let attached_reached = match &e.kind {
            ElementKind::Boundary(b) => b.attached_to.is_some_and(|a| reached[a]),
            _ => true,
        };
        if !reached[i] && parent_reached && attached_reached {
            let why = if e.incoming.is_empty() { "it has no incoming flow" } else { "no start event leads to it" };
            problems.push(Problem::at(
                &e.id,
                e.line,
                ProblemCode::Unreachable,
                format!("the {} is unreachable: {why}", e.kind_name()),
            ));
        }
        if e.outgoing.is_empty() && !matches!(e.kind, ElementKind::EndEvent(_)) {
            problems.push(Problem::at(
                &e.id,
                e.line,
                ProblemCode::DeadEnd,
                format!("the {} has no outgoing flow; end the path with an end event", e.kind_name()),
            ));
        }
    }
}

fn flows_and_gateways(process: &Process, problems: &mut Vec<Problem>) {
    for flow in &process.flows {
        let Some(source) = flow.source.and_then(|s| process.elements.get(s)) else { continue };
        let choosing =
            matches!(source.kind, ElementKind::ExclusiveGateway { .. } | ElementKind::InclusiveGateway { .. });
        if flow.condition.is_some() && !choosing {
            problems.push(Problem::at(
                &flow.id,
                flow.line,
                ProblemCode::ConditionNotAllowed,
                format!(
                    "the flow leaves a {} and cannot have a condition; put an exclusive or inclusive gateway there",
                    source.kind_name()
                ),
            ));
        }
    }
    for e in &process.elements {
        match &e.kind {
            ElementKind::ExclusiveGateway { default } | ElementKind::InclusiveGateway { default }
                if e.outgoing.len() > 1 =>
            {
                if default.is_none() {
                    problems.push(Problem::at(
                        &e.id,
                        e.line,
                        ProblemCode::NoDefaultFlow,
                        "the gateway has several outgoing flows and no default flow: when no condition holds the \
                         instance would be stuck; mark one flow as the default",
                    ));
                }
                for &f in &e.outgoing {
                    let Some(flow) = process.flows.get(f) else { continue };
                    if Some(f) != *default && flow.condition.is_none() {
                        problems.push(Problem::at(
                            &flow.id,
                            flow.line,
                            ProblemCode::MissingCondition,
                            format!("the flow leaves gateway `{}` without a condition and is not its default", e.id),
                        ));
                    }
                }
            }
            ElementKind::EventBasedGateway => event_gateway(process, e, problems),
            _ => {}
        }
    }
}

fn event_gateway(process: &Process, gateway: &Element, problems: &mut Vec<Problem>) {
    if gateway.outgoing.len() < 2 {
        problems.push(Problem::at(
            &gateway.id,
            gateway.line,
            ProblemCode::InvalidEventGateway,
            "an event-based gateway needs at least two outgoing flows",
        ));
    }
    for &f in &gateway.outgoing {
        let Some(target) = process.flows.get(f).and_then(|f| f.target).and_then(|t| process.elements.get(t)) else {
            continue;
        };
        let catches = matches!(target.kind, ElementKind::IntermediateCatch(_) | ElementKind::ReceiveTask(_));
        if !catches || target.incoming.len() != 1 || target.multi_instance.is_some() {
            problems.push(Problem::at(
                &target.id,
                target.line,
                ProblemCode::InvalidEventGateway,
                format!(
                    "after event-based gateway `{}` only timer or message catch events (or receive tasks) with no \
                     other incoming flow may follow",
                    gateway.id
                ),
            ));
        }
    }
}

fn activities(process: &Process, known: &BTreeSet<&str>, problems: &mut Vec<Problem>) {
    for e in &process.elements {
        if let ElementKind::CallActivity(call) = &e.kind
            && !known.contains(call.process_id.as_str())
        {
            problems.push(Problem::at(
                &e.id,
                e.line,
                ProblemCode::UnknownProcess,
                format!("the called process `{}` is neither in this document nor deployed", call.process_id),
            ));
        }
        if let Some(mi) = &e.multi_instance {
            if !e.is_activity() {
                problems.push(Problem::at(
                    &e.id,
                    e.line,
                    ProblemCode::InvalidValue,
                    "only activities can be multi-instance",
                ));
            } else if mi.input_collection.is_none() && mi.cardinality.is_none() {
                problems.push(Problem::at(
                    &e.id,
                    e.line,
                    ProblemCode::NoInputCollection,
                    "the multi-instance activity has neither an input collection nor a loop cardinality",
                ));
            }
        }
        if let ElementKind::Boundary(b) = &e.kind
            && let Some(activity) = b.attached_to.and_then(|a| process.elements.get(a))
            && activity.parent != e.parent
        {
            problems.push(Problem::at(
                &e.id,
                e.line,
                ProblemCode::InvalidValue,
                "a boundary event must sit in the same (sub-)process as its activity",
            ));
        }
        if let ElementKind::Boundary(b) = &e.kind
            && matches!(b.trigger, BoundaryTrigger::Error(_))
            && b.attached_to.and_then(|a| process.elements.get(a)).is_some_and(|a| {
                matches!(a.kind, ElementKind::UserTask(_) | ElementKind::ReceiveTask(_) | ElementKind::Task)
            })
        {
            problems.push(Problem::at(
                &e.id,
                e.line,
                ProblemCode::InvalidValue,
                "errors come from jobs, sub-processes and called processes; this activity throws none",
            ));
        }
    }
}

/// The names visible to expressions of an element: the caller's variables, plus what
/// enclosing multi-instance activities and input mappings define.
fn scope_schema(process: &Process, start: Option<usize>, base: &Schema, completion: bool) -> Schema {
    let mut extra: Vec<(&str, FieldType)> = Vec::new();
    if process.elements.iter().any(|e| e.multi_instance.is_some()) {
        // The tally of the last multi-instance activity to finish, for the gateway after it.
        extra.extend(["nrOfApproved", "nrOfRejected"].map(|n| (n, FieldType::Integer)));
    }
    let mut at = start;
    while let Some(i) = at {
        let Some(e) = process.elements.get(i) else { break };
        if let Some(mi) = &e.multi_instance {
            extra.push((LOOP_COUNTER, FieldType::Integer));
            if let Some(name) = &mi.input_element {
                extra.push((name, base.field_type(name).cloned().unwrap_or(FieldType::Opaque("json"))));
            }
            if completion && at == start {
                extra.extend(COMPLETION_NAMES.iter().map(|n| (*n, FieldType::Integer)));
            }
        }
        for m in &e.inputs {
            extra.push((&m.target, base.field_type(&m.target).cloned().unwrap_or(FieldType::Opaque("json"))));
        }
        at = e.parent;
    }
    let mut schema = base.clone();
    for (name, ty) in extra {
        schema = schema.with_var(name, ty);
    }
    schema
}

fn expressions(
    defs: &Definitions,
    env: &Environment,
    documentation: &HashSet<&str>,
    problems: &mut Vec<Problem>,
) -> Vec<Compiled> {
    // Where each id lives: (process, the element whose scope the expression sees).
    let mut owner: HashMap<&str, (usize, Option<usize>)> = HashMap::new();
    for (p, process) in defs.processes.iter().enumerate() {
        for (i, e) in process.elements.iter().enumerate() {
            let seen_from = match &e.kind {
                ElementKind::Boundary(b) => b.attached_to.or(e.parent),
                _ => Some(i),
            };
            owner.entry(e.id.as_str()).or_insert((p, seen_from));
        }
        for f in &process.flows {
            owner.entry(f.id.as_str()).or_insert((p, f.parent));
        }
    }
    let mut compiled = Vec::with_capacity(defs.expressions.len());
    let mut schemas: HashMap<(usize, Option<usize>, bool), Schema> = HashMap::new();
    for (i, expr) in defs.expressions.iter().enumerate() {
        let id = ExprId(u32::try_from(i).unwrap_or(u32::MAX));
        if documentation.contains(expr.element.as_str()) {
            compiled.push(Compiled::Text(String::new()));
            continue;
        }
        let completion = expr.role == ExprRole::Completion;
        let schema = match owner.get(expr.element.as_str()) {
            Some(&(p, at)) => schemas
                .entry((p, at, completion))
                .or_insert_with(|| scope_schema(&defs.processes[p], at, &env.variables, completion)),
            None => &env.variables,
        };
        let what = match expr.role {
            ExprRole::Condition => "condition",
            ExprRole::Completion => "completion condition",
            ExprRole::Timer => "timer",
            ExprRole::Value | ExprRole::Output | ExprRole::TextOrValue => "expression",
        };
        match expression::compile(expr, schema) {
            Ok(c) => {
                literal_checks(defs, id, expr, &c, problems);
                compiled.push(c);
            }
            Err(errors) => {
                for error in errors {
                    problems.push(Problem::at(
                        &expr.element,
                        expr.line,
                        ProblemCode::InvalidExpression,
                        format!("the {what} `{}` is invalid: {error}", expr.text),
                    ));
                }
                compiled.push(Compiled::Text(String::new()));
            }
        }
    }
    compiled
}

/// Literal timers, cardinalities and dates are read now rather than at run time.
fn literal_checks(defs: &Definitions, id: ExprId, expr: &Expression, compiled: &Compiled, problems: &mut Vec<Problem>) {
    let Compiled::Text(text) = compiled else { return };
    if expr.role == ExprRole::Timer {
        let kind = timer_kind(defs, id).unwrap_or(TimerKind::Duration);
        if let Err(message) = timer::read_timer(kind, text) {
            problems.push(Problem::at(&expr.element, expr.line, ProblemCode::InvalidTimer, message));
        }
        return;
    }
    for process in &defs.processes {
        for e in process.elements.iter().filter(|e| e.id == expr.element) {
            if e.multi_instance.as_ref().and_then(|m| m.cardinality) == Some(id) && text.parse::<u32>().is_err() {
                problems.push(Problem::at(
                    &e.id,
                    expr.line,
                    ProblemCode::InvalidValue,
                    format!("the loop cardinality `{text}` is not a count"),
                ));
            }
            if let ElementKind::UserTask(task) = &e.kind
                && (task.due == Some(id) || task.follow_up == Some(id))
                && timer::read_instant(text).is_none()
            {
                problems.push(Problem::at(
                    &e.id,
                    expr.line,
                    ProblemCode::InvalidValue,
                    format!("`{text}` is not a date and time such as 2026-03-01T18:00:00+08:00"),
                ));
            }
        }
    }
}

fn timer_kind(defs: &Definitions, id: ExprId) -> Option<TimerKind> {
    let kind_of = |t: &Timer| (t.value == id).then_some(t.kind);
    defs.processes.iter().flat_map(|p| &p.elements).find_map(|e| match &e.kind {
        ElementKind::StartEvent(StartTrigger::Timer(t)) | ElementKind::IntermediateCatch(CatchTrigger::Timer(t)) => {
            kind_of(t)
        }
        ElementKind::Boundary(b) => match &b.trigger {
            BoundaryTrigger::Timer(t) => kind_of(t),
            _ => None,
        },
        _ => None,
    })
}
