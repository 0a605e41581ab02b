//! BPMN 2.0 processes, pure: definitions parsed from XML and validated, and the engine's
//! state machine (no I/O; the façade persists what it decides).
//!
//! ```text
//! XML ──parse──▶ Definitions ──validate(Environment)──▶ Deployment
//!                                                          │
//!   Engine::start(deployment, Start, now) ──▶ (Instance, Vec<Effect>)
//!   Engine::apply(deployment, &mut Instance, Event, now) ──▶ Vec<Effect>
//! ```
//!
//! - [`parse`] reads what bpmn-js and Camunda Modeler save (Camunda 8 `zeebe:` extensions,
//!   Weft's own `weft:` ones); [`validate`] refuses a definition with every problem listed,
//!   FEEL expressions checked in strict mode against the caller's variables.
//! - The [`Engine`] moves tokens deterministically: the same state, event and time always
//!   give the same new state, effects and ids, so a step replayed after a crash repeats
//!   itself exactly and the persistence layer can key each effect by its [`WaitId`].
//! - Timers go through a [`WorkingTime`] hook so business calendars can stretch delays over
//!   working hours only.
//!
//! # Persisting
//!
//! The engine decides; the caller stores and acts. One step is: load the [`Instance`]
//! (JSON, [`STATE_FORMAT`]), `apply` the event, then in one transaction write the new state
//! and the effects (tasks, timers, subscriptions, jobs as rows keyed by their [`WaitId`]).
//! Because ids come from a counter inside the state, re-running a step whose transaction
//! was lost yields the same ids, so inserting effects with "on conflict do nothing" makes
//! the step exactly-once. An event naming a wait that no longer exists is refused with
//! [`EngineError::UnknownWait`] and the state untouched: the duplicate delivery of an
//! already handled event, safe to drop.
#![forbid(unsafe_code)]

mod deploy;
mod engine;
mod expression;
pub mod model;
mod parse;
mod problem;
pub mod timer;
mod validate;

pub use deploy::{Deployment, Environment, deploy};
pub use engine::MAX_ITERATIONS;
pub use engine::{
    Assignment, Effect, EndReason, Engine, EngineError, Event, Instance, Loop, Outcome, STATE_FORMAT, Scope, ScopeKind,
    Start, Status, Step, Token, TokenState, Wait, WaitId, WaitKind,
};
pub use engine::{MigrationProblem, Moved, migrate};
pub use model::{AssignmentRule, FORM_FIELD_TYPES, Form, FormField};
pub use parse::{BPMN_NS, MAX_XML_BYTES, WEFT_NS, ZEEBE_NS, parse};
pub use problem::{Problem, ProblemCode};
pub use timer::{Elapsed, IsoDuration, WorkingTime};
pub use validate::validate;
