//! Decision models over HTTP: deploy versions, evaluate with an explanation, refuse bad
//! models with every problem.

use serde_json::{Value, json};
use weft_testkit::{TestBackend, on_both_databases, spawn_app};

fn matrix(top_tier: &str) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="approvals" name="approvals"
             namespace="https://weft.example/dmn/approvals">
  <decision id="approver" name="Approver">
    <informationRequirement id="ir1"><requiredInput href="#amount"/></informationRequirement>
    <informationRequirement id="ir2"><requiredInput href="#category"/></informationRequirement>
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_amount" label="amount"><inputExpression id="e1" typeRef="number"><text>amount</text></inputExpression></input>
      <input id="in_category" label="category"><inputExpression id="e2" typeRef="string"><text>category</text></inputExpression></input>
      <output id="out_tier" name="tier" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1a"><text>&lt; 1000</text></inputEntry><inputEntry id="r1b"><text>-</text></inputEntry><outputEntry id="r1o"><text>"team lead"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2a"><text>[1000..10000)</text></inputEntry><inputEntry id="r2b"><text>-</text></inputEntry><outputEntry id="r2o"><text>"manager"</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="r3a"><text>&gt;= 10000</text></inputEntry><inputEntry id="r3b"><text>"capex"</text></inputEntry><outputEntry id="r3o"><text>"{top_tier}"</text></outputEntry></rule>
      <rule id="r4"><inputEntry id="r4a"><text>&gt;= 10000</text></inputEntry><inputEntry id="r4b"><text>-</text></inputEntry><outputEntry id="r4o"><text>"finance director"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="amount" name="amount"><variable id="v1" name="amount" typeRef="number"/></inputData>
  <inputData id="category" name="category"><variable id="v2" name="category" typeRef="string"/></inputData>
</definitions>"##
    )
}

async fn deploy(app: &weft_testkit::TestApp, xml: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/decisions"))
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap()
}

async fn evaluate(app: &weft_testkit::TestApp, body: Value, explain: bool) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/decisions/approvals/evaluate?explain={explain}"));
    app.client.post(url).json(&body).send().await.unwrap()
}

on_both_databases!(decision_models_are_versioned_and_explained, bad_models_are_refused_with_every_problem);

async fn decision_models_are_versioned_and_explained(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = deploy(&app, matrix("cfo")).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v1: Value = r.json().await.unwrap();
    assert_eq!((v1["name"].as_str(), v1["version"].as_i64()), (Some("approvals"), Some(1)));
    assert_eq!(v1["decisions"][0]["name"], "Approver");

    let r =
        evaluate(&app, json!({"decision": "Approver", "input": {"amount": "25000", "category": "capex"}}), true).await;
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["value"], "cfo", "{out}");
    assert_eq!(out["version"], 1);
    // Rules 3 and 4 both match; FIRST answers with rule 3.
    assert_eq!(out["explanation"][0]["matched_rules"], json!([3, 4]), "{out}");

    // A new version; the old one stays evaluable.
    assert_eq!(deploy(&app, matrix("chief executive")).await.status(), 201);
    let r =
        evaluate(&app, json!({"decision": "Approver", "input": {"amount": 25000, "category": "capex"}}), false).await;
    let out: Value = r.json().await.unwrap();
    assert_eq!((out["value"].as_str(), out["version"].as_i64()), (Some("chief executive"), Some(2)));
    assert!(out.get("explanation").is_none());
    let body = json!({"decision": "Approver", "version": 1, "input": {"amount": 25000, "category": "capex"}});
    let out: Value = evaluate(&app, body, false).await.json().await.unwrap();
    assert_eq!(out["value"], "cfo");

    let versions: Value = app.get("/api/v1/decisions/approvals/versions").await.json().await.unwrap();
    let numbers: Vec<i64> =
        versions["items"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![2, 1]);

    // Unknown decision: 404 with a suggestion; unknown model: 404.
    let r = evaluate(&app, json!({"decision": "Aprover", "input": {}}), false).await;
    assert_eq!(r.status(), 404);
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("Approver"), "{problem}");
    let r = app
        .client
        .post(app.url("/api/v1/decisions/nothing/evaluate"))
        .json(&json!({"decision": "x", "input": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Every deployment is in the audit chain.
    let verdict = app.workspace.verify_audit().await.unwrap();
    assert_eq!(verdict, weft_store::kernel::audit::AuditVerdict::Intact { entries: 2 });
}

async fn bad_models_are_refused_with_every_problem(backend: TestBackend) {
    let app = spawn_app(backend).await;
    let r = deploy(&app, "<definitions><decision id=\"a\"".into()).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "validation_failed");
    assert!(!problem["errors"].as_array().unwrap().is_empty());

    let broken =
        matrix("cfo").replace("hitPolicy=\"FIRST\"", "hitPolicy=\"SOMETIMES\"").replace("name=\"tier\"", "name=\"\"");
    let r = deploy(&app, broken).await;
    assert_eq!(r.status(), 422);

    let r = app
        .client
        .post(app.url("/api/v1/decisions"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let list: Value = app.get("/api/v1/decisions").await.json().await.unwrap();
    assert_eq!(list["items"], json!([]), "nothing was stored");
}
