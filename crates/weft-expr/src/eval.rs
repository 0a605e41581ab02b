//! In-memory evaluation of a checked expression; the rules are on [`evaluate`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};
use uuid::Uuid;
use weft_model::schema::Value;

use crate::Limits;
use crate::ast::{ArithOp, AtRef, CmpOp};
use crate::checked::{Checked, FieldRef, Func, Kind, ListFunc, MoneyPart, Node};
use crate::error::EvalError;
use crate::schema::FieldType;

/// A value during evaluation, and the result of one.
#[derive(Debug, Clone, PartialEq)]
pub enum FeelValue {
    Null,
    Bool(bool),
    Number(Decimal),
    String(String),
    Date(Date),
    DateTime(OffsetDateTime),
    /// Whole seconds.
    Duration(i64),
    Money {
        amount: Decimal,
        currency: String,
    },
    /// A record, party, principal or org unit id.
    Reference(Uuid),
}

impl FeelValue {
    pub fn is_null(&self) -> bool {
        matches!(self, FeelValue::Null)
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            FeelValue::Null => "null",
            FeelValue::Bool(_) => "a boolean",
            FeelValue::Number(_) => "a number",
            FeelValue::String(_) => "a string",
            FeelValue::Date(_) => "a date",
            FeelValue::DateTime(_) => "a date and time",
            FeelValue::Duration(_) => "a duration",
            FeelValue::Money { .. } => "money",
            FeelValue::Reference(_) => "an id",
        }
    }
}

/// Who is acting and when: what `@me`, `@party`, `@unit`, `@today` and `@now` stand for.
#[derive(Debug, Clone, PartialEq)]
pub struct Bindings {
    /// The acting principal; `None` for the system, and `@me` is then null.
    pub me: Option<Uuid>,
    /// The principal's party (a guest's organisation).
    pub party: Option<Uuid>,
    /// The principal's org unit.
    pub unit: Option<Uuid>,
    /// The current instant, in the workspace's UTC offset: `@today` is its date in that
    /// offset. Read once per request so every record sees the same time; it is truncated to
    /// microseconds, the precision the databases keep.
    pub now: OffsetDateTime,
}

impl Bindings {
    pub fn new(now: OffsetDateTime) -> Bindings {
        Bindings { me: None, party: None, unit: None, now }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        let micros = self.now.microsecond();
        self.now.replace_microsecond(micros).unwrap_or(self.now)
    }

    pub fn today(&self) -> Date {
        self.now.date()
    }
}

/// What an expression is evaluated against.
pub trait Context {
    /// The value at `path`: one name for a field of the record (or a variable), more for a
    /// field of a referenced record (`["supplier", "name"]`). `Ok(None)` when there is none,
    /// which reads as null.
    fn lookup(&self, path: &[String]) -> Result<Option<Cow<'_, Value>>, EvalError>;

    fn bindings(&self) -> &Bindings;

    /// The most steps one evaluation may take.
    fn step_budget(&self) -> u64 {
        Limits::default().eval_steps
    }
}

/// A record as a map of its values, the usual context.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    pub record: &'a BTreeMap<String, Value>,
    pub bindings: &'a Bindings,
    /// The records that reference fields point to, by the reference field's name, for
    /// paths such as `supplier.name`. A path reads as null when its record is not in the
    /// map; without a map at all, a path is an error.
    pub related: Option<&'a BTreeMap<String, BTreeMap<String, Value>>>,
    pub budget: u64,
}

impl<'a> RecordContext<'a> {
    pub fn new(record: &'a BTreeMap<String, Value>, bindings: &'a Bindings) -> RecordContext<'a> {
        RecordContext { record, bindings, related: None, budget: Limits::default().eval_steps }
    }
}

impl Context for RecordContext<'_> {
    fn lookup(&self, path: &[String]) -> Result<Option<Cow<'_, Value>>, EvalError> {
        match path {
            [name] => Ok(self.record.get(name).map(Cow::Borrowed)),
            [reference, name] => {
                if self.record.get(reference).is_none_or(Value::is_null) {
                    return Ok(None);
                }
                let Some(related) = self.related else {
                    return Err(EvalError::Unavailable(format!("the record `{reference}` refers to was not loaded")));
                };
                // Not among the loaded records: it does not exist (or may not be read), and
                // the path reads as null, as a filter's `Via` has it.
                Ok(related.get(reference).and_then(|r| r.get(name)).map(Cow::Borrowed))
            }
            _ => Err(EvalError::Unavailable(format!("`{}` is more than one reference away", path.join(".")))),
        }
    }

    fn bindings(&self) -> &Bindings {
        self.bindings
    }

    fn step_budget(&self) -> u64 {
        self.budget
    }
}

