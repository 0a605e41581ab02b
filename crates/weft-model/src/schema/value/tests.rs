use serde_json::{Map, Value as Json, json};

use super::*;
use crate::schema::decl::ObjectTypeDecl;

const H1: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const H2: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

/// A type with one field `f` of the given kind (the `type` tag and its parameters, plus
/// any common keys such as `required`).
fn one_field(kind: Json) -> ObjectTypeDecl {
    let mut field = json!({ "name": "f", "label": { "en": "F", "zh": "F" } });
    if let (Json::Object(field), Json::Object(kind)) = (&mut field, kind) {
        field.extend(kind);
    }
    let decl = json!({ "name": "t", "label": { "en": "T", "zh": "T" }, "fields": [field] });
    serde_json::from_value(decl).unwrap()
}

fn object(json: Json) -> Map<String, Json> {
    match json {
        Json::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn read(decl: &ObjectTypeDecl, input: Json, mode: Mode) -> Result<Coerced, Vec<FieldError>> {
    coerce_record(decl, &object(input), mode)
}

fn render(errors: &[FieldError]) -> Vec<String> {
    errors.iter().map(|e| format!("{} {:?}: {}", e.pointer, e.code, e.reason)).collect()
}

fn purchase_order() -> ObjectTypeDecl {
    serde_json::from_str(include_str!("../fixtures/purchase_order.json")).unwrap()
}

#[test]
fn every_field_type_round_trips() {
    let cases = [
        (json!({"type": "text", "max_length": 5}), json!("héllo"), json!("héllo")),
        (json!({"type": "long_text"}), json!("line 1\nline 2"), json!("line 1\nline 2")),
        (
            json!({"type": "rich_text"}),
            json!("<p>Hi <script>alert(1)</script><b onclick=\"x()\">there</b></p>"),
            json!("<p>Hi <b>there</b></p>"),
        ),
        (json!({"type": "integer", "min": -5, "max": 5}), json!(-5), json!(-5)),
        (json!({"type": "integer"}), json!("42"), json!(42)),
        (json!({"type": "decimal", "scale": 2}), json!("12.5"), json!("12.50")),
        (json!({"type": "decimal", "scale": 2}), json!(12.5), json!("12.50")),
        (json!({"type": "decimal", "scale": 2}), json!("1.230"), json!("1.23")),
        (json!({"type": "decimal", "scale": 3, "min": "-1"}), json!("-0.001"), json!("-0.001")),
        (json!({"type": "decimal", "scale": 2}), json!(7), json!("7.00")),
        (
            json!({"type": "decimal", "scale": 0}),
            json!("1234567890123456789012345678"),
            json!("1234567890123456789012345678"),
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "12.5", "currency": "CNY"}),
            json!({"amount": "12.50", "currency": "CNY"}),
        ),
        (
            json!({"type": "money"}),
            json!({"amount": 0.1, "currency": "USD"}),
            json!({"amount": "0.10", "currency": "USD"}),
        ),
        (
            json!({"type": "money"}),
            json!({"amount": 1200, "currency": "JPY"}),
            json!({"amount": "1200", "currency": "JPY"}),
        ),
        (json!({"type": "money", "currency": "CNY"}), json!("99.9"), json!({"amount": "99.90", "currency": "CNY"})),
        (
            json!({"type": "money", "scale": 4}),
            json!({"amount": "0.0125", "currency": "EUR"}),
            json!({"amount": "0.0125", "currency": "EUR"}),
        ),
        (json!({"type": "percent"}), json!("12.5"), json!("12.5000")),
        (json!({"type": "boolean"}), json!(false), json!(false)),
        (json!({"type": "date"}), json!("2026-02-28"), json!("2026-02-28")),
        (json!({"type": "datetime"}), json!("2026-03-14T09:30:00+08:00"), json!("2026-03-14T01:30:00Z")),
        (json!({"type": "datetime"}), json!("2026-03-14T01:30:00.123456789Z"), json!("2026-03-14T01:30:00.123456Z")),
        (json!({"type": "duration"}), json!("PT90M"), json!("PT1H30M")),
        (json!({"type": "duration"}), json!(93_600), json!("P1DT2H")),
        (json!({"type": "email"}), json!("Li.Lei@Example.COM"), json!("Li.Lei@example.com")),
        (json!({"type": "phone"}), json!("+86 138 0013 8000"), json!("+86 138 0013 8000")),
        (json!({"type": "url"}), json!("https://example.com/a?b=1"), json!("https://example.com/a?b=1")),
        (options("select"), json!("b"), json!("b")),
        (options("multi_select"), json!(["c", "a"]), json!(["c", "a"])),
        (options("multi_select"), json!([]), json!([])),
        (
            json!({"type": "reference", "target": "t"}),
            json!("67E55044-10B1-426F-9247-BB680E5FE0C8"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ),
        (
            json!({"type": "party"}),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ),
        (
            json!({"type": "principal"}),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ),
        (
            json!({"type": "org_unit"}),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ),
        (
            json!({"type": "lines", "fields": [
                {"name": "item", "label": {"en": "Item", "zh": "物料"}, "type": "text", "required": true},
                {"name": "qty", "label": {"en": "Qty", "zh": "数量"}, "type": "decimal", "scale": 3, "default": "1"}
            ]}),
            json!([{"item": "bolt", "qty": "2.5"}, {"id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "item": "nut"}]),
            json!([
                {"item": "bolt", "qty": "2.500"},
                {"id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "item": "nut", "qty": "1.000"}
            ]),
        ),
        (json!({"type": "attachment"}), json!(H1.to_uppercase()), json!([H1])),
        (json!({"type": "attachment", "multiple": true}), json!([H1, H2]), json!([H1, H2])),
        (
            json!({"type": "json"}),
            json!({"iban": "DE89", "tags": [1, 2.5, null]}),
            json!({"iban": "DE89", "tags": [1, 2.5, null]}),
        ),
        (json!({"type": "text"}), Json::Null, Json::Null),
    ];
    for (kind, input, output) in cases {
        let decl = one_field(kind.clone());
        let first = read(&decl, json!({ "f": input }), Mode::Create)
            .unwrap_or_else(|e| panic!("{kind} {input}: {:?}", render(&e)));
        let value = &first.values["f"];
        assert_eq!(value.to_json(), output, "{kind} {input}");
        let again = read(&decl, json!({ "f": value.to_json() }), Mode::Update)
            .unwrap_or_else(|e| panic!("{kind} {output}: {:?}", render(&e)));
        assert_eq!(&again.values["f"], value, "{kind} {output}");
    }
}

fn options(kind: &str) -> Json {
    json!({"type": kind, "options": [
        {"value": "a", "label": {"en": "A", "zh": "甲"}},
        {"value": "b", "label": {"en": "B", "zh": "乙"}},
        {"value": "c", "label": {"en": "C", "zh": "丙"}}
    ]})
}

#[test]
fn values_are_typed_exactly() {
    let money = one_field(json!({"type": "money"}));
    let read_money = read(&money, json!({"f": {"amount": "0.1", "currency": "CNY"}}), Mode::Create).unwrap();
    let cents = rust_decimal::Decimal::new(10, 2);
    assert_eq!(read_money.values["f"], Value::Money { amount: cents, currency: "CNY".into() });

    let stamp = one_field(json!({"type": "datetime"}));
    let read_stamp = read(&stamp, json!({"f": "2026-03-14T09:30:00+08:00"}), Mode::Create).unwrap();
    assert_eq!(read_stamp.values["f"], Value::DateTime(time::macros::datetime!(2026-03-14 01:30 UTC)));

    let duration = one_field(json!({"type": "duration"}));
    let read_duration = read(&duration, json!({"f": "PT1H30M"}), Mode::Create).unwrap();
    assert_eq!(read_duration.values["f"], Value::Duration(5400));
}

#[test]
fn bad_values_name_the_place_and_the_reason() {
    let cases: Vec<(Json, Json, &[&str])> = vec![
        (json!({"type": "text", "max_length": 5}), json!("héllo!"), &["/f TooLong: 6 characters; at most 5 allowed"]),
        (json!({"type": "text"}), json!(5), &["/f WrongType: expected a string, got a number"]),
        (json!({"type": "integer", "max": 10}), json!(11), &["/f OutOfRange: must be at most 10"]),
        (json!({"type": "integer", "min": 0}), json!(-1), &["/f OutOfRange: must be at least 0"]),
        (json!({"type": "integer"}), json!(1.5), &["/f WrongType: expected a whole number"]),
        (json!({"type": "integer"}), json!("1.5"), &["/f InvalidFormat: `1.5` is not a whole number"]),
        (json!({"type": "integer"}), json!("-"), &["/f InvalidFormat: `-` is not a whole number"]),
        (json!({"type": "integer"}), json!("+5"), &["/f InvalidFormat: `+5` is not a whole number"]),
        (
            json!({"type": "integer"}),
            json!(18_446_744_073_709_551_615_u64),
            &["/f OutOfRange: the number is too large"],
        ),
        (json!({"type": "integer"}), json!("99999999999999999999"), &["/f OutOfRange: the number is too large"]),
        (
            json!({"type": "decimal", "scale": 2}),
            json!("1.234"),
            &["/f TooManyDecimals: too many decimal places (3); at most 2, and values are never rounded"],
        ),
        (json!({"type": "decimal", "scale": 2}), json!("abc"), &["/f InvalidFormat: `abc` is not a decimal number"]),
        (json!({"type": "decimal", "scale": 2}), json!("1e5"), &["/f InvalidFormat: `1e5` is not a decimal number"]),
        (json!({"type": "decimal", "scale": 2}), json!(" 1"), &["/f InvalidFormat: ` 1` is not a decimal number"]),
        (
            json!({"type": "decimal", "scale": 2}),
            json!(true),
            &["/f WrongType: expected a decimal number (preferably as a string such as \"12.50\"), got a boolean"],
        ),
        (json!({"type": "decimal", "scale": 2, "min": "0.01"}), json!("0"), &["/f OutOfRange: must be at least 0.01"]),
        (
            json!({"type": "decimal", "scale": 18}),
            json!(0.123_456_789_012_345_6),
            &[
                "/f InvalidFormat: numbers with more than 15 significant digits lose precision in JSON; send it as a string",
            ],
        ),
        (
            json!({"type": "decimal", "scale": 0}),
            json!("99999999999999999999999999999"),
            &["/f OutOfRange: too many digits for an exact decimal (at most 28)"],
        ),
        (
            json!({"type": "decimal", "scale": 18}),
            json!("0.12345678901234567890123456789"),
            &["/f OutOfRange: too many digits for an exact decimal (at most 28)"],
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "1.234", "currency": "CNY"}),
            &["/f/amount TooManyDecimals: too many decimal places (3); at most 2, and values are never rounded"],
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "1.5", "currency": "JPY"}),
            &["/f/amount TooManyDecimals: too many decimal places (1); at most 0, and values are never rounded"],
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "1", "currency": "cny"}),
            &["/f/currency InvalidCurrency: `cny` is not a currency code of three capital letters such as CNY"],
        ),
        (
            json!({"type": "money", "currency": "CNY"}),
            json!({"amount": "1", "currency": "USD"}),
            &["/f/currency InvalidCurrency: this field is always in CNY, not USD"],
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "1"}),
            &["/f/currency Required: money needs a `currency` such as \"CNY\""],
        ),
        (json!({"type": "money"}), json!({"currency": "CNY"}), &["/f/amount Required: money needs an `amount`"]),
        (
            json!({"type": "money"}),
            json!("12"),
            &["/f WrongType: expected money as {\"amount\": \"12.50\", \"currency\": \"CNY\"}, got a string"],
        ),
        (
            json!({"type": "money"}),
            json!({"amount": "1", "currency": "CNY", "rate": 1}),
            &["/f UnknownField: unknown key `rate`; money has `amount` and `currency`"],
        ),
        (json!({"type": "boolean"}), json!("true"), &["/f WrongType: expected true or false, got a string"]),
        (
            json!({"type": "date"}),
            json!("2026-02-30"),
            &["/f InvalidFormat: `2026-02-30` is not a date such as 2026-03-14"],
        ),
        (
            json!({"type": "date"}),
            json!("14/03/2026"),
            &["/f InvalidFormat: `14/03/2026` is not a date such as 2026-03-14"],
        ),
        (
            json!({"type": "datetime"}),
            json!("2026-03-14T09:30:00"),
            &[
                "/f InvalidFormat: `2026-03-14T09:30:00` is not a date-time with an offset such as 2026-03-14T09:30:00+08:00 or 2026-03-14T01:30:00Z",
            ],
        ),
        (
            json!({"type": "duration"}),
            json!("P1M"),
            &["/f InvalidFormat: years and months have no fixed length; give days instead"],
        ),
        (json!({"type": "duration"}), json!(1.5), &["/f WrongType: a duration in seconds is a whole number"]),
        (json!({"type": "email"}), json!("nope"), &["/f InvalidFormat: an e-mail address needs an @"]),
        (
            json!({"type": "phone"}),
            json!("call me"),
            &["/f InvalidFormat: a phone number has digits, spaces, - ( ) . and an optional leading +"],
        ),
        (
            json!({"type": "url"}),
            json!("javascript:alert(1)"),
            &["/f InvalidFormat: a URL starts with http:// or https://"],
        ),
        (options("select"), json!("z"), &["/f UnknownOption: `z` is not one of: a, b, c"]),
        (
            options("multi_select"),
            json!(["a", "z", "a", 3]),
            &[
                "/f/1 UnknownOption: `z` is not one of: a, b, c",
                "/f/2 Duplicate: `a` is listed twice",
                "/f/3 WrongType: expected one of the options' values, got a number",
            ],
        ),
        (options("multi_select"), json!("a"), &["/f WrongType: expected an array, got a string"]),
        (json!({"type": "reference", "target": "t"}), json!("42"), &["/f InvalidFormat: `42` is not an id (a UUID)"]),
        (
            json!({"type": "attachment"}),
            json!("xyz"),
            &["/f InvalidFormat: `xyz` is not a SHA-256 digest (64 hex digits)"],
        ),
        (json!({"type": "attachment"}), json!([H1, H2]), &["/f TooLong: this field holds one attachment"]),
        (
            json!({"type": "attachment", "multiple": true}),
            json!([H1, H1]),
            &["/f/1 Duplicate: `9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08` is listed twice"],
        ),
        (json!({"type": "text", "required": true}), json!("  "), &["/f Required: required"]),
        (json!({"type": "text", "required": true}), Json::Null, &["/f Required: required"]),
        (
            json!({"type": "computed", "expression": "1", "result": {"type": "integer"}}),
            json!(1),
            &["/f ReadOnly: a computed field cannot be set"],
        ),
    ];
    for (kind, input, expected) in cases {
        let decl = one_field(kind.clone());
        let errors = read(&decl, json!({ "f": input }), Mode::Update).expect_err(&format!("{kind} {input}"));
        assert_eq!(render(&errors), expected, "{kind} {input}");
    }
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let decl = purchase_order();
    let input = json!({
        "subject": "x".repeat(121),
        "supplier": "not-an-id",
        "order_date": "2026-13-01",
        "state": "approved",
        "total": {"amount": "1", "currency": "CNY"},
        "colour": "red",
        "priority": "asap",
        "lines": [
            {"item": "bolt", "qty": "1", "unit_price": {"amount": "0.12345", "currency": "CNY"}},
            "oops",
            {"qty": "0", "unit_price": {"amount": "1", "currency": "CNY"}, "amount": "5", "position": 3}
        ]
    });
    let errors = read(&decl, input, Mode::Create).unwrap_err();
    assert_eq!(
        render(&errors),
        [
            "/subject TooLong: 121 characters; at most 120 allowed",
            "/supplier InvalidFormat: `not-an-id` is not an id (a UUID)",
            "/order_date InvalidFormat: `2026-13-01` is not a date such as 2026-03-14",
            "/priority UnknownOption: `asap` is not one of: low, normal, urgent",
            "/lines/0/unit_price/amount TooManyDecimals: too many decimal places (5); at most 4, and values are never rounded",
            "/lines/1 WrongType: expected a line object, got a string",
            "/lines/2/item Required: required",
            "/lines/2/qty OutOfRange: must be at least 0.001",
            "/lines/2/amount ReadOnly: a computed field cannot be set",
            "/lines/2/position ReadOnly: `position` is set by the system",
            "/total ReadOnly: a computed field cannot be set",
            "/colour UnknownField: there is no field `colour`",
            "/state ReadOnly: `state` is set by the system",
        ]
    );
}

