use serde_json::{Value as Json, json};

use super::*;
use crate::schema::decl::{FieldKind, ObjectTypeDecl};

fn purchase_order() -> ObjectTypeDecl {
    serde_json::from_str(include_str!("../fixtures/purchase_order.json")).unwrap()
}

fn supplier() -> ObjectTypeDecl {
    serde_json::from_str(include_str!("../fixtures/supplier.json")).unwrap()
}

fn label(en: &str) -> Json {
    json!({ "en": en, "zh": en })
}

/// A field named `name` of the given kind (and any other keys).
fn field(name: &str, kind: Json) -> Json {
    let mut field = json!({ "name": name, "label": label(name) });
    if let (Json::Object(field), Json::Object(kind)) = (&mut field, kind) {
        field.extend(kind);
    }
    field
}

/// A type `t` with the given top-level keys.
fn declaration(keys: Json) -> ObjectTypeDecl {
    let mut decl = json!({ "name": "t", "label": label("T"), "fields": [] });
    if let (Json::Object(decl), Json::Object(keys)) = (&mut decl, keys) {
        decl.extend(keys);
    }
    serde_json::from_value(decl).unwrap()
}

fn problems(decl: &ObjectTypeDecl) -> Vec<String> {
    let known = |name: &str| name == "supplier";
    match check_declaration(decl, &known) {
        Ok(()) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn states(names: &[&str]) -> Json {
    names.iter().map(|n| json!({ "name": n, "label": label(n) })).collect()
}

#[test]
fn the_fixtures_are_valid() {
    assert_eq!(problems(&purchase_order()), Vec::<String>::new());
    // `supplier` references itself, which needs no other type.
    assert_eq!(check_declaration(&supplier(), &|_| false), Ok(()));
}

#[test]
fn a_reference_to_a_missing_type_is_refused() {
    let errors = check_declaration(&purchase_order(), &|_| false).unwrap_err();
    assert_eq!(
        errors,
        [DeclProblem { pointer: "/fields/2/target".into(), reason: "unknown object type `supplier`".into() }]
    );
}

#[test]
fn six_problems_are_reported_together() {
    let decl = declaration(json!({
        "name": "Bad Type",
        "fields": [
            field("select", json!({"type": "text"})),
            field("amount", json!({"type": "decimal", "scale": 20})),
            field("amount", json!({"type": "text"})),
            field("vendor", json!({"type": "reference", "target": "vendor"})),
            field("body", json!({"type": "long_text", "unique": true})),
        ],
    }));
    assert_eq!(
        problems(&decl),
        [
            "/name: `Bad Type` must start with a lowercase letter a-z",
            "/fields/0/name: `select` is a reserved word",
            "/fields/1/scale: at most 18 decimal places",
            "/fields/2/name: duplicate field name `amount` (first at /fields/1)",
            "/fields/3/target: unknown object type `vendor`",
            "/fields/4/unique: a long_text field cannot be unique",
        ]
    );
}

#[test]
fn field_problems() {
    let options = |values: &[&str]| -> Json { values.iter().map(|v| json!({"value": v, "label": label(v)})).collect() };
    let cases: Vec<(Json, &[&str])> = vec![
        (field("state", json!({"type": "text"})), &["/fields/0/name: `state` is a system field every record has"]),
        (
            field("created_at", json!({"type": "datetime"})),
            &["/fields/0/name: `created_at` is a system field every record has"],
        ),
        (field("order", json!({"type": "integer"})), &["/fields/0/name: `order` is a reserved word"]),
        (
            field("order-no", json!({"type": "text"})),
            &["/fields/0/name: `order-no` may contain only lowercase letters a-z, digits and underscores"],
        ),
        (
            json!({"name": "x", "label": {"en": " ", "zh": ""}, "type": "text"}),
            &["/fields/0/label: a label needs English or Chinese text"],
        ),
        (
            field("x", json!({"type": "text", "max_length": 0})),
            &["/fields/0/max_length: must be between 1 and 1000000"],
        ),
        (
            field("x", json!({"type": "text", "max_length": 1_000_001})),
            &["/fields/0/max_length: must be between 1 and 1000000"],
        ),
        (field("x", json!({"type": "integer", "min": 5, "max": 1})), &["/fields/0/min: min 5 is greater than max 1"]),
        (
            field("x", json!({"type": "decimal", "scale": 2, "min": "0.001"})),
            &["/fields/0/min: 0.001 has more decimal places than the scale 2"],
        ),
        (
            field("x", json!({"type": "money", "currency": "usd"})),
            &["/fields/0/currency: `usd` is not a currency code of three capital letters such as CNY"],
        ),
        (
            field("x", json!({"type": "select", "options": []})),
            &["/fields/0/options: a select field needs at least one option"],
        ),
        (
            field("x", json!({"type": "multi_select", "options": options(&["a", "b", "a", " c"])})),
            &[
                "/fields/0/options/2/value: duplicate option value `a` (first at /fields/0/options/0)",
                "/fields/0/options/3/value: an option value has 1 to 64 characters and no surrounding spaces",
            ],
        ),
        (
            field("x", json!({"type": "select", "options": [{"value": "a", "label": label("A"), "color": "red;x:y"}]})),
            &["/fields/0/options/0/color: `red;x:y` is not #rgb, #rrggbb or a palette name such as green"],
        ),
        (
            field("x", json!({"type": "reference", "target": "Supplier"})),
            &["/fields/0/target: `Supplier` must start with a lowercase letter a-z"],
        ),
        (field("x", json!({"type": "reference", "target": "t"})), &[]),
        (field("x", json!({"type": "lines", "fields": []})), &["/fields/0/fields: lines need at least one field"]),
        (
            field(
                "x",
                json!({"type": "lines", "fields": [
                    field("sub", json!({"type": "lines", "fields": [field("y", json!({"type": "text"}))]})),
                    field("position", json!({"type": "integer"})),
                    field("state", json!({"type": "text"})),
                ]}),
            ),
            &[
                "/fields/0/fields/0/type: lines cannot hold lines",
                "/fields/0/fields/1/name: `position` is a system field every line has",
            ],
        ),
        (
            field("x", json!({"type": "lines", "indexed": true, "fields": [field("y", json!({"type": "text"}))]})),
            &["/fields/0/indexed: a lines field cannot be indexed"],
        ),
        (
            field("x", json!({"type": "rich_text", "indexed": true})),
            &["/fields/0/indexed: a rich_text field cannot be indexed"],
        ),
        (field("x", json!({"type": "json", "unique": true})), &["/fields/0/unique: a json field cannot be unique"]),
        (
            field("x", json!({"type": "multi_select", "indexed": true, "options": options(&["a"])})),
            &["/fields/0/indexed: a multi_select field cannot be indexed"],
        ),
        (
            field("x", json!({"type": "attachment", "multiple": true, "unique": true})),
            &["/fields/0/unique: an attachment field with multiple files cannot be unique"],
        ),
        (field("x", json!({"type": "attachment", "unique": true})), &[]),
        (
            field(
                "x",
                json!({"type": "computed", "expression": " ", "result": {"type": "decimal", "scale": 19}, "indexed": true, "required": true, "default": 1}),
            ),
            &[
                "/fields/0/expression: the expression is empty",
                "/fields/0/required: a computed field cannot be required",
                "/fields/0/default: a computed field has no default",
                "/fields/0/result/scale: at most 18 decimal places",
                "/fields/0/indexed: only a stored computed field can be indexed",
            ],
        ),
        (
            field("x", json!({"type": "integer", "default": "abc"})),
            &["/fields/0/default: the default does not fit the field: `abc` is not a whole number"],
        ),
        (
            field("x", json!({"type": "select", "options": options(&["a"]), "default": "b"})),
            &["/fields/0/default: the default does not fit the field: `b` is not one of: a"],
        ),
        (
            field("x", json!({"type": "money", "default": {"amount": "1.001", "currency": "CNY"}})),
            &[
                "/fields/0/default/amount: the default does not fit the field: too many decimal places (3); at most 2, and values are never rounded",
            ],
        ),
        (
            field("x", json!({"type": "date", "default": {"feel": ""}})),
            &["/fields/0/default/feel: the expression is empty"],
        ),
        (field("x", json!({"type": "date", "default": {"feel": "today()"}})), &[]),
    ];
    for (field, expected) in cases {
        let decl = declaration(json!({ "fields": [field] }));
        assert_eq!(problems(&decl), expected, "{field}");
    }
}

#[test]
fn type_level_problems() {
    let fields = json!([
        field("code", json!({"type": "text"})),
        field("body", json!({"type": "long_text"})),
        field("lines", json!({"type": "lines", "fields": [field("y", json!({"type": "text"}))]})),
    ]);
    let cases: Vec<(Json, &[&str])> = vec![
        (json!({"unique": [["code", "nope"]]}), &["/unique/0/1: unknown field `nope`"]),
        (json!({"unique": [[]]}), &["/unique/0: a unique constraint names at least one field"]),
        (json!({"unique": [["code", "code"]]}), &["/unique/0/1: `code` is listed twice"]),
        (
            json!({"unique": [["code", "body"]]}),
            &["/unique/0/1: a long_text field cannot be part of a unique constraint"],
        ),
        (json!({"title_field": "nope"}), &["/title_field: unknown field `nope`"]),
        (json!({"title_field": "lines"}), &["/title_field: a lines field cannot be the title"]),
        (
            json!({"naming": {"pattern": "PO-{YYYY}"}}),
            &["/naming/pattern: the pattern needs exactly one counter such as {#####}"],
        ),
        (
            json!({"naming": {"pattern": "PO-{YEAR}-{###}"}}),
            &["/naming/pattern: unknown token `{YEAR}`; use {YYYY}, {YY}, {MM}, {DD} or {#…}"],
        ),
        (json!({"plural_label": {"en": "", "zh": ""}}), &["/plural_label: a label needs English or Chinese text"]),
    ];
    for (keys, expected) in cases {
        let mut keys = keys;
        if let Json::Object(map) = &mut keys {
            map.insert("fields".into(), fields.clone());
        }
        assert_eq!(problems(&declaration(keys.clone())), expected, "{keys}");
    }
}

#[test]
fn lifecycle_problems() {
    let transition = |name: &str, from: &[&str], to: &str, extra: Json| {
        let mut t = json!({ "name": name, "label": label(name), "from": from, "to": to });
        if let (Json::Object(t), Json::Object(extra)) = (&mut t, extra) {
            t.extend(extra);
        }
        t
    };
    let cases: Vec<(Json, &[&str])> = vec![
        (
            json!({"initial": "draft", "states": []}),
            &["/lifecycle/states: a lifecycle needs at least one state", "/lifecycle/initial: unknown state `draft`"],
        ),
        (json!({"initial": "open", "states": states(&["draft"])}), &["/lifecycle/initial: unknown state `open`"]),
        (
            json!({"initial": "draft", "states": states(&["draft", "Done", "draft"])}),
            &[
                "/lifecycle/states/1/name: `Done` must start with a lowercase letter a-z",
                "/lifecycle/states/2/name: duplicate state name `draft` (first at /lifecycle/states/0)",
            ],
        ),
        (
            json!({"initial": "draft", "states": [{"name": "draft", "label": label("Draft"), "editable": ["code", "nope"]}]}),
            &["/lifecycle/states/0/editable/1: unknown field `nope`"],
        ),
        (
            json!({"initial": "draft", "states": [
                {"name": "draft", "label": label("Draft")},
                {"name": "done", "label": label("Done"), "final": true}
            ], "transitions": [
                transition("finish", &["draft", "open"], "closed", json!({})),
                transition("reopen", &["done"], "draft", json!({})),
                transition("finish", &[], "done", json!({"guard": " "})),
            ]}),
            &[
                "/lifecycle/transitions/0/from/1: unknown state `open`",
                "/lifecycle/transitions/0/to: unknown state `closed`",
                "/lifecycle/transitions/1/from/0: `done` is final; no transition leaves it",
                "/lifecycle/transitions/2/name: duplicate transition name `finish` (first at /lifecycle/transitions/0)",
                "/lifecycle/transitions/2/from: a transition starts from at least one state",
                "/lifecycle/transitions/2/guard: the expression is empty",
            ],
        ),
        (
            json!({"initial": "draft", "states": states(&["draft", "done"]), "transitions": [
                transition("finish", &["draft"], "done", json!({
                    "inputs": [
                        field("reason", json!({"type": "long_text", "required": true, "unique": true})),
                        field("items", json!({"type": "lines", "fields": [field("y", json!({"type": "text"}))]})),
                        field("reason", json!({"type": "text"})),
                    ],
                    "set": {"nope": 1, "total": 2, "count": "many", "code": {"feel": "reason"}, "a/b": 1}
                })),
            ]}),
            &[
                "/lifecycle/transitions/0/inputs/0/unique: transition inputs are not stored",
                "/lifecycle/transitions/0/inputs/1/type: a transition input cannot be lines",
                "/lifecycle/transitions/0/inputs/2/name: duplicate field name `reason` (first at /lifecycle/transitions/0/inputs/0)",
                "/lifecycle/transitions/0/set/a~1b: unknown field `a/b`",
                "/lifecycle/transitions/0/set/count: the value does not fit the field: `many` is not a whole number",
                "/lifecycle/transitions/0/set/nope: unknown field `nope`",
                "/lifecycle/transitions/0/set/total: a computed field cannot be set",
            ],
        ),
    ];
    for (lifecycle, expected) in cases {
        let decl = declaration(json!({
            "fields": [
                field("code", json!({"type": "text"})),
                field("count", json!({"type": "integer"})),
                field("total", json!({"type": "computed", "expression": "count * 2", "result": {"type": "integer"}})),
            ],
            "lifecycle": lifecycle,
        }));
        assert_eq!(problems(&decl), expected, "{lifecycle}");
    }
}

#[test]
fn typos_in_keys_are_refused_when_reading() {
    let cases = [
        (json!({"name": "t", "label": label("T"), "feilds": []}), "unknown field `feilds`"),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({"type": "text", "max_lenght": 5}))]}),
            "field `x`: unknown field `max_lenght`, expected `max_length`",
        ),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({"type": "texte"}))]}),
            "field `x`: unknown variant `texte`",
        ),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({"type": "boolean", "scale": 2}))]}),
            "field `x`: unknown field `scale`",
        ),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({}))]}),
            "field `x`: missing field `type`",
        ),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({"type": "text", "requird": true}))]}),
            "field `x`: unknown field `requird`",
        ),
        (json!({"name": "t", "label": {"en": "T"}}), "missing field `zh`"),
        (
            json!({"name": "t", "label": label("T"), "fields": [field("x", json!({"type": "decimal", "scale": 2, "min": 0.1}))]}),
            "field `x`: invalid type: floating point `0.1`, expected a Decimal",
        ),
        (
            json!({"name": "t", "label": label("T"), "lifecycle": {"initial": "a", "states": [{"name": "a", "label": label("A"), "finall": true}]}}),
            "unknown field `finall`",
        ),
    ];
    for (json, expected) in cases {
        let error = serde_json::from_value::<ObjectTypeDecl>(json.clone()).unwrap_err().to_string();
        assert!(error.contains(expected), "{json}\n  got: {error}\n  expected: {expected}");
    }
}