/// The value of `checked` in `context`, with FEEL's semantics:
///
/// - `=` and `!=` are defined for null: `null = null` is true, `x = null` is false for any
///   other `x`, so `x != 1` is **true** when `x` is null and `not(x = 1)` holds for a null
///   `x`. This is FEEL's rule (DMN TCK `0068-feel-equality`: `100 = null` is `false`) and
///   differs from SQL's; `to_filter` bridges the two.
/// - `<`, `<=`, `>`, `>=`, ranges and `between` give null when an operand is null.
/// - `x in (a, b)` is true when `x = a` or `x = b` (so a null `x` is in a list holding
///   null), false otherwise.
/// - `and`/`or` are three-valued (Kleene): `false and null` is false, `true or null` is
///   true, otherwise null taints; `not(null)` is null.
/// - Functions of null give null; so does invalid arithmetic (division by zero, overflow,
///   a date out of range), as FEEL says.
/// - Numbers are exact decimals (`0.1 + 0.2 = 0.3`). Strings compare by code point. Money
///   compares and computes as its amount; `.currency` reads its currency. A date plus a
///   duration is the date of midnight UTC plus it.
/// - A missing key in the record reads as null. A value of another type than the schema
///   says is an error, not a guess.
///
/// A condition holds only when the result is `true` (see [`matches()`]). Evaluation never
/// panics and stops with `EvalError::BudgetExhausted` past the context's step budget.
pub fn evaluate(checked: &Checked, context: &dyn Context) -> Result<FeelValue, EvalError> {
    let mut meter = Meter { left: context.step_budget(), budget: context.step_budget() };
    eval(&checked.root, context, &mut meter)
}

/// Whether the condition `checked` holds in `context`: its value is `true` (not false,
/// not null).
pub fn matches(checked: &Checked, context: &dyn Context) -> Result<bool, EvalError> {
    Ok(evaluate(checked, context)? == FeelValue::Bool(true))
}

/// Counts steps down; each node costs one, and work on long strings costs more.
pub(crate) struct Meter {
    left: u64,
    budget: u64,
}

impl Meter {
    pub(crate) fn new(budget: u64) -> Meter {
        Meter { left: budget, budget }
    }

    fn charge(&mut self, steps: u64) -> Result<(), EvalError> {
        match self.left.checked_sub(steps) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(EvalError::BudgetExhausted { budget: self.budget }),
        }
    }

    fn charge_text(&mut self, len: usize) -> Result<(), EvalError> {
        self.charge(u64::try_from(len / 64).unwrap_or(u64::MAX))
    }
}