#[test]
fn create_applies_literal_defaults_and_lists_feel_ones() {
    let decl = purchase_order();
    let input = json!({
        "subject": "Bolts for line 3",
        "supplier": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "lines": [{"item": "M8 bolt", "qty": 100, "unit_price": {"amount": "0.35", "currency": "CNY"}}]
    });
    let read = read(&decl, input, Mode::Create).unwrap();
    let json = map_to_json(&read.values);
    assert_eq!(
        Json::Object(json),
        json!({
            "subject": "Bolts for line 3",
            "supplier": "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "currency": "CNY",
            "priority": "normal",
            "payment_terms_days": 30,
            "shipping_cost": {"amount": "0.00", "currency": "CNY"},
            "lines": [{"item": "M8 bolt", "qty": "100.000", "unit_price": {"amount": "0.3500", "currency": "CNY"}}]
        })
    );
    assert_eq!(
        read.feel_defaults,
        [PendingDefault { pointer: "/order_date".into(), field: "order_date".into(), expression: "today()".into() }]
    );
}

#[test]
fn create_requires_what_update_does_not() {
    let decl = purchase_order();
    let errors = read(&decl, json!({}), Mode::Create).unwrap_err();
    assert_eq!(
        render(&errors),
        ["/subject Required: required", "/supplier Required: required", "/lines Required: required"]
    );
    let empty_lines = read(&decl, json!({"lines": []}), Mode::Update).unwrap_err();
    assert_eq!(render(&empty_lines), ["/lines Required: required"]);
    let partial = read(&decl, json!({"notes": "<i>late</i>"}), Mode::Update).unwrap();
    assert_eq!(partial.values.len(), 1);
    assert_eq!(partial.values["notes"], Value::Text("<i>late</i>".into()));
    assert!(partial.feel_defaults.is_empty());
}