#[test]
fn declarations_serialise_back_to_the_same_declaration() {
    for decl in [purchase_order(), supplier()] {
        let json = serde_json::to_value(&decl).unwrap();
        let again: ObjectTypeDecl = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(again, decl, "{json}");
    }
    let qty = serde_json::to_value(&purchase_order().field("lines").unwrap().kind).unwrap();
    assert_eq!(
        qty["fields"][1],
        json!({"name": "qty", "label": {"en": "Quantity", "zh": "数量"}, "type": "decimal", "scale": 3, "min": "0.001", "required": true})
    );
}

#[test]
fn parsed_fixture_has_the_expected_shape() {
    let po = purchase_order();
    let lines = po.field("lines").unwrap();
    let FieldKind::Lines { fields } = &lines.kind else { panic!("lines is {:?}", lines.kind) };
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["item", "qty", "unit_price", "amount"]);
    let places: Vec<Option<u8>> = fields.iter().map(|f| f.kind.decimal_places()).collect();
    assert_eq!(places, [None, Some(3), Some(4), Some(2)]);
    assert_eq!(po.field("shipping_cost").unwrap().kind.decimal_places(), Some(4));
    assert_eq!(supplier().field("credit_limit").unwrap().kind.decimal_places(), Some(2));
    assert_eq!(supplier().field("discount").unwrap().kind.decimal_places(), Some(4));
    let lifecycle = po.lifecycle.as_ref().unwrap();
    assert_eq!(lifecycle.initial, "draft");
    assert!(lifecycle.state("submitted").unwrap().allows_edit("notes"));
    assert!(!lifecycle.state("submitted").unwrap().allows_edit("subject"));
    assert!(lifecycle.state("draft").unwrap().allows_edit("subject"));
    let reject = lifecycle.transition("reject").unwrap();
    assert!(reject.inputs[0].required);
    let pattern = po.naming.as_ref().unwrap().parse().unwrap();
    assert_eq!(pattern.format(time::macros::date!(2026 - 03 - 14), 42), "PO-2026-00042");
}

