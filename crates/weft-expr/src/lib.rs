//! Weft's expression language: the FEEL subset used by API filters, lifecycle guards and
//! access conditions.
//!
//! ```text
//! source ──parse──▶ Expr ──check(Schema)──▶ Checked ──evaluate(Context)──▶ FeelValue
//!                                               └──────to_filter(Bindings)──▶ Filter (for SQL)
//! ```
//!
//! - [`parse`] reads FEEL syntax: literals (exact decimal numbers, `"strings"`, `true`,
//!   `false`, `null`, `date("2026-01-31")`, `date and time("2026-01-31T09:00:00Z")`,
//!   `duration("P3D")`, `@"2026-01-31"`), names `[a-z_][a-z0-9_]*` and paths
//!   `supplier.name`, comparisons, `and`/`or`/`not(…)`, `x in (1, 2)`, `x in [1..10]`,
//!   `x between a and b`, `+ - * /`, calls such as `starts with(name, "PO")`.
//! - Weft adds `@me`, `@party` and `@unit` (the acting principal, its party, its org unit;
//!   null when it has none) and `@today`, `@now` (also FEEL's `today()` and `now()`).
//! - [`check`] is the strict mode used whenever an expression is saved or received: every
//!   name, function and select option must exist, every operator must fit its operands;
//!   all problems come back at once, each with a place and, when close, a suggestion.
//! - [`evaluate`] runs a checked expression against a record with FEEL's null semantics
//!   (the rules are on [`evaluate`]) within a step budget, never panicking.
//! - [`to_filter`] lowers a checked condition to a [`Filter`] the store renders as SQL
//!   with bound parameters, with the guarantee that the SQL matches exactly the records
//!   `evaluate` says `true` for.
//!
//! `Checked` and `FeelValue` are this crate's own types, so a complete FEEL engine (the
//! `dsntk` crates, for decision tables) can later stand behind the same functions.
#![forbid(unsafe_code)]

mod ast;
mod check;
mod checked;
mod error;
mod eval;
mod filter;
mod lexer;
mod parser;
mod schema;
mod suggest;

pub use ast::{ArithOp, AtRef, CmpOp, Expr, ExprKind, Ident, InSet, Literal, Range};
pub use check::{check, check_value};
pub use checked::Checked;
pub use error::{ErrorKind, EvalError, ExprError, Span};
pub use eval::{Bindings, Context, FeelValue, RecordContext, evaluate, matches};
pub use filter::{Filter, to_filter};
pub use parser::{parse, parse_with};
pub use schema::{FieldType, RefKind, Schema, Type};

/// Bounds on what one expression may cost, so that no input, however hostile, can exhaust
/// the stack, the memory or the time of the process reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest source, in bytes.
    pub max_source_len: usize,
    /// Deepest nesting of the parsed tree (parentheses, operators, calls). Every later pass
    /// recurses once per level, so keep it in the hundreds at most.
    pub max_depth: usize,
    /// Most evaluation steps, one per node visited plus one per 64 bytes of string work.
    pub eval_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_source_len: 4096, max_depth: 64, eval_steps: 100_000 }
    }
}

/// Parses and checks a condition in one go, within `limits`.
pub fn compile(source: &str, schema: &Schema, limits: &Limits) -> Result<Checked, Vec<ExprError>> {
    let expr = parse_with(source, limits).map_err(|e| vec![e])?;
    check(&expr, schema)
}

#[cfg(test)]
mod tests;