pub(crate) fn eval(node: &Node, ctx: &dyn Context, meter: &mut Meter) -> Result<FeelValue, EvalError> {
    meter.charge(1)?;
    Ok(match &node.kind {
        Kind::Const(v) => v.clone(),
        Kind::At(at) => at_value(*at, ctx.bindings()),
        Kind::Field(field) => field_value(field, ctx)?,
        Kind::IsNull { field, negated } => {
            let null = ctx.lookup(&field.path)?.is_none_or(|v| v.is_null());
            FeelValue::Bool(null != *negated)
        }
        Kind::Neg(x) => match eval(x, ctx, meter)? {
            FeelValue::Number(n) | FeelValue::Money { amount: n, .. } => FeelValue::Number(-n),
            FeelValue::Duration(s) => s.checked_neg().map_or(FeelValue::Null, FeelValue::Duration),
            _ => FeelValue::Null,
        },
        Kind::Arith { op, lhs, rhs } => {
            let (l, r) = (eval(lhs, ctx, meter)?, eval(rhs, ctx, meter)?);
            if let (FeelValue::String(a), FeelValue::String(b)) = (&l, &r) {
                meter.charge_text(a.len() + b.len())?;
            }
            arith(*op, l, r)
        }
        Kind::Compare { op, lhs, rhs } => {
            let (l, r) = (eval(lhs, ctx, meter)?, eval(rhs, ctx, meter)?);
            charge_strings(meter, &l, &r)?;
            compare(*op, &l, &r)
        }
        Kind::And(a, b) => {
            let a = truth(eval(a, ctx, meter)?);
            if a == Some(false) {
                return Ok(FeelValue::Bool(false));
            }
            match (a, truth(eval(b, ctx, meter)?)) {
                (_, Some(false)) => FeelValue::Bool(false),
                (Some(true), Some(true)) => FeelValue::Bool(true),
                _ => FeelValue::Null,
            }
        }
        Kind::Or(a, b) => {
            let a = truth(eval(a, ctx, meter)?);
            if a == Some(true) {
                return Ok(FeelValue::Bool(true));
            }
            match (a, truth(eval(b, ctx, meter)?)) {
                (_, Some(true)) => FeelValue::Bool(true),
                (Some(false), Some(false)) => FeelValue::Bool(false),
                _ => FeelValue::Null,
            }
        }
        Kind::Not(x) => truth(eval(x, ctx, meter)?).map_or(FeelValue::Null, |b| FeelValue::Bool(!b)),
        Kind::In { value, items } => {
            let value = eval(value, ctx, meter)?;
            for item in items {
                let item = eval(item, ctx, meter)?;
                charge_strings(meter, &value, &item)?;
                if compare(CmpOp::Eq, &value, &item) == FeelValue::Bool(true) {
                    return Ok(FeelValue::Bool(true));
                }
            }
            FeelValue::Bool(false)
        }
        Kind::Range { value, low, high, low_closed, high_closed } => {
            let value = eval(value, ctx, meter)?;
            let low = eval(low, ctx, meter)?;
            let high = eval(high, ctx, meter)?;
            charge_strings(meter, &value, &low)?;
            charge_strings(meter, &value, &high)?;
            let above = compare(if *low_closed { CmpOp::Ge } else { CmpOp::Gt }, &value, &low);
            let below = compare(if *high_closed { CmpOp::Le } else { CmpOp::Lt }, &value, &high);
            match (truth(above), truth(below)) {
                (Some(false), _) | (_, Some(false)) => FeelValue::Bool(false),
                (Some(true), Some(true)) => FeelValue::Bool(true),
                _ => FeelValue::Null,
            }
        }
        Kind::Call { func, args } => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                values.push(eval(arg, ctx, meter)?);
            }
            call(*func, &values, meter)?
        }
        Kind::Lines { func, lines, item } => list_call(*func, lines, item.as_ref(), ctx, meter)?,
    })
}

/// FEEL's list functions over child lines: `count` of the lines; `sum`, `mean`, `min`,
/// `max` of one field of each line, null when there are no lines or any line's value is
/// null or not comparable (as FEEL has it for a list holding a null).
fn list_call(
    func: ListFunc,
    lines: &str,
    item: Option<&FieldRef>,
    ctx: &dyn Context,
    meter: &mut Meter,
) -> Result<FeelValue, EvalError> {
    let Some(value) = ctx.lookup(std::slice::from_ref(&lines.to_owned()))? else {
        return Ok(if func == ListFunc::Count { FeelValue::Number(Decimal::ZERO) } else { FeelValue::Null });
    };
    let rows: &[BTreeMap<String, Value>] = match value.as_ref() {
        Value::Lines(rows) => rows,
        Value::Null => &[],
        other => {
            return Err(EvalError::WrongValue {
                name: lines.to_owned(),
                expected: "child lines",
                found: value_kind(other),
            });
        }
    };
    meter.charge(u64::try_from(rows.len()).unwrap_or(u64::MAX))?;
    let (Some(item), false) = (item, func == ListFunc::Count) else {
        return Ok(FeelValue::Number(Decimal::from(rows.len())));
    };
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let line = RecordContext::new(row, ctx.bindings());
        match field_value(item, &line)? {
            FeelValue::Null => return Ok(FeelValue::Null),
            FeelValue::Money { amount, .. } => values.push(FeelValue::Number(amount)),
            v => values.push(v),
        }
    }
    let Some(first) = values.first().cloned() else { return Ok(FeelValue::Null) };
    Ok(match func {
        ListFunc::Count => FeelValue::Number(Decimal::from(values.len())),
        ListFunc::Sum | ListFunc::Mean => {
            let mut total = first;
            for v in &values[1..] {
                total = arith(ArithOp::Add, total, v.clone());
                if total.is_null() {
                    return Ok(FeelValue::Null);
                }
            }
            if func == ListFunc::Mean {
                arith(ArithOp::Div, total, FeelValue::Number(Decimal::from(values.len())))
            } else {
                total
            }
        }
        ListFunc::Min | ListFunc::Max => {
            let wanted = if func == ListFunc::Min { CmpOp::Lt } else { CmpOp::Gt };
            let mut best = first;
            for v in &values[1..] {
                match compare(wanted, v, &best) {
                    FeelValue::Bool(true) => best = v.clone(),
                    FeelValue::Bool(false) => {}
                    _ => return Ok(FeelValue::Null),
                }
            }
            best
        }
    })
}

