//! Lowering a checked condition to a [`Filter`]; the contract the store relies on is
//! documented there.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::UtcOffset;
use weft_model::schema::Value;

use crate::ast::CmpOp;
use crate::checked::{Checked, FieldRef, Func, Kind, MoneyPart, Node};
use crate::error::{ErrorKind, ExprError, Span};
use crate::eval::{Bindings, Context, FeelValue, Meter, eval};
use crate::schema::{FieldType, RefKind};

/// A predicate over one record table's columns, which the store renders as a SQL `WHERE`
/// condition with bound parameters.
///
/// # The contract: render every node with plain SQL semantics
///
/// Each node means exactly what its SQL rendering below means under SQL's three-valued
/// logic (TRUE, FALSE, NULL), and a row matches when the whole tree is TRUE, which is what
/// `WHERE` does. The store adds nothing: no `COALESCE`, no `IS NOT NULL` guards, no
/// rewriting of `NOT`. The guards FEEL's null rules need are already in the tree, so that
/// for every record
///
/// ```text
/// SQL(to_filter(e)) is TRUE  <=>  evaluate(e) = true
/// ```
///
/// (`tests/equivalence.rs` checks this over random records and expressions, against a
/// reference implementation of these SQL semantics.) A store that must rewrite a node (a
/// decimal stored in minor units, say) keeps its three-valued meaning, NULL for a NULL
/// column included: an equality that can never hold is `col <> col` (FALSE, or NULL), an
/// inequality that always holds is `col = col` (TRUE, or NULL); `FALSE` and
/// `col IS NOT NULL` differ from them under `NOT`.
///
/// # Why guards are needed, and where
///
/// FEEL and SQL agree on ordering (`x < 5` is null when `x` is null) and on `and`, `or`,
/// `not` (both Kleene), but not on equality: in FEEL `x = 5` is *false* when `x` is null,
/// and `x != 5` is *true*; in SQL both are NULL. A `WHERE` does not care whether a
/// non-match is FALSE or NULL, but `NOT` does: `NOT NULL` is NULL, `NOT FALSE` is TRUE. So
/// the lowering tracks the polarity of each sub-expression: under an even number of `not`s
/// only "is it TRUE" must agree with FEEL, under an odd number only "is it FALSE".
///
/// | FEEL            | outside `not` (or under two)     | under one `not`                          |
/// |-----------------|----------------------------------|------------------------------------------|
/// | `x = 5`         | `x = 5`                          | `x = 5 AND x IS NOT NULL`                |
/// | `x != 5`        | `x <> 5 OR x IS NULL`            | `x <> 5`                                 |
/// | `x < 5`         | `x < 5`                          | `x < 5`                                  |
/// | `x in (1, 2)`   | `x IN (1, 2)`                    | `x IN (1, 2) AND x IS NOT NULL`          |
/// | `x in (1, null)`| `x IN (1) OR x IS NULL`          | `x IN (1) OR x IS NULL`                  |
/// | `x = y`         | `x = y OR (x IS NULL AND y IS NULL)` | `(x = y AND x IS NOT NULL AND y IS NOT NULL) OR (x IS NULL AND y IS NULL)` |
/// | `x != y`        | `NOT` (the `x = y` form at right)  | `NOT` (the `x = y` form at left)         |
/// | `x = null`      | `x IS NULL`                      | `x IS NULL`                              |
///
/// So `not(x = 5)` matches a row whose `x` is null, as FEEL says it does, and plain filters
/// without `not` get plain SQL, which indexes serve best.
///
/// # Fields and values
///
/// Fields are the record table's columns by field name. A money field's column in
/// `Compare`, `In` and `CompareFields` is its **amount**: the value is a
/// `Value::Decimal`, and the currency is not compared. Values have the field's value type:
/// `Value::Text` for text, e-mail, phone and URL fields and `number`; `Value::Select` for
/// select fields and `state`; `Value::Integer` for integer fields and `version` (a decimal
/// literal compared with one is already rounded the way that keeps the answer); `Value::Decimal`
/// for decimal, percent and money fields; `Value::Bool`; `Value::Date`;
/// `Value::DateTime` (UTC, at most microseconds); `Value::Duration` (seconds);
/// `Value::Reference` for reference, party, principal and org unit fields and `id`. No
/// value is ever `Value::Null`: comparisons with null are lowered to `IsNull`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `TRUE` (SQLite: `1`).
    True,
    /// `FALSE` (SQLite: `0`).
    False,
    /// `(a AND b AND …)`, never empty.
    And(Vec<Filter>),
    /// `(a OR b OR …)`, never empty.
    Or(Vec<Filter>),
    /// `NOT (a)`.
    Not(Box<Filter>),
    /// `field op ?`; `Ne` is `<>`. Text orders by code point: SQLite's default `BINARY`
    /// collation does; PostgreSQL needs `COLLATE "C"` on the column or the comparison.
    Compare { field: String, op: CmpOp, value: Value },
    /// `field IN (?, ?, …)`, never empty, no nulls.
    In { field: String, values: Vec<Value> },
    /// `field IS NULL`, or `field IS NOT NULL` when negated. Never NULL itself.
    IsNull { field: String, negated: bool },
    /// Case-sensitive: the text begins with `prefix` (true for an empty prefix); NULL when
    /// the field is NULL. Not `LIKE` (SQLite's is case-insensitive and `%`/`_` would need
    /// escaping): SQLite `substr(field, 1, length(?1)) = ?1`, PostgreSQL
    /// `starts_with(field, $1)` or `left(field, length($1)) = $1`.
    StartsWith { field: String, prefix: String },
    /// Case-sensitive: the text ends with `suffix`; NULL when the field is NULL. SQLite
    /// `substr(field, length(field) - length(?1) + 1) = ?1 AND length(field) >= length(?1)`,
    /// PostgreSQL `right(field, length($1)) = $1` (an empty suffix: `right(x, 0)` is `''`).
    EndsWith { field: String, suffix: String },
    /// Case-sensitive substring test; NULL when the field is NULL. SQLite
    /// `instr(field, ?) > 0`, PostgreSQL `strpos(field, $1) > 0` (both true for `''`).
    Contains { field: String, needle: String },
    /// `left op right`, two columns of the same table; NULL when either is NULL.
    CompareFields { left: String, op: CmpOp, right: String },
    /// `reference IN (SELECT id FROM <target's table> WHERE filter AND <visible>)`: the
    /// record `reference` points to exists, is not deleted, may be read by whoever runs the
    /// filter, and `filter` (over the target type's columns, never another `Via`) is TRUE
    /// for it. NULL when `reference` is NULL (SQL's `NULL IN (…)`), FALSE when it points to
    /// no such record. `target` names the referenced object type (`party` for party
    /// fields). The lowering has placed the guards for null references and missing targets
    /// around it: a path into a record that is not there reads as null, as in memory.
    Via { reference: String, target: String, filter: Box<Filter> },
}

