//! Errors of parsing, checking and lowering (`ExprError`, always at a place in the source)
//! and of evaluation (`EvalError`, about the data rather than the text).

use std::fmt;

/// A byte range `start..end` in the expression's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// 1-based line and column (in characters) of `start` in `source`, for people.
    pub fn line_col(self, source: &str) -> (usize, usize) {
        let before = source.get(..self.start).unwrap_or(source);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Why an expression was refused, so callers can branch without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not FEEL as far as this parser reads it.
    Syntax,
    /// Longer than `Limits::max_source_len`.
    TooLong,
    /// Nested deeper than `Limits::max_depth`.
    TooDeep,
    /// A number literal with more digits than an exact decimal holds.
    NumberTooLarge,
    /// `date("2026-02-30")` and the like.
    InvalidLiteral,
    UnknownName,
    UnknownFunction,
    /// A select field compared with a string that is not one of its options.
    UnknownOption,
    TypeMismatch,
    /// Valid, but outside the subset that can be lowered to a database filter.
    NotFilterable,
}

/// One problem with an expression, at a place in its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {span})")]
pub struct ExprError {
    pub kind: ErrorKind,
    pub span: Span,
    /// For people; it may end with "did you mean `amount`?".
    pub message: String,
}

impl ExprError {
    pub(crate) fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> ExprError {
        ExprError { kind, span, message: message.into() }
    }
}

/// Why evaluating a checked expression failed. FEEL turns most invalid operations into
/// `null` (division by zero, an overflowing sum), so these are about the run itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The expression took more steps than the context allows; it is cut short rather than
    /// left to run.
    #[error("the evaluation took more than {budget} steps")]
    BudgetExhausted { budget: u64 },
    /// The context holds a value of another type than the schema the expression was checked
    /// against says: the record and its declaration disagree.
    #[error("`{name}` holds {found}, but the expression was checked for {expected}")]
    WrongValue { name: String, expected: &'static str, found: &'static str },
    /// The context cannot give what the expression asks for, such as a field of a referenced
    /// record it did not load.
    #[error("{0}")]
    Unavailable(String),
}
