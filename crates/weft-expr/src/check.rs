//! Strict mode: resolve every name against a `Schema`, give every node a type, and refuse
//! what cannot work (unknown names, functions and options, mismatched types) with the
//! place and, where one is close, a suggestion. Every problem is reported, not just the
//! first, so an expression can be fixed in one round.

use uuid::Uuid;

use crate::ast::{ArithOp, AtRef, CmpOp, Expr, ExprKind, Ident, InSet, Literal};
use crate::checked::{Checked, FieldRef, Func, Kind, ListFunc, MoneyPart, Node};
use crate::error::{ErrorKind, ExprError, Span};
use crate::eval::FeelValue;
use crate::schema::{FieldType, Schema, Type};
use crate::suggest::hint;

/// Checks a condition (a filter, a guard, an access condition): its value must be a
/// boolean.
pub fn check(expr: &Expr, schema: &Schema) -> Result<Checked, Vec<ExprError>> {
    let checked = check_value(expr, schema)?;
    match checked.result_type() {
        Type::Boolean => Ok(checked),
        other => Err(vec![ExprError::new(
            ErrorKind::TypeMismatch,
            expr.span,
            format!("a condition must be true or false, but this expression gives {other}"),
        )]),
    }
}

/// Checks an expression whose value may be of any type (a default, a computed value).
pub fn check_value(expr: &Expr, schema: &Schema) -> Result<Checked, Vec<ExprError>> {
    let mut checker = Checker { schema, errors: Vec::new() };
    match checker.node(expr) {
        Some(root) if checker.errors.is_empty() => Ok(Checked { root }),
        _ => Err(checker.errors),
    }
}

/// FEEL built-ins Weft does not evaluate yet; named apart from unknown functions so the
/// message says "not yet" rather than "no such thing".
const FEEL_NOT_YET: &[&str] = &[
    "abs",
    "after",
    "all",
    "any",
    "append",
    "before",
    "ceiling",
    "coincides",
    "concatenate",
    "day of week",
    "day of year",
    "decimal",
    "distinct values",
    "during",
    "even",
    "exp",
    "finished by",
    "finishes",
    "flatten",
    "floor",
    "get entries",
    "get value",
    "includes",
    "index of",
    "insert before",
    "is defined",
    "list contains",
    "log",
    "lower case",
    "matches",
    "median",
    "meets",
    "met by",
    "mode",
    "modulo",
    "month of year",
    "number",
    "odd",
    "overlaps",
    "product",
    "remove",
    "replace",
    "reverse",
    "round",
    "sort",
    "split",
    "sqrt",
    "started by",
    "starts",
    "stddev",
    "string",
    "string join",
    "sublist",
    "substring",
    "substring after",
    "substring before",
    "time",
    "union",
    "upper case",
    "week of year",
    "years and months duration",
];

struct Checker<'s> {
    schema: &'s Schema,
    errors: Vec<ExprError>,
}

fn node(kind: Kind, ty: Type, span: Span, uses_fields: bool) -> Node {
    Node { kind, ty, span, uses_fields }
}

fn constant(value: FeelValue, ty: Type, span: Span) -> Node {
    node(Kind::Const(value), ty, span, false)
}

fn orderable(ty: &Type) -> bool {
    matches!(ty, Type::Number | Type::Money | Type::String | Type::Date | Type::DateTime | Type::Duration)
}

fn comparable(a: &Type, b: &Type) -> bool {
    (a.is_numeric() && b.is_numeric()) || a == b
}