fn truth(v: FeelValue) -> Option<bool> {
    match v {
        FeelValue::Bool(b) => Some(b),
        _ => None,
    }
}

fn charge_strings(meter: &mut Meter, a: &FeelValue, b: &FeelValue) -> Result<(), EvalError> {
    if let (FeelValue::String(a), FeelValue::String(b)) = (a, b) {
        meter.charge_text(a.len().min(b.len()))?;
    }
    Ok(())
}

fn at_value(at: AtRef, bindings: &Bindings) -> FeelValue {
    let id = |id: Option<Uuid>| id.map_or(FeelValue::Null, FeelValue::Reference);
    match at {
        AtRef::Me => id(bindings.me),
        AtRef::Party => id(bindings.party),
        AtRef::Unit => id(bindings.unit),
        AtRef::Today => FeelValue::Date(bindings.today()),
        AtRef::Now => FeelValue::DateTime(bindings.now()),
    }
}

fn field_value(field: &FieldRef, ctx: &dyn Context) -> Result<FeelValue, EvalError> {
    let Some(value) = ctx.lookup(&field.path)? else { return Ok(FeelValue::Null) };
    let wrong =
        |expected: &'static str| EvalError::WrongValue { name: field.display(), expected, found: value_kind(&value) };
    Ok(match (&field.ty, value.as_ref()) {
        (_, Value::Null) => FeelValue::Null,
        (FieldType::Text | FieldType::Select(_), Value::Text(s) | Value::Select(s)) => FeelValue::String(s.clone()),
        (FieldType::Integer | FieldType::Decimal, Value::Integer(i)) => FeelValue::Number(Decimal::from(*i)),
        (FieldType::Integer | FieldType::Decimal, Value::Decimal(d)) => FeelValue::Number(*d),
        (FieldType::Money, Value::Money { amount, currency }) => match field.part {
            Some(MoneyPart::Amount) => FeelValue::Number(*amount),
            Some(MoneyPart::Currency) => FeelValue::String(currency.clone()),
            None => FeelValue::Money { amount: *amount, currency: currency.clone() },
        },
        (FieldType::Boolean, Value::Bool(b)) => FeelValue::Bool(*b),
        (FieldType::Date, Value::Date(d)) => FeelValue::Date(*d),
        (FieldType::DateTime, Value::DateTime(t)) => FeelValue::DateTime(*t),
        (FieldType::Duration, Value::Duration(s)) => FeelValue::Duration(*s),
        (FieldType::Reference(_), Value::Reference(id)) => FeelValue::Reference(*id),
        (FieldType::Opaque(_), _) => return Err(wrong("a value compared only with null")),
        (ty, _) => return Err(wrong(expected_kind(ty))),
    })
}

fn expected_kind(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "an integer",
        FieldType::Decimal => "a decimal",
        FieldType::Money => "money",
        FieldType::Boolean => "a boolean",
        FieldType::Date => "a date",
        FieldType::DateTime => "a date and time",
        FieldType::Duration => "a duration",
        FieldType::Select(_) => "an option",
        FieldType::Reference(_) => "an id",
        FieldType::Opaque(kind) => kind,
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Text(_) => "text",
        Value::Integer(_) => "an integer",
        Value::Decimal(_) => "a decimal",
        Value::Money { .. } => "money",
        Value::Bool(_) => "a boolean",
        Value::Date(_) => "a date",
        Value::DateTime(_) => "a date and time",
        Value::Duration(_) => "a duration",
        Value::Select(_) => "an option",
        Value::MultiSelect(_) => "options",
        Value::Reference(_) => "an id",
        Value::Json(_) => "JSON",
        Value::Lines(_) => "lines",
        Value::Attachments(_) => "attachments",
    }
}

fn number(v: &FeelValue) -> Option<Decimal> {
    match v {
        FeelValue::Number(n) | FeelValue::Money { amount: n, .. } => Some(*n),
        _ => None,
    }
}