/// Lowers a checked condition to a `Filter`, resolving `@me`, `@party`, `@unit`, `@today`
/// and `@now` from `bindings` and folding every part that does not read the record
/// (`@today - duration("P30D")` becomes a date).
///
/// A path one reference deep (`supplier.name starts with "华"`) becomes a [`Filter::Via`]
/// with the condition on the referenced record inside it; every field a single condition
/// reads through a path must go through the same reference.
///
/// Refused, with the place: longer paths, paths through principals and org units (they are
/// not records), comparing a referenced record's field with a field of this record, the
/// currency of a money field, computed fields that are not stored, and anything that
/// computes with a field (`amount * 2 > 10`, `string length(name) > 3`): they have no plain
/// column predicate yet.
pub fn to_filter(checked: &Checked, bindings: &Bindings) -> Result<Filter, ExprError> {
    let lowering = Lowering { bindings, rebased: false };
    Ok(simplify(lowering.lower(&checked.root, Mode::Positive)?))
}

/// Which answers of a sub-filter must agree with FEEL (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// SQL TRUE exactly when FEEL true.
    Positive,
    /// SQL FALSE exactly when FEEL false.
    Negative,
}

impl Mode {
    fn flip(self) -> Mode {
        match self {
            Mode::Positive => Mode::Negative,
            Mode::Negative => Mode::Positive,
        }
    }
}

/// The bindings, as a context without a record, for folding constants.
struct Constants<'a> {
    bindings: &'a Bindings,
}

