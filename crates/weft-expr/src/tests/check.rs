use super::schema;
use crate::{ErrorKind, Type, check, check_value, parse};

fn problems(source: &str) -> Vec<String> {
    let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    match check(&expr, &schema()) {
        Ok(_) => Vec::new(),
        Err(errors) => {
            errors.iter().map(|e| format!("{}..{} {:?}: {}", e.span.start, e.span.end, e.kind, e.message)).collect()
        }
    }
}

/// Conditions the fixture schema accepts.
const ACCEPTED: &[&str] = &[
    "amount > 10000",
    "state = \"approved\" and amount > 10000 and supplier = @party",
    "state in (\"draft\", \"submitted\")",
    "priority != \"urgent\"",
    "owner = @me or buyer = @me",
    "department = @unit",
    "supplier = \"00000000-0000-0000-0000-00000000000a\"",
    "\"00000000-0000-0000-0000-00000000000a\" = supplier",
    "supplier in (@party, \"00000000-0000-0000-0000-00000000000b\", null)",
    "total > 100 and total.amount < 200 and total.currency = \"CNY\"",
    "total > amount",
    "qty between 1 and amount",
    "qty in [1..10) and amount in (0.5..2]",
    "order_date < @today - duration(\"P30D\")",
    "order_date >= today() and due_at < now() + duration(\"PT1H\")",
    "created_at > date and time(\"2026-01-01T00:00:00Z\")",
    "ship_date - order_date > duration(\"P2D\")",
    "lead_time <= duration(\"P3D\")",
    "starts with(subject, \"PO\") and not(contains(notes, \"x\")) and ends with(priority, \"w\")",
    "string length(subject) > 3",
    "tags = null and lines != null and notes = null",
    "contract.title = \"Frame\" and contract.value > 10",
    "paid",
    "not(paid) or paid = null",
    "subject + \"!\" = \"PO!\"",
    "null = null",
    "version >= 2 and number = \"PO-1\" and id != null",
    "1 / 0 = null",
];

#[test]
fn accepts() {
    for source in ACCEPTED {
        assert_eq!(problems(source), Vec::<String>::new(), "{source}");
    }
}

