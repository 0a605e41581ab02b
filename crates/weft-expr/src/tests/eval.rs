use std::collections::BTreeMap;

use time::macros::{date, datetime};
use weft_model::schema::Value;

use super::{PARTY_A, PARTY_B, bindings, dec, record, schema};
use crate::{Bindings, EvalError, FeelValue, RecordContext, check, check_value, evaluate, matches, parse};

fn fixture() -> BTreeMap<String, Value> {
    record(&[
        ("subject", Value::Text("PO-2026-7".into())),
        ("qty", Value::Null),
        ("amount", Value::Decimal(dec("12.50"))),
        ("discount", Value::Null),
        ("total", Value::Money { amount: dec("150.00"), currency: "CNY".into() }),
        ("priority", Value::Select("urgent".into())),
        ("paid", Value::Bool(false)),
        ("order_date", Value::Date(date!(2026 - 01 - 02))),
        ("due_at", Value::DateTime(datetime!(2026-01-03 10:00 UTC))),
        ("supplier", Value::Reference(PARTY_A)),
        ("contract", Value::Reference(PARTY_B)),
        ("state", Value::Select("submitted".into())),
        ("owner", Value::Null),
    ])
}

fn value(source: &str, record: &BTreeMap<String, Value>, bindings: &Bindings) -> Result<FeelValue, EvalError> {
    let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let checked = check_value(&expr, &schema()).unwrap_or_else(|e| panic!("{source}: {e:?}"));
    let related: BTreeMap<String, BTreeMap<String, Value>> =
        [("contract".to_owned(), record_of_contract())].into_iter().collect();
    let context = RecordContext { related: Some(&related), ..RecordContext::new(record, bindings) };
    evaluate(&checked, &context)
}

fn record_of_contract() -> BTreeMap<String, Value> {
    record(&[("title", Value::Text("Frame".into()))])
}

const T: FeelValue = FeelValue::Bool(true);
const F: FeelValue = FeelValue::Bool(false);
const NULL: FeelValue = FeelValue::Null;

/// Expression and its value on the fixture record, where `qty`, `discount` and `owner` are
/// null.
fn cases() -> Vec<(&'static str, FeelValue)> {
    vec![
        // Exact decimals.
        ("0.1 + 0.2 = 0.3", T),
        ("0.1 + 0.2", FeelValue::Number(dec("0.3"))),
        ("amount * 2", FeelValue::Number(dec("25.00"))),
        ("1 / 0", NULL),
        ("1 / 0 = null", T),
        ("1 / 3 * 3 = 1", F),
        // FEEL equality with null is two-valued; ordering with null is null.
        ("qty = null", T),
        ("qty != null", F),
        ("qty = 1", F),
        ("qty != 1", T),
        ("not(qty = 1)", T),
        ("qty < 1", NULL),
        ("not(qty < 1)", NULL),
        ("null = null", T),
        ("qty = discount", T),
        ("qty = amount", F),
        ("qty < amount", NULL),
        // Kleene logic.
        ("qty < 1 and false", F),
        ("qty < 1 and true", NULL),
        ("qty < 1 or true", T),
        ("qty < 1 or false", NULL),
        ("false and qty < 1", F),
        ("true or qty < 1", T),
        ("not(null)", NULL),
        // Lists and ranges.
        ("qty in (1, 2)", F),
        ("qty in (1, null)", T),
        ("amount in (12.5, 13)", T),
        ("qty in [1..10]", NULL),
        ("amount in [1..12.5]", T),
        ("amount in [1..12.5)", F),
        ("amount in (12.5..20]", F),
        ("amount between 12.5 and 12.5", T),
        ("amount between 1 and qty", NULL),
        ("amount between 20 and qty", F),
        ("state in (\"draft\", \"submitted\")", T),
        // Money is compared by its amount.
        ("total > 100", T),
        ("total = 150", T),
        ("total > amount", T),
        ("total.amount + 1", FeelValue::Number(dec("151.00"))),
        ("total.currency = \"CNY\"", T),
        ("total", FeelValue::Money { amount: dec("150.00"), currency: "CNY".into() }),
        // Strings compare by code point.
        ("subject < \"PO-3\"", T),
        ("\"Z\" < \"a\"", T),
        ("starts with(subject, \"PO\")", T),
        ("starts with(subject, \"po\")", F),
        ("ends with(subject, \"-7\")", T),
        ("contains(subject, \"2026\")", T),
        ("contains(subject, \"\")", T),
        ("contains(notes, \"x\")", NULL),
        ("string length(\"héllo\")", FeelValue::Number(dec("5"))),
        ("subject + \"!\"", FeelValue::String("PO-2026-7!".into())),
        // Dates, instants and durations.
        ("order_date < @today", T),
        ("@today", FeelValue::Date(date!(2026 - 01 - 03))),
        ("@today - duration(\"P1D\") = order_date", T),
        ("order_date + duration(\"PT25H\")", FeelValue::Date(date!(2026 - 01 - 03))),
        ("order_date - duration(\"PT1H\")", FeelValue::Date(date!(2026 - 01 - 01))),
        ("@today - order_date", FeelValue::Duration(86_400)),
        ("due_at < @now", T),
        ("@now - due_at", FeelValue::Duration(7_200)),
        ("due_at + duration(\"PT3H\") > @now", T),
        ("date(\"9999-12-31\") + duration(\"P1D\")", NULL),
        ("due_at = date and time(\"2026-01-03T18:00:00+08:00\")", T),
        // Principals.
        ("supplier = @party", T),
        ("supplier != @party", F),
        ("supplier = \"00000000-0000-0000-0000-00000000000b\"", F),
        ("owner = @me", F),
        // Paths into referenced records.
        ("contract.title = \"Frame\"", T),
        ("contract.value = null", T),
        // Booleans and selects.
        ("paid", F),
        ("not(paid)", T),
        ("priority = \"urgent\"", T),
    ]
}