impl Context for Constants<'_> {
    fn lookup(&self, path: &[String]) -> Result<Option<std::borrow::Cow<'_, Value>>, crate::EvalError> {
        Err(crate::EvalError::Unavailable(format!("`{}` is not a constant", path.join("."))))
    }

    fn bindings(&self) -> &Bindings {
        self.bindings
    }
}

fn not_filterable(span: Span, message: impl Into<String>) -> ExprError {
    ExprError::new(ErrorKind::NotFilterable, span, message)
}

fn is_null(field: &str, negated: bool) -> Filter {
    Filter::IsNull { field: field.to_owned(), negated }
}

/// FEEL null where a condition was expected: never true, never false.
fn unknown(mode: Mode) -> Filter {
    match mode {
        Mode::Positive => Filter::False,
        Mode::Negative => Filter::True,
    }
}

/// A comparison that, for a non-null field, is always `holds`, and null (ordering) for a
/// null field.
fn constant_unless_null(field: &str, holds: bool, mode: Mode) -> Filter {
    match (holds, mode) {
        (true, Mode::Positive) => is_null(field, true),
        (true, Mode::Negative) => Filter::True,
        (false, Mode::Positive) => Filter::False,
        (false, Mode::Negative) => is_null(field, false),
    }
}

/// One side of a comparison, as lowering sees it.
enum Side<'n> {
    Column(&'n FieldRef),
    Const(FeelValue),
}

/// A literal turned into the field's value type, or what the comparison amounts to when no
/// value of the field can equal it (an integer field against `1.5`).
enum Operand {
    Value(CmpOp, Value),
    /// True for every non-null value; null (ordering) or as FEEL says (equality) for null.
    Always(bool),
}

struct Lowering<'a> {
    bindings: &'a Bindings,
    /// Lowering the inside of a `Via`: fields are the referenced record's columns, named by
    /// the last part of their path.
    rebased: bool,
}

/// The fields a node reads, paths included.
fn fields_in<'n>(node: &'n Node, out: &mut Vec<&'n FieldRef>) {
    match &node.kind {
        Kind::Field(f) | Kind::IsNull { field: f, .. } => out.push(f),
        Kind::Const(_) | Kind::At(_) | Kind::Lines { .. } => {}
        Kind::Neg(x) | Kind::Not(x) => fields_in(x, out),
        Kind::Arith { lhs, rhs, .. } | Kind::Compare { lhs, rhs, .. } => {
            fields_in(lhs, out);
            fields_in(rhs, out);
        }
        Kind::And(a, b) | Kind::Or(a, b) => {
            fields_in(a, out);
            fields_in(b, out);
        }
        Kind::In { value, items } => {
            fields_in(value, out);
            items.iter().for_each(|i| fields_in(i, out));
        }
        Kind::Range { value, low, high, .. } => {
            fields_in(value, out);
            fields_in(low, out);
            fields_in(high, out);
        }
        Kind::Call { args, .. } => args.iter().for_each(|a| fields_in(a, out)),
    }
}

