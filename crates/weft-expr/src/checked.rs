//! The checked expression: names resolved, types known, literals read into values. This is
//! what evaluation and lowering walk; its shape is private so that a full FEEL engine can
//! later stand behind `Checked` without callers noticing.

use crate::ast::{ArithOp, AtRef, CmpOp};
use crate::error::Span;
use crate::eval::FeelValue;
use crate::schema::{FieldType, RefKind, Type};

/// An expression that passed `check` against a schema: every name exists, every operator
/// fits its operands. Evaluate it with `evaluate`, or lower it with `to_filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub(crate) root: Node,
}

impl Checked {
    /// The type of the expression's value (`Boolean` for conditions and filters).
    pub fn result_type(&self) -> &Type {
        &self.root.ty
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub ty: Type,
    pub span: Span,
    /// Whether the value depends on the record: without fields it is a constant once the
    /// bindings (`@me`, `@today`…) are known, and lowering folds it.
    pub uses_fields: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Const(FeelValue),
    At(AtRef),
    Field(FieldRef),
    /// `x = null` / `x != null` on a field, including fields that cannot be read otherwise.
    IsNull {
        field: FieldRef,
        negated: bool,
    },
    Neg(Box<Node>),
    Arith {
        op: ArithOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Compare {
        op: CmpOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// `value in (items…)`: true when `value = item` for some item.
    In {
        value: Box<Node>,
        items: Vec<Node>,
    },
    /// A range test; `between` is a range with both ends closed.
    Range {
        value: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
        low_closed: bool,
        high_closed: bool,
    },
    Call {
        func: Func,
        args: Vec<Node>,
    },
    /// `count(lines)`, `sum(lines.amount)`…: over the record's child lines, `item` read from
    /// each line (none for `count`).
    Lines {
        func: ListFunc,
        lines: String,
        item: Option<FieldRef>,
    },
}

/// FEEL's list functions, over child lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFunc {
    Count,
    Sum,
    Mean,
    Min,
    Max,
}

impl ListFunc {
    pub(crate) fn named(name: &str) -> Option<ListFunc> {
        Some(match name {
            "count" => ListFunc::Count,
            "sum" => ListFunc::Sum,
            "mean" => ListFunc::Mean,
            "min" => ListFunc::Min,
            "max" => ListFunc::Max,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ListFunc::Count => "count",
            ListFunc::Sum => "sum",
            ListFunc::Mean => "mean",
            ListFunc::Min => "min",
            ListFunc::Max => "max",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    StartsWith,
    EndsWith,
    Contains,
    StringLength,
}

impl Func {
    pub(crate) const ALL: [Func; 4] = [Func::StartsWith, Func::EndsWith, Func::Contains, Func::StringLength];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::StartsWith => "starts with",
            Func::EndsWith => "ends with",
            Func::Contains => "contains",
            Func::StringLength => "string length",
        }
    }
}

/// A field read from the record (or, for a longer path, from a referenced record).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldRef {
    /// Record fields only: `["supplier", "name"]`; a money part is in `part`.
    pub path: Vec<String>,
    /// The last field's type.
    pub ty: FieldType,
    pub column: bool,
    pub part: Option<MoneyPart>,
    /// For a path: what the first field refers to (`supplier` in `supplier.name`).
    pub via: Option<RefKind>,
}

impl FieldRef {
    /// As written, for messages: `supplier.name`, `total.amount`.
    pub(crate) fn display(&self) -> String {
        let mut out = self.path.join(".");
        match self.part {
            Some(MoneyPart::Amount) => out.push_str(".amount"),
            Some(MoneyPart::Currency) => out.push_str(".currency"),
            None => {}
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoneyPart {
    Amount,
    Currency,
}