/// FEEL's `=` and ordering. Equality is two-valued around null; ordering with null, and
/// any comparison of values of different types, is null.
pub(crate) fn compare(op: CmpOp, l: &FeelValue, r: &FeelValue) -> FeelValue {
    if l.is_null() || r.is_null() {
        return match op {
            CmpOp::Eq => FeelValue::Bool(l.is_null() && r.is_null()),
            CmpOp::Ne => FeelValue::Bool(!(l.is_null() && r.is_null())),
            _ => FeelValue::Null,
        };
    }
    let ordering = match (l, r) {
        (FeelValue::Bool(a), FeelValue::Bool(b)) if !op.is_ordering() => Some(a.cmp(b)),
        (FeelValue::Reference(a), FeelValue::Reference(b)) if !op.is_ordering() => Some(a.cmp(b)),
        (FeelValue::String(a), FeelValue::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (FeelValue::Date(a), FeelValue::Date(b)) => Some(a.cmp(b)),
        (FeelValue::DateTime(a), FeelValue::DateTime(b)) => Some(a.cmp(b)),
        (FeelValue::Duration(a), FeelValue::Duration(b)) => Some(a.cmp(b)),
        _ => match (number(l), number(r)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
    };
    ordering.map_or(FeelValue::Null, |o| FeelValue::Bool(op.holds(o)))
}

const DAY: i64 = 86_400;

fn arith(op: ArithOp, l: FeelValue, r: FeelValue) -> FeelValue {
    use FeelValue as V;
    let seconds = time::Duration::seconds;
    let result = match (op, &l, &r) {
        (ArithOp::Add, V::String(a), V::String(b)) => Some(V::String(format!("{a}{b}"))),
        (ArithOp::Add, V::Date(d), V::Duration(s)) | (ArithOp::Add, V::Duration(s), V::Date(d)) => shift_date(*d, *s),
        (ArithOp::Sub, V::Date(d), V::Duration(s)) => s.checked_neg().and_then(|s| shift_date(*d, s)),
        (ArithOp::Add, V::DateTime(t), V::Duration(s)) | (ArithOp::Add, V::Duration(s), V::DateTime(t)) => {
            t.checked_add(seconds(*s)).filter(in_year_range).map(V::DateTime)
        }
        (ArithOp::Sub, V::DateTime(t), V::Duration(s)) => {
            t.checked_sub(seconds(*s)).filter(in_year_range).map(V::DateTime)
        }
        (ArithOp::Sub, V::Date(a), V::Date(b)) => (*a - *b).whole_days().checked_mul(DAY).map(V::Duration),
        (ArithOp::Sub, V::DateTime(a), V::DateTime(b)) => Some(V::Duration((*a - *b).whole_seconds())),
        (ArithOp::Add, V::Duration(a), V::Duration(b)) => a.checked_add(*b).map(V::Duration),
        (ArithOp::Sub, V::Duration(a), V::Duration(b)) => a.checked_sub(*b).map(V::Duration),
        _ => match (number(&l), number(&r)) {
            (Some(a), Some(b)) => match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div => a.checked_div(b),
            }
            .map(V::Number),
            _ => None,
        },
    };
    result.unwrap_or(V::Null)
}

fn in_year_range(t: &OffsetDateTime) -> bool {
    (1..=9999).contains(&t.year())
}

/// FEEL: a date plus a days-and-time duration is the date of midnight UTC plus it.
fn shift_date(d: Date, s: i64) -> Option<FeelValue> {
    let t = d.midnight().assume_utc().checked_add(time::Duration::seconds(s))?;
    in_year_range(&t).then(|| FeelValue::Date(t.date()))
}

fn call(func: Func, args: &[FeelValue], meter: &mut Meter) -> Result<FeelValue, EvalError> {
    let text = |i: usize| match args.get(i) {
        Some(FeelValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if func == Func::StringLength {
        let Some(s) = text(0) else { return Ok(FeelValue::Null) };
        meter.charge_text(s.len())?;
        return Ok(FeelValue::Number(Decimal::from(s.chars().count())));
    }
    let (Some(s), Some(t)) = (text(0), text(1)) else { return Ok(FeelValue::Null) };
    meter.charge_text(s.len())?;
    Ok(FeelValue::Bool(match func {
        Func::StartsWith => s.starts_with(t),
        Func::EndsWith => s.ends_with(t),
        Func::Contains => s.contains(t),
        Func::StringLength => false,
    }))
}
