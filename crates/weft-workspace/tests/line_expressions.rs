//! Child lines in declared expressions: a stored total computed from the lines
//! (`sum(lines.amount)`, each line's amount itself computed), a guard that needs lines
//! (`count(lines) > 0`), and filters on the stored total. Declarations that misuse lines
//! are refused with the place.

use serde_json::json;
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::{DeclareOptions, Error, ListQuery};

fn requisition() -> serde_json::Value {
    json!({
        "name": "requisition", "label": label("Requisition", "请购单"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text" },
            { "name": "lines", "label": label("Lines", "明细"), "type": "lines", "fields": [
                { "name": "item", "label": label("Item", "物料"), "type": "text" },
                { "name": "qty", "label": label("Quantity", "数量"), "type": "integer" },
                { "name": "price", "label": label("Price", "单价"), "type": "decimal", "scale": 2 },
                { "name": "amount", "label": label("Amount", "金额"), "type": "computed",
                  "expression": "qty * price", "result": { "type": "decimal", "scale": 2 } }
            ]},
            { "name": "total", "label": label("Total", "合计"), "type": "computed",
              "expression": "sum(lines.amount)", "result": { "type": "decimal", "scale": 2 }, "stored": true },
            { "name": "line_count", "label": label("Lines", "行数"), "type": "computed",
              "expression": "count(lines)", "result": { "type": "integer" }, "stored": true }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft", "草稿") },
                { "name": "submitted", "label": label("Submitted", "已提交") }
            ],
            "transitions": [
                { "name": "submit", "label": label("Submit", "提交"), "from": ["draft"], "to": "submitted",
                  "guard": "count(lines) > 0 and min(lines.qty) > 0" }
            ]
        }
    })
}

on_both_databases!(totals_and_guards_read_child_lines);

async fn totals_and_guards_read_child_lines(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[requisition()]).await;
    let create = |values: serde_json::Value| {
        let ws = &ws;
        async move { ws.create(&system(), "requisition", object(values), None).await.expect("created").to_json() }
    };
    let full = create(json!({ "title": "Bolts", "lines": [
        { "item": "M8 bolt", "qty": 100, "price": "0.35" },
        { "item": "M8 nut", "qty": 120, "price": "0.12" }
    ]}))
    .await;
    assert_eq!(full["total"], json!("49.40"), "{full}");
    assert_eq!(full["line_count"], json!(2));
    assert_eq!(full["lines"][1]["amount"], json!("14.40"));
    let empty = create(json!({ "title": "Nothing yet" })).await;
    assert_eq!(empty["total"], json!(null));
    assert_eq!(empty["line_count"], json!(0));
    let zero = create(json!({ "title": "Zero", "lines": [{ "item": "Washer", "qty": 0, "price": "0.01" }] })).await;

    // The stored total follows an edit of the lines.
    let id = full["id"].as_str().unwrap().parse().unwrap();
    let version = full["version"].as_i64();
    let edited = ws
        .update(
            &system(),
            "requisition",
            id,
            version,
            object(json!({ "lines": [
                { "item": "M8 bolt", "qty": 200, "price": "0.35" }
            ]})),
        )
        .await
        .expect("updated")
        .to_json();
    assert_eq!(edited["total"], json!("70.00"), "{edited}");

    // Filters read the stored totals.
    let list = |filter: &str| {
        let ws = &ws;
        let query = ListQuery { filter: Some(filter.to_owned()), ..ListQuery::default() };
        async move { ws.list(&system(), "requisition", &query).await.map(|p| p.records.len()) }
    };
    assert_eq!(list("total > 50").await.unwrap(), 1);
    assert_eq!(list("line_count = 0").await.unwrap(), 1);
    let refused = list("count(lines) > 0").await.expect_err("not a filter");
    assert!(matches!(&refused, Error::BadRequest(m) if m.contains("declare a stored computed field")), "{refused:?}");

    // The guard: no lines, or a line of zero, cannot be submitted.
    for record in [&empty, &zero] {
        let id = record["id"].as_str().unwrap().parse().unwrap();
        let err = ws
            .transition(&system(), "requisition", id, "submit", record["version"].as_i64(), Default::default())
            .await
            .expect_err("guarded");
        let text = format!("{err:?}");
        assert!(matches!(err, Error::Validation(_)) && text.contains("GuardFailed"), "{text}");
    }
    let submitted = ws
        .transition(&system(), "requisition", id, "submit", edited["version"].as_i64(), Default::default())
        .await
        .expect("lines present");
    assert_eq!(submitted.system.state.as_deref(), Some("submitted"));

    // Misused lines are refused when declared, with the place.
    let mut bad = requisition();
    bad["name"] = json!("requisition_bad");
    bad["fields"][2]["expression"] = json!("sum(lines.item)");
    bad["lifecycle"]["transitions"][0]["guard"] = json!("count(title) > 0");
    let err = ws.declare_type(&system(), fixtures::decl(&bad), &DeclareOptions::default()).await.expect_err("refused");
    let text = format!("{err:?}");
    assert!(text.contains("`sum` cannot take a string (`lines.item`)"), "{text}");
    assert!(text.contains("`title` is not child lines"), "{text}");
}
