use weft_model::schema::Value;

use super::{bindings, schema};
use crate::{Bindings, CmpOp, ErrorKind, Filter, check, parse, to_filter};

/// A filter as SQL-like text, to keep the expectations readable. Parameters are shown
/// inline with their `Value` variant, which is what the store binds.
fn render(filter: &Filter) -> String {
    let list = |items: &[Filter], sep: &str| items.iter().map(render).collect::<Vec<_>>().join(sep);
    let op = |op: &CmpOp| if *op == CmpOp::Ne { "<>" } else { op.symbol() };
    match filter {
        Filter::True => "TRUE".into(),
        Filter::False => "FALSE".into(),
        Filter::And(items) => format!("({})", list(items, " AND ")),
        Filter::Or(items) => format!("({})", list(items, " OR ")),
        Filter::Not(inner) => format!("NOT {}", render(inner)),
        Filter::Compare { field, op: o, value } => format!("{field} {} {}", op(o), param(value)),
        Filter::In { field, values } => {
            format!("{field} IN ({})", values.iter().map(param).collect::<Vec<_>>().join(", "))
        }
        Filter::IsNull { field, negated: false } => format!("{field} IS NULL"),
        Filter::IsNull { field, negated: true } => format!("{field} IS NOT NULL"),
        Filter::StartsWith { field, prefix } => format!("{field} STARTS WITH {prefix:?}"),
        Filter::EndsWith { field, suffix } => format!("{field} ENDS WITH {suffix:?}"),
        Filter::Contains { field, needle } => format!("{field} CONTAINS {needle:?}"),
        Filter::CompareFields { left, op: o, right } => format!("{left} {} {right}", op(o)),
        Filter::Via { reference, target, filter } => format!("{reference} IN {target}[{}]", render(filter)),
    }
}

fn param(value: &Value) -> String {
    match value {
        Value::Text(s) => format!("Text({s:?})"),
        Value::Select(s) => format!("Select({s:?})"),
        Value::Integer(i) => format!("Integer({i})"),
        Value::Decimal(d) => format!("Decimal({d})"),
        Value::Bool(b) => format!("Bool({b})"),
        Value::Date(d) => format!("Date({d})"),
        Value::DateTime(t) => format!("DateTime({t})"),
        Value::Duration(s) => format!("Duration({s})"),
        Value::Reference(id) => format!("Reference({id})"),
        other => format!("{other:?}"),
    }
}

fn lower(source: &str, bindings: &Bindings) -> Result<Filter, crate::ExprError> {
    let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let checked = check(&expr, &schema()).unwrap_or_else(|e| panic!("{source}: {e:?}"));
    to_filter(&checked, bindings)
}