/// The SQL truth of `filter` for a row whose every column is NULL (`None` is NULL).
fn truth_when_null(filter: &Filter) -> Option<bool> {
    match filter {
        Filter::True => Some(true),
        Filter::False => Some(false),
        Filter::And(items) => {
            let values: Vec<_> = items.iter().map(truth_when_null).collect();
            if values.contains(&Some(false)) {
                Some(false)
            } else if values.iter().all(|v| *v == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        Filter::Or(items) => {
            let values: Vec<_> = items.iter().map(truth_when_null).collect();
            if values.contains(&Some(true)) {
                Some(true)
            } else if values.iter().all(|v| *v == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        Filter::Not(inner) => truth_when_null(inner).map(|b| !b),
        Filter::IsNull { negated, .. } => Some(!negated),
        Filter::Compare { .. }
        | Filter::In { .. }
        | Filter::StartsWith { .. }
        | Filter::EndsWith { .. }
        | Filter::Contains { .. }
        | Filter::CompareFields { .. }
        | Filter::Via { .. } => None,
    }
}

impl Lowering<'_> {
    fn constant(&self, node: &Node) -> Result<FeelValue, ExprError> {
        let mut meter = Meter::new(crate::Limits::default().eval_steps);
        eval(node, &Constants { bindings: self.bindings }, &mut meter)
            .map_err(|e| not_filterable(node.span, format!("this part cannot be computed: {e}")))
    }

    fn lower(&self, node: &Node, mode: Mode) -> Result<Filter, ExprError> {
        if !node.uses_fields {
            return Ok(match self.constant(node)? {
                FeelValue::Bool(true) => Filter::True,
                FeelValue::Bool(false) => Filter::False,
                _ => unknown(mode),
            });
        }
        let leaf = !matches!(node.kind, Kind::And(..) | Kind::Or(..) | Kind::Not(_));
        if leaf && !self.rebased {
            let mut fields = Vec::new();
            fields_in(node, &mut fields);
            if let Some(path) = fields.iter().find(|f| f.path.len() > 1) {
                return self.through(node, path, &fields, mode);
            }
        }
        match &node.kind {
            Kind::And(a, b) => Ok(Filter::And(vec![self.lower(a, mode)?, self.lower(b, mode)?])),
            Kind::Or(a, b) => Ok(Filter::Or(vec![self.lower(a, mode)?, self.lower(b, mode)?])),
            Kind::Not(x) => Ok(Filter::Not(Box::new(self.lower(x, mode.flip())?))),
            Kind::IsNull { field, negated } => Ok(is_null(&self.column(field, node.span)?, *negated)),
            // A boolean field used as a condition is null when the field is: `= TRUE` is too.
            Kind::Field(field) => {
                Ok(Filter::Compare { field: self.column(field, node.span)?, op: CmpOp::Eq, value: Value::Bool(true) })
            }
            Kind::Compare { op, lhs, rhs } => self.compare(*op, lhs, rhs, mode),
            Kind::In { value, items } => self.in_list(value, items, mode),
            Kind::Range { value, low, high, low_closed, high_closed } => {
                let low_op = if *low_closed { CmpOp::Ge } else { CmpOp::Gt };
                let high_op = if *high_closed { CmpOp::Le } else { CmpOp::Lt };
                Ok(Filter::And(vec![
                    self.compare(low_op, value, low, mode)?,
                    self.compare(high_op, value, high, mode)?,
                ]))
            }
            Kind::Call { func, args } => self.call(*func, args, node.span, mode),
            _ => Err(not_filterable(node.span, "this expression cannot be used as a filter")),
        }
    }

    /// A condition on a referenced record's fields: the condition lowered over the target's
    /// columns inside a `Via`, with FEEL's answer for a null reference or a missing target
    /// (the path reads as null) placed around it (see `Filter::Via`).
    fn through(&self, node: &Node, path: &FieldRef, fields: &[&FieldRef], mode: Mode) -> Result<Filter, ExprError> {
        let reference = &path.path[0];
        if path.path.len() > 2 {
            return Err(not_filterable(
                node.span,
                format!("`{}` is more than one reference away; a filter can follow one reference", path.display()),
            ));
        }
        if let Some(other) = fields.iter().find(|f| f.path.len() != 2 || f.path[0] != *reference) {
            return Err(not_filterable(
                node.span,
                format!(
                    "`{}` and `{}` are on different records; compare a referenced record's field with a value",
                    path.display(),
                    other.display()
                ),
            ));
        }
        let target = match &path.via {
            Some(RefKind::Record(t)) => t.clone(),
            Some(RefKind::Party) => "party".to_owned(),
            _ => {
                return Err(not_filterable(
                    node.span,
                    format!("`{reference}` does not refer to a record; its fields cannot be used in a filter"),
                ));
            }
        };
        let inner = simplify(Lowering { bindings: self.bindings, rebased: true }.lower(node, mode)?);
        let at_null = truth_when_null(&inner);
        let via = |filter: Filter| Filter::Via {
            reference: reference.clone(),
            target: target.clone(),
            filter: Box::new(filter),
        };
        // The path reads as null: no reference, or nothing (visible) at its end.
        let missing = || Filter::Or(vec![is_null(reference, false), Filter::Not(Box::new(via(Filter::True)))]);
        Ok(match mode {
            // TRUE exactly when FEEL true: a target for which the condition holds, or no
            // target when the condition holds for null.
            Mode::Positive if at_null == Some(true) => Filter::Or(vec![via(inner), missing()]),
            Mode::Positive => via(inner),
            // FALSE exactly when FEEL false: a target for which it is false, or no target
            // when it is false for null.
            Mode::Negative => {
                let mut false_when = vec![via(Filter::Not(Box::new(inner)))];
                if at_null == Some(false) {
                    false_when.push(missing());
                }
                Filter::Not(Box::new(Filter::Or(false_when)))
            }
        })
    }

    fn side<'n>(&self, node: &'n Node) -> Result<Side<'n>, ExprError> {
        match &node.kind {
            Kind::Field(field) => Ok(Side::Column(field)),
            Kind::Lines { func, .. } => Err(not_filterable(
                node.span,
                format!(
                    "child lines are stored apart from the record, so `{}` cannot be used as a filter; declare a stored computed field with it and filter on that",
                    func.name()
                ),
            )),
            _ if !node.uses_fields => Ok(Side::Const(self.constant(node)?)),
            _ => Err(not_filterable(
                node.span,
                "computing with fields cannot be used as a filter; compare a field with a value or another field",
            )),
        }
    }

    fn compare(&self, op: CmpOp, lhs: &Node, rhs: &Node, mode: Mode) -> Result<Filter, ExprError> {
        match (self.side(lhs)?, self.side(rhs)?) {
            (Side::Column(f), Side::Const(v)) => {
                compare_value(&self.column(f, lhs.span)?, &f.ty, op, v, mode, rhs.span)
            }
            (Side::Const(v), Side::Column(f)) => {
                compare_value(&self.column(f, rhs.span)?, &f.ty, op.flip(), v, mode, lhs.span)
            }
            (Side::Column(l), Side::Column(r)) => {
                Ok(compare_fields(&self.column(l, lhs.span)?, op, &self.column(r, rhs.span)?, mode))
            }
            // Both constant: the caller folded the whole comparison already.
            (Side::Const(l), Side::Const(r)) => Ok(match crate::eval::compare(op, &l, &r) {
                FeelValue::Bool(true) => Filter::True,
                FeelValue::Bool(false) => Filter::False,
                _ => unknown(mode),
            }),
        }
    }

    fn in_list(&self, value: &Node, items: &[Node], mode: Mode) -> Result<Filter, ExprError> {
        let Kind::Field(field) = &value.kind else {
            // `"x" in (a, b)`: one equality per item. Equality is two-valued, so the `or`
            // of them is exactly FEEL's list membership.
            let alternatives =
                items.iter().map(|item| self.compare(CmpOp::Eq, value, item, mode)).collect::<Result<_, _>>()?;
            return Ok(Filter::Or(alternatives));
        };
        if items.iter().any(|i| i.uses_fields) {
            let alternatives =
                items.iter().map(|item| self.compare(CmpOp::Eq, value, item, mode)).collect::<Result<_, _>>()?;
            return Ok(Filter::Or(alternatives));
        }
        let name = self.column(field, value.span)?;
        let mut values = Vec::with_capacity(items.len());
        let mut has_null = false;
        for item in items {
            match self.constant(item)? {
                FeelValue::Null => has_null = true,
                v => {
                    if let Operand::Value(_, v) = operand(&field.ty, CmpOp::Eq, v, item.span)?
                        && !values.contains(&v)
                    {
                        values.push(v);
                    }
                }
            }
        }
        // FEEL: true when the field equals an item, or is null and an item is null; false
        // otherwise, never null. SQL's IN is NULL for a null field, so a null field is
        // handled apart.
        let listed = if values.is_empty() { Filter::False } else { Filter::In { field: name.clone(), values } };
        Ok(match (has_null, mode) {
            (true, _) => Filter::Or(vec![listed, is_null(&name, false)]),
            (false, Mode::Positive) => listed,
            (false, Mode::Negative) => Filter::And(vec![listed, is_null(&name, true)]),
        })
    }

    fn call(&self, func: Func, args: &[Node], span: Span, mode: Mode) -> Result<Filter, ExprError> {
        let (Some(subject), Some(pattern)) = (args.first(), args.get(1)) else {
            return Err(not_filterable(span, format!("`{}` cannot be used as a filter", func.name())));
        };
        let Kind::Field(field) = &subject.kind else {
            return Err(not_filterable(subject.span, format!("`{}` can filter on a field's text only", func.name())));
        };
        let field_name = self.column(field, subject.span)?;
        if pattern.uses_fields {
            return Err(not_filterable(pattern.span, format!("`{}` can filter with a fixed text only", func.name())));
        }
        let text = match self.constant(pattern)? {
            FeelValue::String(s) => s,
            _ => return Ok(unknown(mode)),
        };
        // String functions are null exactly when the field is: plain SQL agrees.
        Ok(match func {
            Func::StartsWith => Filter::StartsWith { field: field_name, prefix: text },
            Func::EndsWith => Filter::EndsWith { field: field_name, suffix: text },
            Func::Contains => Filter::Contains { field: field_name, needle: text },
            Func::StringLength => return Err(not_filterable(span, "`string length` cannot be used as a filter yet")),
        })
    }
}

impl Lowering<'_> {
    /// The column a field reference reads (in a `Via`, the referenced record's), or why it
    /// has none.
    fn column(&self, field: &FieldRef, span: Span) -> Result<String, ExprError> {
        if self.rebased && field.path.len() == 2 {
            return column(&FieldRef { path: vec![field.path[1].clone()], via: None, ..field.clone() }, span);
        }
        column(field, span)
    }
}