#[test]
fn evaluates_with_feel_semantics() {
    let record = fixture();
    for (source, expected) in cases() {
        assert_eq!(value(source, &record, &bindings()), Ok(expected), "{source}");
    }
}

#[test]
fn principal_references_without_a_principal_are_null() {
    let nobody = Bindings::new(datetime!(2026-01-03 12:00 UTC));
    let record = fixture();
    assert_eq!(value("owner = @me", &record, &nobody), Ok(T));
    assert_eq!(value("supplier = @party", &record, &nobody), Ok(F));
    assert_eq!(value("@unit", &record, &nobody), Ok(NULL));
}

#[test]
fn today_follows_the_offset_of_now() {
    let shanghai = Bindings::new(datetime!(2026-01-03 23:30 +08:00));
    let late = Bindings::new(datetime!(2026-01-03 23:30 -05:00));
    let record = fixture();
    assert_eq!(value("@today", &record, &shanghai), Ok(FeelValue::Date(date!(2026 - 01 - 03))));
    assert_eq!(value("@today", &record, &late), Ok(FeelValue::Date(date!(2026 - 01 - 03))));
    assert_eq!(value("@now = date and time(\"2026-01-04T04:30:00Z\")", &record, &late), Ok(T));
}

#[test]
fn matches_only_on_true() {
    let record = fixture();
    let bindings = bindings();
    let context = RecordContext::new(&record, &bindings);
    for (source, expected) in [("amount > 1", true), ("amount < 1", false), ("qty < 1", false)] {
        let checked = check(&parse(source).expect("parses"), &schema()).expect("checks");
        assert_eq!(matches(&checked, &context), Ok(expected), "{source}");
    }
}