#[test]
fn transition_inputs_are_read_like_a_new_record() {
    let decl = purchase_order();
    let lifecycle = decl.lifecycle.as_ref().unwrap();
    let reject = lifecycle.transition("reject").unwrap();
    let errors = coerce_transition_inputs(reject, &Map::new()).unwrap_err();
    assert_eq!(render(&errors), ["/reason Required: required"]);
    let read = coerce_transition_inputs(reject, &object(json!({"reason": "Price too high"}))).unwrap();
    assert_eq!(read.values["reason"], Value::Text("Price too high".into()));
}

#[test]
fn coerce_value_reads_computed_results_by_their_kind() {
    let decl = purchase_order();
    let total = decl.field("total").unwrap();
    let value = coerce_value(total, &json!({"amount": "35", "currency": "CNY"}), "/total").unwrap();
    assert_eq!(value.to_json(), json!({"amount": "35.00", "currency": "CNY"}));
    let errors = coerce_value(total, &json!({"amount": "0.001", "currency": "CNY"}), "/total").unwrap_err();
    assert_eq!(errors[0].pointer, "/total/amount");
}

#[test]
fn field_errors_have_a_stable_wire_shape() {
    let error = FieldError { pointer: "/qty".into(), code: FieldErrorCode::TooManyDecimals, reason: "r".into() };
    assert_eq!(
        serde_json::to_value(error).unwrap(),
        json!({"pointer": "/qty", "code": "too_many_decimals", "reason": "r"})
    );
}