/// The column a field reference reads, or why it has none.
fn column(field: &FieldRef, span: Span) -> Result<String, ExprError> {
    if field.path.len() > 1 {
        return Err(not_filterable(
            span,
            format!("`{}` reads a field of another record; such paths cannot be used as filters yet", field.display()),
        ));
    }
    if field.part == Some(MoneyPart::Currency) {
        return Err(not_filterable(span, "the currency of a money field cannot be used as a filter yet"));
    }
    if field.ty == FieldType::Opaque("lines") {
        return Err(not_filterable(
            span,
            "child lines are stored apart from the record and cannot be used as a filter yet",
        ));
    }
    if !field.column {
        return Err(not_filterable(
            span,
            format!("`{}` is computed when read and has no column; declare it stored to filter on it", field.display()),
        ));
    }
    field.path.first().cloned().ok_or_else(|| not_filterable(span, "empty path"))
}

/// `field op constant` with FEEL's answer for a null field.
fn compare_value(
    field: &str,
    ty: &FieldType,
    op: CmpOp,
    value: FeelValue,
    mode: Mode,
    span: Span,
) -> Result<Filter, ExprError> {
    if value.is_null() {
        return Ok(match op {
            CmpOp::Eq => is_null(field, false),
            CmpOp::Ne => is_null(field, true),
            _ => unknown(mode),
        });
    }
    let (op, value) = match operand(ty, op, value, span)? {
        Operand::Value(op, value) => (op, value),
        // Equality with a value the field can never hold: FEEL false, also for null.
        Operand::Always(holds) if !op.is_ordering() => return Ok(if holds { Filter::True } else { Filter::False }),
        Operand::Always(holds) => return Ok(constant_unless_null(field, holds, mode)),
    };
    let compare = Filter::Compare { field: field.to_owned(), op, value };
    Ok(match (op, mode) {
        // FEEL: `x = v` is false for a null x; SQL: NULL. Only NOT can tell them apart.
        (CmpOp::Eq, Mode::Positive) => compare,
        (CmpOp::Eq, Mode::Negative) => Filter::And(vec![compare, is_null(field, true)]),
        // FEEL: `x != v` is true for a null x.
        (CmpOp::Ne, Mode::Positive) => Filter::Or(vec![compare, is_null(field, false)]),
        (CmpOp::Ne, Mode::Negative) => compare,
        // Ordering: null in both FEEL and SQL.
        _ => compare,
    })
}