fn arith_type(op: ArithOp, l: &Type, r: &Type) -> Option<Type> {
    use Type::*;
    if *l == Null || *r == Null {
        return Some(Null);
    }
    let numbers = l.is_numeric() && r.is_numeric();
    Some(match (op, l, r) {
        (_, _, _) if numbers => Number,
        (ArithOp::Add, String, String) => String,
        (ArithOp::Add, Date, Duration) | (ArithOp::Add, Duration, Date) | (ArithOp::Sub, Date, Duration) => Date,
        (ArithOp::Add, DateTime, Duration)
        | (ArithOp::Add, Duration, DateTime)
        | (ArithOp::Sub, DateTime, Duration) => DateTime,
        (ArithOp::Sub, Date, Date) | (ArithOp::Sub, DateTime, DateTime) => Duration,
        (ArithOp::Add | ArithOp::Sub, Duration, Duration) => Duration,
        _ => return None,
    })
}

fn at_type(at: AtRef) -> Type {
    use crate::schema::RefKind;
    match at {
        AtRef::Me => Type::Reference(RefKind::Principal),
        AtRef::Party => Type::Reference(RefKind::Party),
        AtRef::Unit => Type::Reference(RefKind::OrgUnit),
        AtRef::Today => Type::Date,
        AtRef::Now => Type::DateTime,
    }
}

fn is_null_literal(n: &Node) -> bool {
    matches!(n.kind, Kind::Const(FeelValue::Null))
}

