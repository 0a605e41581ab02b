//! Automation rules: declared as data (`RuleDef`, through the admin API), run by the
//! `automation_rules` outbox consumer. When a record is created, updated or moved and the
//! rule's condition holds, its actions (set fields, apply a decision table, transition,
//! alert) become **one** change of the record, written by the system through
//! `records::engine_write_by` (row, history with command `rule:<name>`, audit, event) in
//! the same transaction as the consumer's claim of the event, so a replayed event changes
//! nothing twice. Events a rule caused carry `"origin": "rule:<name>"` and set no rule off.

mod def;
mod engine;

pub use def::{AlertAction, DecideAction, RuleAction, RuleDef};
pub use engine::{AutomationRules, RuleView};