/// `left op right` on two columns with FEEL's answer when either is null.
fn compare_fields(left: &str, op: CmpOp, right: &str, mode: Mode) -> Filter {
    let both_null = || Filter::And(vec![is_null(left, false), is_null(right, false)]);
    let plain = |op| Filter::CompareFields { left: left.to_owned(), op, right: right.to_owned() };
    match (op, mode) {
        // FEEL: true when both are null or both equal; false otherwise, never null.
        (CmpOp::Eq, Mode::Positive) => Filter::Or(vec![plain(CmpOp::Eq), both_null()]),
        (CmpOp::Eq, Mode::Negative) => Filter::Or(vec![
            Filter::And(vec![plain(CmpOp::Eq), is_null(left, true), is_null(right, true)]),
            both_null(),
        ]),
        // FEEL's `!=` is exactly `not(=)` (equality is two-valued).
        (CmpOp::Ne, _) => Filter::Not(Box::new(compare_fields(left, CmpOp::Eq, right, mode.flip()))),
        _ => plain(op),
    }
}

/// A constant as a value of the field's type. For an integer field, a non-integer bound is
/// rounded the way that keeps the comparison's answer: `n < 1.5` is `n < 2`,
/// `n > 1.5` is `n > 1`; equality with it never holds.
fn operand(ty: &FieldType, op: CmpOp, value: FeelValue, span: Span) -> Result<Operand, ExprError> {
    use FeelValue as V;
    let wrong =
        |v: &FeelValue| not_filterable(span, format!("cannot compare this field with {} in a filter", v.type_name()));
    Ok(Operand::Value(
        op,
        match (ty, value) {
            (FieldType::Integer, V::Number(n)) => return Ok(integer_operand(op, n)),
            (FieldType::Decimal | FieldType::Money, V::Number(n) | V::Money { amount: n, .. }) => Value::Decimal(n),
            (FieldType::Text, V::String(s)) => Value::Text(s),
            (FieldType::Select(_), V::String(s)) => Value::Select(s),
            (FieldType::Boolean, V::Bool(b)) => Value::Bool(b),
            (FieldType::Date, V::Date(d)) => Value::Date(d),
            (FieldType::DateTime, V::DateTime(t)) => Value::DateTime(t.to_offset(UtcOffset::UTC)),
            (FieldType::Duration, V::Duration(s)) => Value::Duration(s),
            (FieldType::Reference(_), V::Reference(id)) => Value::Reference(id),
            (_, v) => return Err(wrong(&v)),
        },
    ))
}

