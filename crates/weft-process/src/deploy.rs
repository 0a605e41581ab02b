//! A validated definition ready to run: the model, its compiled expressions, and the indexes
//! the engine looks elements up by. Build one with [`deploy`] (or [`parse`](crate::parse)
//! then [`validate`](crate::validate)); it is immutable and can be shared by every instance
//! of its version.

use std::collections::{BTreeSet, HashMap};

use weft_expr::Schema;

use crate::expression::Compiled;
use crate::model::{Definitions, Element, ElementKind, ExprId, Process, StartTrigger};
use crate::problem::Problem;

/// What a definition is checked against: the variables its expressions may name (the
/// process's declared variables and the bound record's fields), and the processes already
/// deployed that call activities may start.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub variables: Schema,
    pub processes: BTreeSet<String>,
}

impl Environment {
    pub fn new(variables: Schema) -> Environment {
        Environment { variables, processes: BTreeSet::new() }
    }

    pub fn with_process(mut self, id: impl Into<String>) -> Environment {
        self.processes.insert(id.into());
        self
    }
}

/// Parses and validates `xml` in one go.
pub fn deploy(xml: &str, env: &Environment) -> Result<Deployment, Vec<Problem>> {
    crate::validate(crate::parse(xml)?, env)
}

/// A definition that passed validation.
#[derive(Debug, Clone)]
pub struct Deployment {
    definitions: Definitions,
    compiled: Vec<Compiled>,
    schema: Schema,
    plans: Vec<Plan>,
}

/// Per-process lookups, built once.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub elements: HashMap<String, usize>,
    /// The none start event of each container (`None`: the process).
    pub none_starts: HashMap<Option<usize>, usize>,
    /// For each inclusive join: which elements a token could still reach it from.
    pub reaches: HashMap<usize, Vec<bool>>,
}

impl Deployment {
    pub(crate) fn new(definitions: Definitions, compiled: Vec<Compiled>, schema: Schema) -> Deployment {
        let plans = definitions.processes.iter().map(plan).collect();
        Deployment { definitions, compiled, schema, plans }
    }

    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// The executable processes' ids, in document order.
    pub fn process_ids(&self) -> impl Iterator<Item = &str> {
        self.definitions.processes.iter().filter(|p| p.executable).map(|p| p.id.as_str())
    }

    /// The start events of `process` (none, message and timer), for the façade to schedule
    /// timer starts and route messages that start instances.
    pub fn start_events(&self, process: &str) -> impl Iterator<Item = &Element> {
        self.definitions
            .process(process)
            .into_iter()
            .flat_map(|p| p.elements.iter())
            .filter(|e| e.parent.is_none() && matches!(e.kind, ElementKind::StartEvent(_)))
    }

    /// The process and start event a message named `name` starts, if any.
    pub fn message_start(&self, name: &str) -> Option<(&str, &str)> {
        self.definitions.processes.iter().filter(|p| p.executable).find_map(|p| {
            p.elements.iter().find_map(|e| match &e.kind {
                ElementKind::StartEvent(StartTrigger::Message(m))
                    if e.parent.is_none() && m.name.as_deref() == Some(name) =>
                {
                    Some((p.id.as_str(), e.id.as_str()))
                }
                _ => None,
            })
        })
    }

    pub(crate) fn schema(&self) -> &Schema {
        &self.schema
    }

    pub(crate) fn compiled(&self, id: ExprId) -> Option<&Compiled> {
        self.compiled.get(id.0 as usize)
    }

    pub(crate) fn process(&self, id: &str) -> Option<(&Process, &Plan)> {
        let index = self.definitions.processes.iter().position(|p| p.id == id)?;
        Some((self.definitions.processes.get(index)?, self.plans.get(index)?))
    }
}

fn plan(process: &Process) -> Plan {
    let mut elements = HashMap::with_capacity(process.elements.len());
    let mut none_starts = HashMap::new();
    for (i, e) in process.elements.iter().enumerate() {
        elements.entry(e.id.clone()).or_insert(i);
        if matches!(e.kind, ElementKind::StartEvent(StartTrigger::None)) {
            none_starts.entry(e.parent).or_insert(i);
        }
    }
    let mut reaches = HashMap::new();
    for (g, e) in process.elements.iter().enumerate() {
        if matches!(e.kind, ElementKind::InclusiveGateway { .. }) && e.incoming.len() > 1 {
            reaches.insert(g, upstream(process, g));
        }
    }
    Plan { elements, none_starts, reaches }
}

/// Every element with a path of sequence flows to `target`; an activity also reaches
/// whatever its boundary events lead to.
fn upstream(process: &Process, target: usize) -> Vec<bool> {
    let mut seen = vec![false; process.elements.len()];
    let mut stack = vec![target];
    while let Some(i) = stack.pop() {
        let Some(e) = process.elements.get(i) else { continue };
        let sources = e.incoming.iter().filter_map(|f| process.flows.get(*f).and_then(|f| f.source));
        let attached = match &e.kind {
            ElementKind::Boundary(b) => b.attached_to,
            _ => None,
        };
        for s in sources.chain(attached) {
            if let Some(slot) = seen.get_mut(s)
                && !*slot
            {
                *slot = true;
                stack.push(s);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deployment is built once per version and shared by every worker thread; so is
    /// the engine.
    #[test]
    fn deployments_and_engines_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Deployment>();
        shared::<crate::Engine<'static>>();
        shared::<crate::Instance>();
    }
}