/// Condition and the filter it lowers to.
const LOWERED: &[(&str, &str)] = &[
    (
        "state = \"approved\" and amount > 10000 and supplier = @party",
        "(state = Select(\"approved\") AND amount > Decimal(10000) AND supplier = Reference(00000000-0000-0000-0000-00000000000a))",
    ),
    ("amount >= 12.50", "amount >= Decimal(12.50)"),
    // One reference deep: the condition on the referenced record, inside a `Via`; a null
    // reference or a missing target reads as null.
    ("contract.title = \"x\"", "contract IN contract[title = Text(\"x\")]"),
    ("starts with(contract.title, \"F\")", "contract IN contract[title STARTS WITH \"F\"]"),
    ("contract.value between 1 and 5", "contract IN contract[(value >= Decimal(1) AND value <= Decimal(5))]"),
    (
        "contract.title = null",
        "(contract IN contract[title IS NULL] OR contract IS NULL OR NOT contract IN contract[TRUE])",
    ),
    (
        "contract.title != \"x\"",
        "(contract IN contract[(title <> Text(\"x\") OR title IS NULL)] OR contract IS NULL OR NOT contract IN contract[TRUE])",
    ),
    (
        "not(contract.title = \"x\")",
        "(contract IN contract[NOT (title = Text(\"x\") AND title IS NOT NULL)] OR contract IS NULL OR NOT contract IN contract[TRUE])",
    ),
    ("not(contract.value > 3)", "contract IN contract[NOT value > Decimal(3)]"),
    ("10 < amount", "amount > Decimal(10)"),
    ("total > 100", "total > Decimal(100)"),
    ("total.amount <= 100", "total <= Decimal(100)"),
    ("subject = \"PO\"", "subject = Text(\"PO\")"),
    ("paid", "paid = Bool(true)"),
    ("paid = false", "paid = Bool(false)"),
    // Equality: plain where only TRUE matters, guarded under `not`.
    ("qty = 1", "qty = Integer(1)"),
    ("not(qty = 1)", "NOT (qty = Integer(1) AND qty IS NOT NULL)"),
    ("not(not(qty = 1))", "qty = Integer(1)"),
    ("qty != 1", "(qty <> Integer(1) OR qty IS NULL)"),
    ("not(qty != 1)", "NOT qty <> Integer(1)"),
    ("not(qty < 1)", "NOT qty < Integer(1)"),
    ("not(qty < 1 or amount = 2)", "NOT (qty < Integer(1) OR (amount = Decimal(2) AND amount IS NOT NULL))"),
    // Null checks.
    ("qty = null", "qty IS NULL"),
    ("null != qty", "qty IS NOT NULL"),
    ("tags = null", "tags IS NULL"),
    ("supplier = @party", "supplier = Reference(00000000-0000-0000-0000-00000000000a)"),
    // Lists.
    ("qty in (1, 2, 2)", "qty IN (Integer(1), Integer(2))"),
    ("not(qty in (1, 2))", "NOT (qty IN (Integer(1), Integer(2)) AND qty IS NOT NULL)"),
    ("qty in (1, null)", "(qty IN (Integer(1)) OR qty IS NULL)"),
    ("qty in (null)", "qty IS NULL"),
    ("qty in []", "FALSE"),
    ("qty in (1.5, 2)", "qty IN (Integer(2))"),
    ("state in (\"draft\", \"submitted\")", "state IN (Select(\"draft\"), Select(\"submitted\"))"),
    ("qty in (amount, 3)", "(qty = amount OR (qty IS NULL AND amount IS NULL) OR qty = Integer(3))"),
    ("3 in (qty, amount)", "(qty = Integer(3) OR amount = Decimal(3))"),
    // Ranges.
    ("amount between 1 and 10", "(amount >= Decimal(1) AND amount <= Decimal(10))"),
    ("amount in (1..10]", "(amount > Decimal(1) AND amount <= Decimal(10))"),
    ("amount in [discount..10)", "(amount >= discount AND amount < Decimal(10))"),
    // An integer field against a fraction: rounded so the answer stays the same.
    ("qty > 1.5", "qty > Integer(1)"),
    ("qty >= 1.5", "qty >= Integer(2)"),
    ("qty < 1.5", "qty < Integer(2)"),
    ("qty <= -1.5", "qty <= Integer(-2)"),
    ("qty = 1.5", "FALSE"),
    ("qty != 1.5", "TRUE"),
    ("qty < 99999999999999999999", "qty IS NOT NULL"),
    ("not(qty < 99999999999999999999)", "FALSE"),
    ("qty > 99999999999999999999", "FALSE"),
    ("not(qty > 99999999999999999999)", "NOT qty IS NULL"),
    // Two fields.
    ("amount < discount", "amount < discount"),
    ("amount = discount", "(amount = discount OR (amount IS NULL AND discount IS NULL))"),
    (
        "amount != discount",
        "NOT ((amount = discount AND amount IS NOT NULL AND discount IS NOT NULL) OR (amount IS NULL AND discount IS NULL))",
    ),
    // Constants are folded, principal references resolved.
    ("order_date < @today - duration(\"P30D\")", "order_date < Date(2025-12-04)"),
    ("created_at > @now - duration(\"PT1H\")", "created_at > DateTime(2026-01-03 11:00:00.0 +00:00:00)"),
    ("due_at > date and time(\"2026-01-03T18:00:00+08:00\")", "due_at > DateTime(2026-01-03 10:00:00.0 +00:00:00)"),
    ("lead_time <= duration(\"P1D\")", "lead_time <= Duration(86400)"),
    ("1 = 1", "TRUE"),
    ("1 = 1 and amount > 0", "amount > Decimal(0)"),
    ("1 = 2 or amount > 0", "amount > Decimal(0)"),
    ("amount > 1 / 0", "FALSE"),
    ("not(amount > 1 / 0)", "FALSE"),
    ("null = null", "TRUE"),
    // String functions.
    ("starts with(subject, \"PO\")", "subject STARTS WITH \"PO\""),
    ("ends with(priority, \"nt\")", "priority ENDS WITH \"nt\""),
    ("not(contains(subject, \"x\"))", "NOT subject CONTAINS \"x\""),
    ("starts with(subject, \"P\" + \"O\")", "subject STARTS WITH \"PO\""),
];