fn integer_operand(op: CmpOp, n: Decimal) -> Operand {
    let bound = match op {
        CmpOp::Eq | CmpOp::Ne if n.fract() != Decimal::ZERO => return Operand::Always(op == CmpOp::Ne),
        CmpOp::Eq | CmpOp::Ne => n,
        // x < 1.5 ⇔ x < 2 and x >= 1.5 ⇔ x >= 2; x <= 1.5 ⇔ x <= 1 and x > 1.5 ⇔ x > 1.
        CmpOp::Lt | CmpOp::Ge => n.ceil(),
        CmpOp::Le | CmpOp::Gt => n.floor(),
    };
    match bound.to_i64() {
        Some(i) => Operand::Value(op, Value::Integer(i)),
        // Beyond every integer the column can hold.
        None => {
            let above_all = bound > Decimal::ZERO;
            Operand::Always(match op {
                CmpOp::Eq => false,
                CmpOp::Ne => true,
                CmpOp::Lt | CmpOp::Le => above_all,
                CmpOp::Gt | CmpOp::Ge => !above_all,
            })
        }
    }
}

/// Flattens nested `And`/`Or` and folds `True`/`False`, keeping SQL's three-valued meaning
/// (`x AND TRUE` is `x`; `NOT NOT x` is `x`).
pub(crate) fn simplify(filter: Filter) -> Filter {
    match filter {
        Filter::And(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match simplify(item) {
                    Filter::True => {}
                    Filter::False => return Filter::False,
                    Filter::And(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Filter::True,
                1 => out.pop().unwrap_or(Filter::True),
                _ => Filter::And(out),
            }
        }
        Filter::Or(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match simplify(item) {
                    Filter::False => {}
                    Filter::True => return Filter::True,
                    Filter::Or(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Filter::False,
                1 => out.pop().unwrap_or(Filter::False),
                _ => Filter::Or(out),
            }
        }
        Filter::Not(inner) => match simplify(*inner) {
            Filter::True => Filter::False,
            Filter::False => Filter::True,
            Filter::Not(x) => *x,
            other => Filter::Not(Box::new(other)),
        },
        other => other,
    }
}
