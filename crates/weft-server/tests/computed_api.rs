//! Computed fields: stored ones are written with the record and can be filtered, sorted
//! and summed; unstored ones are computed on read; line-level ones per line.

use serde_json::{Value, json};
use weft_testkit::{TestBackend, on_both_databases, spawn_app};

const QUOTE: &str = r#"{
  "name": "quote", "label": {"en": "Quote", "zh": "报价"},
  "fields": [
    {"name": "qty", "label": {"en": "Qty", "zh": "数量"}, "type": "decimal", "scale": 2, "required": true},
    {"name": "price", "label": {"en": "Price", "zh": "单价"}, "type": "decimal", "scale": 2, "required": true},
    {"name": "total", "label": {"en": "Total", "zh": "总价"}, "type": "computed",
     "expression": "qty * price", "result": {"type": "decimal", "scale": 4}, "stored": true, "indexed": true},
    {"name": "big", "label": {"en": "Big", "zh": "大单"}, "type": "computed",
     "expression": "qty * price > 1000", "result": {"type": "boolean"}},
    {"name": "lines", "label": {"en": "Lines", "zh": "明细"}, "type": "lines", "fields": [
      {"name": "n", "label": {"en": "N", "zh": "数"}, "type": "integer", "required": true},
      {"name": "doubled", "label": {"en": "Doubled", "zh": "双倍"}, "type": "computed",
       "expression": "n * 2", "result": {"type": "integer"}}
    ]}
  ]
}"#;

on_both_databases!(computed_fields_are_kept_current);

async fn computed_fields_are_kept_current(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = app
        .client
        .post(app.url("/api/v1/types"))
        .header("content-type", "application/json")
        .body(QUOTE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let body = json!({"qty": "12.50", "price": "100.10", "lines": [{"n": 1}, {"n": 21}]});
    let r = app.client.post(app.url("/api/v1/records/quote")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["total"], "1251.2500");
    assert_eq!(created["big"], true);
    assert_eq!(created["lines"][1]["doubled"], 42);

    // A computed field cannot be set.
    let r = app
        .client
        .post(app.url("/api/v1/records/quote"))
        .json(&json!({"qty": "1", "price": "1", "total": "5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/total");

    // Changing an input recomputes; the change is in the history.
    let id = created["id"].as_str().unwrap();
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/records/quote/{id}")))
        .json(&json!({"qty": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["total"], "100.1000");
    assert_eq!(updated["big"], false);
    let timeline: Value = app.get(&format!("/api/v1/records/quote/{id}/timeline")).await.json().await.unwrap();
    let changed: Vec<&str> =
        timeline[1]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(changed.contains(&"total") && changed.contains(&"qty"), "{changed:?}");

    // Stored computed values are columns: filter and aggregate on them.
    let r = app
        .client
        .post(app.url("/api/v1/records/quote"))
        .json(&json!({"qty": "3", "price": "1000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let page: Value =
        app.get("/api/v1/records/quote?filter=total%20%3E%20500&count=true&sort=-total").await.json().await.unwrap();
    assert_eq!(page["count"], 1);
    assert_eq!(page["items"][0]["total"], "3000.0000");
    assert_eq!(page["items"][0]["big"], true, "unstored computed fields are filled on list too");
    let sums: Value = app.get("/api/v1/records/quote/aggregate?metrics=sum:total").await.json().await.unwrap();
    assert_eq!(sums["groups"][0]["values"]["sum_total"], "3100.1000");
}