#[test]
fn lowers() {
    for (source, expected) in LOWERED {
        let filter = lower(source, &bindings()).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(render(&filter), *expected, "{source}");
    }
}

#[test]
fn absent_principal_references_become_null_checks() {
    let nobody = Bindings::new(bindings().now);
    let cases = [
        ("supplier = @party", "supplier IS NULL"),
        ("owner != @me", "owner IS NOT NULL"),
        ("department in (@unit, null)", "department IS NULL"),
    ];
    for (source, expected) in cases {
        assert_eq!(render(&lower(source, &nobody).expect("lowers")), expected, "{source}");
    }
}

/// Injection attempts stay what they are: a string parameter, never SQL.
#[test]
fn injection_looking_strings_are_plain_parameters() {
    let attempts = ["x' OR 1=1 --", "'; DROP TABLE orders; --", "\" OR \"\"=\"", "%_\\"];
    for attempt in attempts {
        let mut source = String::from("subject = ");
        crate::ast::write_string(&mut source, attempt).expect("writes");
        source.push_str(" or starts with(subject, ");
        crate::ast::write_string(&mut source, attempt).expect("writes");
        source.push(')');
        let filter = lower(&source, &bindings()).expect("lowers");
        assert_eq!(
            filter,
            Filter::Or(vec![
                Filter::Compare { field: "subject".into(), op: CmpOp::Eq, value: Value::Text(attempt.into()) },
                Filter::StartsWith { field: "subject".into(), prefix: attempt.into() },
            ]),
            "{source}"
        );
    }
    // U+0000 can be stored nowhere, so a literal holding it is refused where it stands.
    let err = parse("subject = \"x\\u0000y\"").expect_err("NUL is refused");
    assert_eq!((err.span.start, err.span.end), (10, 20), "{err:?}");
    // Field names come from the schema, so an unknown one never reaches the filter.
    let expr = parse("subject = \"a\" or id = \"1 OR 1=1\"").expect("parses");
    assert!(check(&expr, &schema()).is_err());
}

/// Conditions that are valid but cannot be filters, with the place.
const NOT_FILTERABLE: &[(&str, (usize, usize), &str)] = &[
    (
        "amount * 2 > 10",
        (0, 10),
        "computing with fields cannot be used as a filter; compare a field with a value or another field",
    ),
    (
        "string length(subject) > 3",
        (0, 22),
        "computing with fields cannot be used as a filter; compare a field with a value or another field",
    ),
    (
        "contract.title = subject",
        (0, 24),
        "`contract.title` and `subject` are on different records; compare a referenced record's field with a value",
    ),
    (
        "contract.title = \"x\" or (contract.value > 1 and amount > contract.value)",
        (48, 71),
        "`contract.value` and `amount` are on different records; compare a referenced record's field with a value",
    ),
    ("total.currency = \"CNY\"", (0, 14), "the currency of a money field cannot be used as a filter yet"),
    ("score > 1", (0, 5), "`score` is computed when read and has no column; declare it stored to filter on it"),
    ("lines = null", (0, 12), "child lines are stored apart from the record and cannot be used as a filter yet"),
    (
        "count(lines) > 0",
        (0, 12),
        "child lines are stored apart from the record, so `count` cannot be used as a filter; declare a stored computed field with it and filter on that",
    ),
    ("contains(\"abc\", subject)", (9, 14), "`contains` can filter on a field's text only"),
    ("starts with(subject, notes)", (21, 26), "`starts with` can filter with a fixed text only"),
];

#[test]
fn refuses_what_is_not_a_filter() {
    for (source, (start, end), message) in NOT_FILTERABLE {
        let error = lower(source, &bindings()).expect_err(source);
        assert_eq!(
            (error.kind, error.span.start, error.span.end, error.message.as_str()),
            (ErrorKind::NotFilterable, *start, *end, *message),
            "{source}"
        );
    }
}