impl Checker<'_> {
    fn error(&mut self, kind: ErrorKind, span: Span, message: impl Into<String>) -> Option<Node> {
        self.errors.push(ExprError::new(kind, span, message));
        None
    }

    fn mismatch(&mut self, span: Span, message: impl Into<String>) -> Option<Node> {
        self.error(ErrorKind::TypeMismatch, span, message)
    }

    fn node(&mut self, e: &Expr) -> Option<Node> {
        let span = e.span;
        match &e.kind {
            ExprKind::Literal(l) => Some(literal(l, span)),
            ExprKind::Path(parts) => {
                let field = self.path(parts)?;
                let ty = match field.part {
                    Some(MoneyPart::Amount) => Type::Number,
                    Some(MoneyPart::Currency) => Type::String,
                    None => field.ty.value_type(),
                };
                Some(node(Kind::Field(field), ty, span, true))
            }
            ExprKind::At(at) => Some(node(Kind::At(*at), at_type(*at), span, false)),
            ExprKind::Neg(x) => {
                let x = self.node(x)?;
                self.readable(&x)?;
                let ty = match &x.ty {
                    Type::Number | Type::Money => Type::Number,
                    Type::Duration | Type::Null => x.ty.clone(),
                    other => return self.mismatch(span, format!("cannot negate {other}")),
                };
                let uses = x.uses_fields;
                Some(node(Kind::Neg(Box::new(x)), ty, span, uses))
            }
            ExprKind::Arith { op, lhs, rhs } => {
                let (l, r) = (self.node(lhs), self.node(rhs));
                let (l, r) = (l?, r?);
                self.readable(&l)?;
                self.readable(&r)?;
                let Some(ty) = arith_type(*op, &l.ty, &r.ty) else {
                    return self.mismatch(span, format!("cannot apply `{}` to {} and {}", op.symbol(), l.ty, r.ty));
                };
                let uses = l.uses_fields || r.uses_fields;
                Some(node(Kind::Arith { op: *op, lhs: Box::new(l), rhs: Box::new(r) }, ty, span, uses))
            }
            ExprKind::Compare { op, lhs, rhs } => {
                let (l, r) = (self.node(lhs), self.node(rhs));
                self.compare(*op, l?, r?, span)
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let word = if matches!(e.kind, ExprKind::And(..)) { "and" } else { "or" };
                let (a, b) = (self.condition(a, word), self.condition(b, word));
                let (a, b) = (a?, b?);
                let uses = a.uses_fields || b.uses_fields;
                let (a, b) = (Box::new(a), Box::new(b));
                let kind = if word == "and" { Kind::And(a, b) } else { Kind::Or(a, b) };
                Some(node(kind, Type::Boolean, span, uses))
            }
            ExprKind::Not(x) => {
                let x = self.condition(x, "not")?;
                let uses = x.uses_fields;
                Some(node(Kind::Not(Box::new(x)), Type::Boolean, span, uses))
            }
            ExprKind::In { value, set } => self.in_set(value, set, span),
            ExprKind::Between { value, low, high } => {
                let (v, l, h) = (self.node(value), self.node(low), self.node(high));
                self.range(v?, l?, h?, true, true, span)
            }
            ExprKind::Call { name, args } => self.call(name, args, span),
        }
    }

    /// Resolves a name or a path through references and money parts.
    fn path(&mut self, parts: &[Ident]) -> Option<FieldRef> {
        let (first, rest) = parts.split_first()?;
        let Some(mut var) = self.schema.var(&first.name) else {
            let message = format!("unknown name `{}`{}", first.name, hint(&first.name, self.schema.names()));
            self.error(ErrorKind::UnknownName, first.span, message);
            return None;
        };
        let mut path = vec![first.name.clone()];
        let mut part = None;
        let mut via = None;
        for ident in rest {
            let so_far = path.join(".");
            if part.is_some() {
                self.error(ErrorKind::TypeMismatch, ident.span, format!("`{so_far}` has no fields"));
                return None;
            }
            match (&var.ty, &var.target) {
                (FieldType::Money, _) => {
                    part = match ident.name.as_str() {
                        "amount" => Some(MoneyPart::Amount),
                        "currency" => Some(MoneyPart::Currency),
                        other => {
                            let message = format!(
                                "money has `amount` and `currency`, not `{other}`{}",
                                hint(other, ["amount", "currency"])
                            );
                            self.error(ErrorKind::UnknownName, ident.span, message);
                            return None;
                        }
                    };
                }
                (FieldType::Reference(kind), Some(target)) => {
                    if via.is_none() {
                        via = Some(kind.clone());
                    }
                    let Some(next) = target.var(&ident.name) else {
                        let message = format!(
                            "the record `{so_far}` refers to has no field `{}`{}",
                            ident.name,
                            hint(&ident.name, target.names())
                        );
                        self.error(ErrorKind::UnknownName, ident.span, message);
                        return None;
                    };
                    var = next;
                    path.push(ident.name.clone());
                }
                (FieldType::Reference(kind), None) => {
                    let message = format!("the fields of {kind} (`{so_far}`) are not known here");
                    self.error(ErrorKind::UnknownName, ident.span, message);
                    return None;
                }
                (other, _) => {
                    let message = format!("`{so_far}` is {} and has no fields", other.value_type());
                    self.error(ErrorKind::TypeMismatch, ident.span, message);
                    return None;
                }
            }
        }
        Some(FieldRef { path, ty: var.ty.clone(), column: var.column, part, via })
    }

    /// Refuses a field that can only be compared with null.
    fn readable(&mut self, n: &Node) -> Option<()> {
        if let (Type::Opaque(kind), Kind::Field(f)) = (&n.ty, &n.kind) {
            let message =
                format!("`{}` is a {kind} field; expressions can only compare it with null for now", f.display());
            self.mismatch(n.span, message);
            return None;
        }
        Some(())
    }

    fn condition(&mut self, e: &Expr, word: &str) -> Option<Node> {
        let n = self.node(e)?;
        match n.ty {
            Type::Boolean | Type::Null => Some(n),
            ref other => self.mismatch(n.span, format!("`{word}` takes conditions (true or false), not {other}")),
        }
    }

    fn compare(&mut self, op: CmpOp, mut l: Node, mut r: Node, span: Span) -> Option<Node> {
        let uses = l.uses_fields || r.uses_fields;
        if l.ty == Type::Null || r.ty == Type::Null {
            if op.is_ordering() {
                return self.mismatch(
                    span,
                    format!("`{}` with null is always null; test for a missing value with `= null`", op.symbol()),
                );
            }
            let field = match (&l.kind, &r.kind) {
                (Kind::Field(f), _) if is_null_literal(&r) => Some(f.clone()),
                (_, Kind::Field(f)) if is_null_literal(&l) => Some(f.clone()),
                _ => None,
            };
            if let Some(field) = field {
                return Some(node(Kind::IsNull { field, negated: op == CmpOp::Ne }, Type::Boolean, span, true));
            }
        } else {
            self.readable(&l)?;
            self.readable(&r)?;
            self.coerce(&l, &mut r)?;
            self.coerce(&r, &mut l)?;
            if !comparable(&l.ty, &r.ty) {
                return self.mismatch(span, incomparable(&l.ty, &r.ty));
            }
            if op.is_ordering() {
                self.ordered(&l, span)?;
                self.ordered(&r, span)?;
            }
        }
        Some(node(Kind::Compare { op, lhs: Box::new(l), rhs: Box::new(r) }, Type::Boolean, span, uses))
    }

    /// Reads a string literal compared with `target` as what `target` holds: an id for a
    /// reference; one of the options for a select field.
    fn coerce(&mut self, target: &Node, other: &mut Node) -> Option<()> {
        let Kind::Const(FeelValue::String(text)) = &other.kind else { return Some(()) };
        match (&target.ty, &target.kind) {
            (Type::Reference(_), _) => match Uuid::parse_str(text) {
                Ok(id) => {
                    other.kind = Kind::Const(FeelValue::Reference(id));
                    other.ty = target.ty.clone();
                }
                Err(_) => {
                    let message = format!("`{text}` is not an id, so it cannot be compared with {}", target.ty);
                    self.mismatch(other.span, message);
                    return None;
                }
            },
            (_, Kind::Field(FieldRef { ty: FieldType::Select(options), part: None, .. }))
                if !options.iter().any(|o| o == text) =>
            {
                let Kind::Field(field) = &target.kind else { return Some(()) };
                let suggestion = hint(text, options.iter().map(String::as_str));
                let message = if suggestion.is_empty() {
                    format!("unknown option `{text}` of `{}`; the options are: {}", field.display(), options.join(", "))
                } else {
                    format!("unknown option `{text}` of `{}`{suggestion}", field.display())
                };
                self.error(ErrorKind::UnknownOption, other.span, message);
                return None;
            }
            _ => {}
        }
        Some(())
    }

    fn ordered(&mut self, n: &Node, span: Span) -> Option<()> {
        if let Kind::Field(f @ FieldRef { ty: FieldType::Select(_), part: None, .. }) = &n.kind {
            let message = format!("the options of `{}` have no order; compare with `=` or `in`", f.display());
            self.mismatch(span, message);
            return None;
        }
        if !orderable(&n.ty) {
            self.mismatch(span, format!("{} has no order; only numbers, strings, dates and durations do", n.ty));
            return None;
        }
        Some(())
    }

    fn in_set(&mut self, value: &Expr, set: &InSet, span: Span) -> Option<Node> {
        match set {
            InSet::Range(range) => {
                let (v, l, h) = (self.node(value), self.node(&range.low), self.node(&range.high));
                self.range(v?, l?, h?, range.low_closed, range.high_closed, span)
            }
            InSet::List(items) => {
                let value = self.node(value);
                let items: Vec<Option<Node>> = items.iter().map(|i| self.node(i)).collect();
                let mut value = value?;
                self.readable(&value)?;
                let mut checked = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    let Some(mut item) = item else {
                        ok = false;
                        continue;
                    };
                    if is_null_literal(&item) {
                        checked.push(item);
                        continue;
                    }
                    let fits = self.readable(&item).is_some()
                        && self.coerce(&value, &mut item).is_some()
                        && self.coerce(&item, &mut value).is_some();
                    if fits && !comparable(&value.ty, &item.ty) && value.ty != Type::Null {
                        self.mismatch(item.span, incomparable(&value.ty, &item.ty));
                        ok = false;
                    }
                    ok &= fits;
                    checked.push(item);
                }
                if !ok {
                    return None;
                }
                let uses = value.uses_fields || checked.iter().any(|i| i.uses_fields);
                Some(node(Kind::In { value: Box::new(value), items: checked }, Type::Boolean, span, uses))
            }
        }
    }

    fn range(
        &mut self,
        value: Node,
        low: Node,
        high: Node,
        low_closed: bool,
        high_closed: bool,
        span: Span,
    ) -> Option<Node> {
        let mut ok = true;
        for end in [&low, &high] {
            if end.ty == Type::Null {
                self.mismatch(end.span, "a range needs two ends; null is not one");
                ok = false;
            } else if !comparable(&value.ty, &end.ty) {
                self.mismatch(end.span, incomparable(&value.ty, &end.ty));
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        self.readable(&value)?;
        self.ordered(&value, span)?;
        self.ordered(&low, low.span)?;
        self.ordered(&high, high.span)?;
        let uses = value.uses_fields || low.uses_fields || high.uses_fields;
        let kind =
            Kind::Range { value: Box::new(value), low: Box::new(low), high: Box::new(high), low_closed, high_closed };
        Some(node(kind, Type::Boolean, span, uses))
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Option<Node> {
        let at = match name.name.as_str() {
            "today" => Some(AtRef::Today),
            "now" => Some(AtRef::Now),
            _ => None,
        };
        if let Some(at) = at {
            if !args.is_empty() {
                return self.mismatch(span, format!("`{}()` takes no arguments", name.name));
            }
            return Some(node(Kind::At(at), at_type(at), span, false));
        }
        if let Some(func) = ListFunc::named(&name.name) {
            return self.list_call(func, args, span);
        }
        let Some(func) = Func::ALL.into_iter().find(|f| f.name() == name.name) else {
            return self.unknown_function(name);
        };
        let arity = if func == Func::StringLength { 1 } else { 2 };
        if args.len() != arity {
            let message = format!(
                "`{}` takes {arity} argument{}, not {}",
                func.name(),
                if arity == 1 { "" } else { "s" },
                args.len()
            );
            return self.mismatch(span, message);
        }
        let args: Vec<Option<Node>> = args.iter().map(|a| self.node(a)).collect();
        let mut checked = Vec::with_capacity(args.len());
        for (i, arg) in args.into_iter().enumerate() {
            let arg = arg?;
            match arg.ty {
                Type::String => checked.push(arg),
                Type::Null => {
                    return self.mismatch(arg.span, format!("`{}` with null is always null", func.name()));
                }
                ref other => {
                    let message = format!("`{}` takes strings; argument {} is {other}", func.name(), i + 1);
                    return self.mismatch(arg.span, message);
                }
            }
        }
        let ty = if func == Func::StringLength { Type::Number } else { Type::Boolean };
        let uses = checked.iter().any(|a| a.uses_fields);
        Some(node(Kind::Call { func, args: checked }, ty, span, uses))
    }

    /// `count(lines)`, `sum(lines.amount)`, `mean`, `min`, `max`: FEEL's list functions over
    /// a child-lines field, or over one field of its lines.
    fn list_call(&mut self, func: ListFunc, args: &[Expr], span: Span) -> Option<Node> {
        let usage = |f: ListFunc| match f {
            ListFunc::Count => "`count` takes child lines, as in `count(lines)`".to_owned(),
            f => format!("`{}` takes a field of child lines, as in `{}(lines.amount)`", f.name(), f.name()),
        };
        let [arg] = args else {
            return self.mismatch(span, format!("{}, with one argument, not {}", usage(func), args.len()));
        };
        let ExprKind::Path(parts) = &arg.kind else { return self.mismatch(arg.span, usage(func)) };
        let (first, rest) = parts.split_first()?;
        let Some(var) = self.schema.var(&first.name) else {
            let message = format!("unknown name `{}`{}", first.name, hint(&first.name, self.schema.names()));
            return self.error(ErrorKind::UnknownName, first.span, message);
        };
        let Some(line) = var.lines.clone() else {
            return self.mismatch(arg.span, format!("`{}` is not child lines; {}", first.name, usage(func)));
        };
        let lines = first.name.clone();
        let item = match (func, rest) {
            (ListFunc::Count, []) => None,
            (_, [field]) => {
                let Some(v) = line.var(&field.name) else {
                    let message = format!(
                        "the lines of `{lines}` have no field `{}`{}",
                        field.name,
                        hint(&field.name, line.names())
                    );
                    return self.error(ErrorKind::UnknownName, field.span, message);
                };
                Some(FieldRef {
                    path: vec![field.name.clone()],
                    ty: v.ty.clone(),
                    column: false,
                    part: None,
                    via: None,
                })
            }
            _ => return self.mismatch(arg.span, usage(func)),
        };
        let ty = match (&func, item.as_ref().map(|f| f.ty.value_type())) {
            (ListFunc::Count, _) => Type::Number,
            (ListFunc::Sum | ListFunc::Mean | ListFunc::Min | ListFunc::Max, Some(Type::Number | Type::Money)) => {
                Type::Number
            }
            (
                ListFunc::Min | ListFunc::Max,
                Some(t @ (Type::Date | Type::DateTime | Type::Duration | Type::String)),
            ) => t,
            (ListFunc::Sum, Some(Type::Duration)) => Type::Duration,
            (_, Some(other)) => {
                let message = format!(
                    "`{}` cannot take {other} (`{}`)",
                    func.name(),
                    parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")
                );
                return self.mismatch(arg.span, message);
            }
            (_, None) => return self.mismatch(arg.span, usage(func)),
        };
        Some(node(Kind::Lines { func, lines, item }, ty, span, true))
    }

    fn unknown_function(&mut self, name: &Ident) -> Option<Node> {
        let name_ = name.name.as_str();
        let message = match name_ {
            "date" | "date and time" | "duration" => {
                format!("`{name_}` is only supported with a literal string here, as in {name_}(\"…\")")
            }
            _ if FEEL_NOT_YET.contains(&name_) => format!("the FEEL function `{name_}` is not supported here yet"),
            _ => {
                let known = Func::ALL.map(Func::name).into_iter().chain([
                    "count",
                    "sum",
                    "mean",
                    "min",
                    "max",
                    "today",
                    "now",
                    "not",
                    "date",
                    "date and time",
                    "duration",
                ]);
                format!("unknown function `{name_}`{}", hint(name_, known))
            }
        };
        self.error(ErrorKind::UnknownFunction, name.span, message)
    }
}

fn literal(l: &Literal, span: Span) -> Node {
    match l {
        Literal::Null => constant(FeelValue::Null, Type::Null, span),
        Literal::Bool(b) => constant(FeelValue::Bool(*b), Type::Boolean, span),
        Literal::Number(n) => constant(FeelValue::Number(*n), Type::Number, span),
        Literal::String(s) => constant(FeelValue::String(s.clone()), Type::String, span),
        Literal::Date(d) => constant(FeelValue::Date(*d), Type::Date, span),
        Literal::DateTime(t) => constant(FeelValue::DateTime(*t), Type::DateTime, span),
        Literal::Duration(s) => constant(FeelValue::Duration(*s), Type::Duration, span),
    }
}

fn incomparable(a: &Type, b: &Type) -> String {
    let mut message = format!("cannot compare {a} with {b}");
    match (a, b) {
        (Type::Date, Type::DateTime) | (Type::DateTime, Type::Date) => {
            message.push_str("; use @today or date(\"…\") for dates, @now or date and time(\"…\") for instants");
        }
        (Type::String, Type::Date | Type::DateTime | Type::Duration)
        | (Type::Date | Type::DateTime | Type::Duration, Type::String) => {
            message.push_str("; write date(\"2026-01-31\"), date and time(\"…\") or duration(\"P3D\")");
        }
        _ => {}
    }
    message
}