#[test]
fn expressions_are_listed_with_their_scope() {
    let po = purchase_order();
    let listed: Vec<String> =
        expressions(&po).iter().map(|e| format!("{} {:?} {:?}: {}", e.pointer, e.role, e.scope, e.source)).collect();
    assert_eq!(
        listed,
        [
            "/fields/3/default/feel Default Record: today()",
            "/fields/11/fields/3/expression Computed Line { lines_field: \"lines\" }: qty * unit_price",
            "/fields/12/expression Computed Record: sum(lines.amount) + shipping_cost",
            "/lifecycle/transitions/0/guard Guard Transition { transition: \"submit\" }: count(lines) > 0 and total.amount > 0",
            "/lifecycle/transitions/2/set/rejection_reason/feel TransitionSet Transition { transition: \"reject\" }: reason",
        ]
    );
}

#[test]
fn declaration_types_have_an_openapi_schema() {
    use utoipa::ToSchema;
    let mut schemas = Vec::new();
    ObjectTypeDecl::schemas(&mut schemas);
    let names: Vec<&str> = schemas.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["FieldDecl", "FieldKind", "LifecycleDecl", "NamingSeries", "Label"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
}

#[test]
fn party_field_names_a_party_or_a_reference_to_party() {
    let fields = json!([
        field("customer", json!({"type": "party"})),
        field("of_party", json!({"type": "reference", "target": "party"})),
        field("vendor", json!({"type": "reference", "target": "supplier"})),
        field("code", json!({"type": "text"})),
    ]);
    let known = |name: &str| name == "supplier" || name == "party";
    let check = |party_field: &str| {
        let decl = declaration(json!({ "fields": fields.clone(), "party_field": party_field }));
        match check_declaration(&decl, &known) {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }
    };
    assert_eq!(check("customer"), Vec::<String>::new());
    assert_eq!(check("of_party"), Vec::<String>::new());
    assert_eq!(check("id"), Vec::<String>::new(), "`id`: the records are parties themselves");
    assert_eq!(check("nope"), ["/party_field: unknown field `nope`"]);
    assert_eq!(
        check("vendor"),
        [
            "/party_field: `vendor` is a reference field; the party field must be a `party` field or a reference to `party` (or `id`)"
        ]
    );
    assert_eq!(check("code").len(), 1);
}

#[test]
fn line_of_names_a_reference_field_of_the_record() {
    let check = |line_of: &str| {
        let decl = declaration(json!({ "fields": [
            field("shipment", json!({"type": "reference", "target": "supplier"})),
            field("code", json!({"type": "text"})),
            field("lines", json!({"type": "lines", "fields": [
                field("order_line", json!({"type": "text", "line_of": line_of}))
            ]})),
        ] }));
        match check_declaration(&decl, &|name: &str| name == "supplier") {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }
    };
    assert_eq!(check("shipment"), Vec::<String>::new());
    assert_eq!(check("code"), ["/fields/2/fields/0/line_of: `code` is not a reference field"]);
    assert_eq!(check("nope"), ["/fields/2/fields/0/line_of: unknown field `nope`"]);
}