/// Conditions refused, with every problem: place, kind and message.
const REFUSED: &[(&str, &[&str])] = &[
    ("amout > 1", &["0..5 UnknownName: unknown name `amout`; did you mean `amount`?"]),
    ("Amount > 1", &["0..6 UnknownName: unknown name `Amount`; did you mean `amount`?"]),
    ("zzz > 1", &["0..3 UnknownName: unknown name `zzz`"]),
    (
        "amout > 1 and stat = \"x\"",
        &[
            "0..5 UnknownName: unknown name `amout`; did you mean `amount`?",
            "14..18 UnknownName: unknown name `stat`; did you mean `state`?",
        ],
    ),
    ("amount > \"x\"", &["0..12 TypeMismatch: cannot compare a number with a string"]),
    ("state > 3", &["0..9 TypeMismatch: cannot compare a string with a number"]),
    ("state = \"aprroved\"", &["8..18 UnknownOption: unknown option `aprroved` of `state`; did you mean `approved`?"]),
    ("\"urgnt\" = priority", &["0..7 UnknownOption: unknown option `urgnt` of `priority`; did you mean `urgent`?"]),
    (
        "priority in (\"low\", \"high\")",
        &["20..26 UnknownOption: unknown option `high` of `priority`; the options are: low, normal, urgent"],
    ),
    ("priority > \"low\"", &["0..16 TypeMismatch: the options of `priority` have no order; compare with `=` or `in`"]),
    ("paid < true", &["0..11 TypeMismatch: a boolean has no order; only numbers, strings, dates and durations do"]),
    ("supplier = @me", &["0..14 TypeMismatch: cannot compare a party with a principal"]),
    ("supplier = \"ACME\"", &["11..17 TypeMismatch: `ACME` is not an id, so it cannot be compared with a party"]),
    (
        "created_at > @today",
        &[
            "0..19 TypeMismatch: cannot compare a date and time with a date; use @today or date(\"…\") for dates, @now or date and time(\"…\") for instants",
        ],
    ),
    (
        "order_date > \"2026-01-01\"",
        &[
            "0..25 TypeMismatch: cannot compare a date with a string; write date(\"2026-01-31\"), date and time(\"…\") or duration(\"P3D\")",
        ],
    ),
    (
        "tags = \"a\"",
        &["0..4 TypeMismatch: `tags` is a multi_select field; expressions can only compare it with null for now"],
    ),
    ("amount < null", &["0..13 TypeMismatch: `<` with null is always null; test for a missing value with `= null`"]),
    ("qty in [1..null]", &["11..15 TypeMismatch: a range needs two ends; null is not one"]),
    ("qty in (1, \"2\")", &["11..14 TypeMismatch: cannot compare a number with a string"]),
    ("amount + 1", &["0..10 TypeMismatch: a condition must be true or false, but this expression gives a number"]),
    ("subject", &["0..7 TypeMismatch: a condition must be true or false, but this expression gives a string"]),
    ("paid and 1", &["9..10 TypeMismatch: `and` takes conditions (true or false), not a number"]),
    ("not(amount)", &["4..10 TypeMismatch: `not` takes conditions (true or false), not a number"]),
    ("order_date + order_date = null", &["0..23 TypeMismatch: cannot apply `+` to a date and a date"]),
    ("-subject = null", &["0..8 TypeMismatch: cannot negate a string"]),
    ("total.foo > 1", &["6..9 UnknownName: money has `amount` and `currency`, not `foo`"]),
    ("total.amont > 1", &["6..11 UnknownName: money has `amount` and `currency`, not `amont`; did you mean `amount`?"]),
    ("amount.x > 1", &["7..8 TypeMismatch: `amount` is a number and has no fields"]),
    ("supplier.name = \"x\"", &["9..13 UnknownName: the fields of a party (`supplier`) are not known here"]),
    (
        "contract.titel = \"x\"",
        &["9..14 UnknownName: the record `contract` refers to has no field `titel`; did you mean `title`?"],
    ),
    (
        "startswith(subject, \"PO\")",
        &["0..10 UnknownFunction: unknown function `startswith`; did you mean `starts with`?"],
    ),
    ("sum(lines) > 0", &["4..9 TypeMismatch: `sum` takes a field of child lines, as in `sum(lines.amount)`"]),
    (
        "count(amount) > 0",
        &["6..12 TypeMismatch: `amount` is not child lines; `count` takes child lines, as in `count(lines)`"],
    ),
    ("sum(lines.qyt) > 0", &["10..13 UnknownName: the lines of `lines` have no field `qyt`; did you mean `qty`?"]),
    ("sum(lines.item) > 0", &["4..14 TypeMismatch: `sum` cannot take a string (`lines.item`)"]),
    ("mean(lines.need_by) = null", &["5..18 TypeMismatch: `mean` cannot take a date (`lines.need_by`)"]),
    (
        "max(lines.qty, 2) > 1",
        &[
            "0..17 TypeMismatch: `max` takes a field of child lines, as in `max(lines.amount)`, with one argument, not 2",
        ],
    ),
    ("sum(linez.qty) > 1", &["4..9 UnknownName: unknown name `linez`; did you mean `lines`?"]),
    ("lines.qty > 1", &["6..9 TypeMismatch: `lines` is a lines value and has no fields"]),
    (
        "upper case(subject) = \"PO\"",
        &["0..10 UnknownFunction: the FEEL function `upper case` is not supported here yet"],
    ),
    (
        "date(created_at) = @today",
        &["0..4 UnknownFunction: `date` is only supported with a literal string here, as in date(\"…\")"],
    ),
    ("starts with(qty, \"1\")", &["12..15 TypeMismatch: `starts with` takes strings; argument 1 is a number"]),
    ("contains(subject)", &["0..17 TypeMismatch: `contains` takes 2 arguments, not 1"]),
    ("contains(subject, null)", &["18..22 TypeMismatch: `contains` with null is always null"]),
    ("today(1) = order_date", &["0..8 TypeMismatch: `today()` takes no arguments"]),
];

#[test]
fn refuses_with_places_and_suggestions() {
    for (source, expected) in REFUSED {
        assert_eq!(problems(source), *expected, "{source}");
    }
}

#[test]
fn values_of_any_type_check_with_check_value() {
    let cases = [
        ("amount * 2", Type::Number),
        ("total", Type::Money),
        ("subject + \"!\"", Type::String),
        ("@today + duration(\"P1D\")", Type::Date),
        ("@now - due_at", Type::Duration),
        ("supplier", Type::Reference(crate::RefKind::Party)),
        ("null", Type::Null),
    ];
    for (source, ty) in cases {
        let expr = parse(source).expect("parses");
        let checked = check_value(&expr, &schema()).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        assert_eq!(checked.result_type(), &ty, "{source}");
    }
}

#[test]
fn transition_inputs_and_ad_hoc_variables() {
    let decl = super::decl();
    let inputs: Vec<weft_model::schema::FieldDecl> =
        serde_json::from_str(r#"[{"name": "reason", "label": {"en": "Reason", "zh": "原因"}, "type": "long_text"}]"#)
            .expect("fields");
    let schema = crate::Schema::for_type(&decl).with_fields(&inputs);
    let expr = parse("string length(reason) > 10 and amount > 0").expect("parses");
    assert!(check(&expr, &schema).is_ok());
    let expr = parse("reason != null").expect("parses");
    assert_eq!(check(&expr, &crate::Schema::for_type(&decl)).expect_err("unknown")[0].kind, ErrorKind::UnknownName);
    assert!(check(&expr, &crate::Schema::from_fields(&inputs)).is_ok());
}

#[test]
fn state_is_text_without_a_lifecycle() {
    let mut decl = super::decl();
    decl.lifecycle = None;
    let expr = parse("state = \"anything\"").expect("parses");
    assert!(check(&expr, &crate::Schema::for_type(&decl)).is_ok());
}
