//! Weft's decisions: DMN models (decision tables, decision requirement graphs, business
//! knowledge models, boxed expressions) deployed, listed and evaluated behind Weft's own
//! interface, whatever engine stands behind it.
//!
//! ```text
//! DMN XML ──DecisionModel::parse──▶ DecisionModel ──evaluate(name, JSON)──▶ DecisionOutcome
//!            (every problem at once)   .decisions()                         value + matched rules
//! ```
//!
//! - [`DecisionModel::parse`] reads DMN 1.1–1.5 as dmn-js / Camunda Modeler save it,
//!   checks it (well-formed, DMN, unique ids and names, resolvable requirements, no cycles,
//!   well-formed tables and hit policies, no external Java/PMML functions, size limits) and
//!   compiles it; every problem comes back at once as a [`DecisionProblem`].
//! - [`DecisionModel::evaluate`] evaluates one decision (or decision service) on a JSON
//!   object and returns its [`Value`] and, per decision table, which rules matched.
//! - Two paths, one semantics: decision tables of literals, comparisons, ranges and lists
//!   over input data (and over other such tables) take Weft's fast path (no engine, no
//!   thread, well under a microsecond); everything else (full FEEL, boxed expressions,
//!   business knowledge models, item definitions, decision services, imports) goes to the
//!   `dsntk` engine (pinned 0.3.0) on a worker thread, inside `catch_unwind`, within a time
//!   limit. The DMN TCK (levels 2 and 3) runs through this interface: see CONFORMANCE.md.
#![forbid(unsafe_code)]

mod dmn;
mod engine;
mod error;
mod model;
mod native;
mod value;

pub use dmn::{Aggregation, DmnVersion, HitPolicy};
pub use error::{DecisionProblem, EvalError, ProblemKind};
pub use model::{DecisionInfo, DecisionModel, DecisionOutcome, EvalOptions, InputInfo, TableTrace};
pub use value::{BuiltinType, Date, DateTime, DaysTimeDuration, Number, Time, Value, YearsMonthsDuration};

use std::time::Duration;

/// Bounds on what one model may cost to deploy and to evaluate, so that no input, however
/// hostile, can exhaust the stack, the memory or the time of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest model, in bytes of XML.
    pub max_xml_bytes: usize,
    /// Most XML nodes (elements, attributes' texts, …) in one model.
    pub max_xml_nodes: u32,
    /// Deepest element nesting.
    pub max_xml_depth: usize,
    /// Longest single FEEL expression, in bytes.
    pub max_expression_len: usize,
    /// Deepest bracket nesting in one FEEL expression.
    pub max_expression_nesting: usize,
    /// Longest an engine evaluation may take before the caller gets `Timeout`.
    pub eval_timeout: Duration,
    /// Longest compiling a model may take.
    pub build_timeout: Duration,
    /// Most engine evaluations running at once in the process (abandoned ones included).
    pub max_running_evaluations: usize,
    /// Stack of each engine worker thread (reserved, touched only as used).
    pub engine_stack_bytes: usize,
    /// Most decision tables explained per evaluation outside the fast path.
    pub max_explained_tables: usize,
    /// Accept models whose named functions call themselves (directly or through each
    /// other). Off by default: the engine recurses on its thread's stack, and a recursion
    /// that never ends exhausts it, which aborts the whole process.
    pub allow_recursion: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_xml_bytes: 4 << 20,
            max_xml_nodes: 500_000,
            max_xml_depth: 128,
            max_expression_len: 16 << 10,
            max_expression_nesting: 64,
            eval_timeout: Duration::from_secs(5),
            build_timeout: Duration::from_secs(30),
            max_running_evaluations: 64,
            engine_stack_bytes: 256 << 20,
            max_explained_tables: 32,
            allow_recursion: false,
        }
    }
}