#[test]
fn the_budget_bounds_the_work() {
    let record = fixture();
    let bindings = bindings();
    let checked = check(&parse("amount > 1 and amount < 100").expect("parses"), &schema()).expect("checks");
    let tight = RecordContext { budget: 3, ..RecordContext::new(&record, &bindings) };
    assert_eq!(evaluate(&checked, &tight), Err(EvalError::BudgetExhausted { budget: 3 }));
    let enough = RecordContext { budget: 7, ..RecordContext::new(&record, &bindings) };
    assert_eq!(evaluate(&checked, &enough), Ok(T));

    // Work on long strings costs by their length.
    let long = record_with_long_notes();
    let checked = check(&parse("contains(notes + notes + notes, \"x\")").expect("parses"), &schema()).expect("checks");
    let context = RecordContext::new(&long, &bindings);
    assert_eq!(evaluate(&checked, &context), Err(EvalError::BudgetExhausted { budget: 100_000 }));
}

fn record_with_long_notes() -> BTreeMap<String, Value> {
    record(&[("notes", Value::Text("y".repeat(3_000_000)))])
}

#[test]
fn a_record_that_disagrees_with_its_schema_is_an_error() {
    let record = record(&[("amount", Value::Text("12".into()))]);
    assert_eq!(
        value("amount > 1", &record, &bindings()),
        Err(EvalError::WrongValue { name: "amount".into(), expected: "a decimal", found: "text" })
    );
}

#[test]
fn paths_need_the_related_record() {
    let record = fixture();
    let bindings = bindings();
    let checked = check(&parse("contract.title = \"x\"").expect("parses"), &schema()).expect("checks");
    let context = RecordContext::new(&record, &bindings);
    assert_eq!(
        evaluate(&checked, &context),
        Err(EvalError::Unavailable("the record `contract` refers to was not loaded".into()))
    );
    // No reference, no record to load: the path is null.
    let empty = BTreeMap::new();
    assert_eq!(evaluate(&checked, &RecordContext::new(&empty, &bindings)), Ok(F));
}

fn with_lines(lines: Vec<Vec<(&str, Value)>>) -> BTreeMap<String, Value> {
    let rows = lines.into_iter().map(|line| record(&line)).collect();
    record(&[("lines", Value::Lines(rows))])
}

#[test]
fn child_lines_are_a_list_for_feel_list_functions() {
    let cny = |s: &str| Value::Money { amount: dec(s), currency: "CNY".into() };
    let three = with_lines(vec![
        vec![("qty", Value::Integer(1)), ("price", cny("10.50")), ("need_by", Value::Date(date!(2026 - 03 - 01)))],
        vec![("qty", Value::Integer(2)), ("price", cny("3.25")), ("need_by", Value::Date(date!(2026 - 01 - 15)))],
        vec![("qty", Value::Integer(3)), ("price", cny("7")), ("need_by", Value::Date(date!(2026 - 02 - 01)))],
    ]);
    let b = bindings();
    let n = |s: &str| FeelValue::Number(dec(s));
    for (source, expected) in [
        ("count(lines)", n("3")),
        ("sum(lines.qty)", n("6")),
        ("mean(lines.qty)", n("2")),
        ("sum(lines.price)", n("20.75")),
        ("min(lines.price)", n("3.25")),
        ("max(lines.qty)", n("3")),
        ("min(lines.need_by)", FeelValue::Date(date!(2026 - 01 - 15))),
        ("max(lines.need_by)", FeelValue::Date(date!(2026 - 03 - 01))),
        ("count(lines) > 0 and sum(lines.qty) <= 6", T),
    ] {
        assert_eq!(value(source, &three, &b), Ok(expected), "{source}");
    }
    // No lines: nothing to count, nothing to add up. A line without the value: FEEL's null.
    let none = record(&[]);
    let empty = with_lines(vec![]);
    let gap = with_lines(vec![vec![("qty", Value::Integer(1))], vec![("qty", Value::Null)]]);
    for (source, record, expected) in [
        ("count(lines)", &none, n("0")),
        ("count(lines)", &empty, n("0")),
        ("sum(lines.qty)", &empty, NULL),
        ("max(lines.qty)", &none, NULL),
        ("sum(lines.qty)", &gap, NULL),
        ("count(lines)", &gap, n("2")),
        ("count(lines) > 0", &empty, F),
    ] {
        assert_eq!(value(source, record, &b), Ok(expected), "{source} on {record:?}");
    }
}
