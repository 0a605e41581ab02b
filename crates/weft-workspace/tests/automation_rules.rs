//! Automation rules end to end on both databases: a rule on created orders applies a
//! decision table, sets fields, submits the order and alerts people; it is one change by
//! the system (history command `rule:<name>`), runs once per event even when the event is
//! delivered again, does not set itself off, and stays quiet when its condition is false
//! or it is disabled. Bad rules are refused with every problem and its place; only admins
//! may save them.

use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_store::kernel::outbox;
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases, people};
use weft_workspace::collab::InboxQuery;
use weft_workspace::consumers::Consumer;
use weft_workspace::rules::{AutomationRules, RuleDef};
use weft_workspace::{Error, Workspace};

const MATRIX: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="approvals" name="approvals"
             namespace="https://weft.example/dmn/approvals">
  <decision id="approver" name="approver">
    <informationRequirement id="ir1"><requiredInput href="#amount"/></informationRequirement>
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_amount" label="amount"><inputExpression id="e1" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="out_tier" name="tier" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1a"><text>&lt; 10000</text></inputEntry><outputEntry id="r1o"><text>"manager"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2a"><text>&gt;= 10000</text></inputEntry><outputEntry id="r2o"><text>"finance"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="amount" name="amount"><variable id="v1" name="amount" typeRef="number"/></inputData>
</definitions>"##;

fn order_type() -> serde_json::Value {
    json!({
        "name": "order", "label": label("Order", "订单"),
        "fields": [
            { "name": "subject", "label": label("Subject", "主题"), "type": "text" },
            { "name": "amount", "label": label("Amount", "金额"), "type": "decimal", "scale": 2 },
            { "name": "tier", "label": label("Tier", "审批层级"), "type": "text" },
            { "name": "priority", "label": label("Priority", "优先级"), "type": "select", "options": [
                { "value": "normal", "label": label("Normal", "普通") },
                { "value": "high", "label": label("High", "高") }
            ]},
            { "name": "total", "label": label("Total", "合计"), "type": "computed",
              "expression": "amount", "result": { "type": "decimal", "scale": 2 } }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft", "草稿") },
                { "name": "submitted", "label": label("Submitted", "已提交") },
                { "name": "rejected", "label": label("Rejected", "已驳回") }
            ],
            "transitions": [
                { "name": "submit", "label": label("Submit", "提交"), "from": ["draft"], "to": "submitted",
                  "guard": "amount > 0" },
                { "name": "reject", "label": label("Reject", "驳回"), "from": ["submitted"], "to": "rejected",
                  "inputs": [ { "name": "reason", "label": label("Reason", "原因"), "type": "text", "required": true } ] }
            ]
        }
    })
}

fn big_order_rule() -> serde_json::Value {
    json!({
        "name": "route_big_orders",
        "label": label("Route big orders", "大额订单分派"),
        "type": "order",
        "on": ["created"],
        "condition": "amount >= 10000",
        "actions": [
            { "decide": { "decision": "approvals/approver", "inputs": { "amount": "amount" }, "set": { "tier": "tier" } } },
            { "set": { "priority": "\"high\"", "subject": "subject + \" (\" + tier + \")\"" } },
            { "transition": "submit" },
            { "alert": { "to": ["role:finance_approver", "owner"], "summary": label("Big order submitted", "大额订单已提交") } }
        ]
    })
}

fn rule(value: serde_json::Value) -> RuleDef {
    serde_json::from_value(value).expect("a rule document")
}

async fn drain(ws: &Workspace) {
    while ws.run_consumer_once(&AutomationRules).await.expect("rules run") > 0 {}
}

async fn create(ws: &Workspace, who: &Principal, values: serde_json::Value) -> Uuid {
    let created = ws.create(who, "order", object(values), None).await.expect("created").to_json();
    created["id"].as_str().unwrap().parse().unwrap()
}

on_both_databases!(rules_route_records_once_and_only_when_they_should);

async fn rules_route_records_once_and_only_when_they_should(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[order_type()]).await;
    let finance_role = json!({ "name": "finance_approver", "grants": [
        { "type": "order", "actions": ["read"], "scope": "all" } ]});
    ws.put_role(&system(), serde_json::from_value(finance_role).unwrap()).await.unwrap();
    let clerk_role = json!({ "name": "clerk", "grants": [
        { "type": "order", "actions": ["read", "create", "update"], "scope": "own" } ]});
    ws.put_role(&system(), serde_json::from_value(clerk_role).unwrap()).await.unwrap();
    let finance = people::member(&ws, &["finance_approver"]).await;
    let clerk = people::member(&ws, &["clerk"]).await;
    ws.deploy_decision(&system(), MATRIX.to_owned()).await.expect("decision deployed");

    // Only admins save rules.
    let refused = ws.put_rule(&clerk, rule(big_order_rule())).await.expect_err("not an admin");
    assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    let saved = ws.put_rule(&system(), rule(big_order_rule())).await.expect("saved");
    assert_eq!(saved.version, 1);

    let big = create(&ws, &clerk, json!({ "subject": "Servers", "amount": "25000" })).await;
    let small = create(&ws, &clerk, json!({ "subject": "Pens", "amount": "50" })).await;
    drain(&ws).await;

    let order = ws.get(&system(), "order", big).await.unwrap();
    assert_eq!(order.system.state.as_deref(), Some("submitted"));
    let json = order.to_json();
    assert_eq!(json["tier"], json!("finance"));
    assert_eq!(json["priority"], json!("high"));
    assert_eq!(json["subject"], json!("Servers (finance)"));
    // One change by the system, as the transition; the small order is untouched.
    let timeline = ws.timeline(&system(), "order", big).await.unwrap();
    let commands: Vec<&str> = timeline.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(commands, ["create", "transition:submit"], "{timeline:?}");
    let small_view = ws.get(&system(), "order", small).await.unwrap();
    assert_eq!((small_view.system.state.as_deref(), small_view.system.version), (Some("draft"), 1));

    // Alerts: to the finance role and to the owner, each once.
    let alerts = |who: Principal| {
        let ws = &ws;
        async move {
            let query = InboxQuery { kind: Some("alert".into()), ..InboxQuery::default() };
            ws.inbox(&who, &query).await.unwrap().items.len()
        }
    };
    assert_eq!(alerts(finance.clone()).await, 1);
    assert_eq!(alerts(clerk.clone()).await, 1);

    // Delivered again (at least once): nothing is done twice.
    for event in outbox::read_after(ws.database(), 0, 10_000).await.unwrap() {
        AutomationRules.handle(&ws, &event).await.expect("replayed");
    }
    assert_eq!(ws.get(&system(), "order", big).await.unwrap().system.version, order.system.version);
    assert_eq!(alerts(finance.clone()).await, 1);

    // A later update does not match `on: created`; a disabled rule does nothing.
    let mut disabled = big_order_rule();
    disabled["enabled"] = json!(false);
    assert_eq!(ws.put_rule(&system(), rule(disabled)).await.unwrap().version, 2);
    let another = create(&ws, &clerk, json!({ "subject": "Racks", "amount": "90000" })).await;
    drain(&ws).await;
    assert_eq!(ws.get(&system(), "order", another).await.unwrap().system.state.as_deref(), Some("draft"));

    // A rule on updates that changes the record it watches does not set itself off.
    let echo = json!({ "name": "echo", "type": "order", "on": ["updated"],
        "actions": [ { "set": { "subject": "subject + \"!\"" } } ] });
    ws.put_rule(&system(), rule(echo)).await.unwrap();
    let version = ws.get(&system(), "order", small).await.unwrap().system.version;
    ws.update(&clerk, "order", small, Some(version), object(json!({ "amount": "60" }))).await.unwrap();
    drain(&ws).await;
    let small_json = ws.get(&system(), "order", small).await.unwrap().to_json();
    assert_eq!(small_json["subject"], json!("Pens!"));
    assert_eq!(small_json["version"], json!(3));

    // Rules are listed and deleted by admins (audited); a deleted rule is gone.
    assert_eq!(ws.rules(&system()).await.unwrap().len(), 2);
    assert!(matches!(ws.rules(&clerk).await, Err(Error::Forbidden(_))));
    ws.delete_rule(&system(), "echo").await.unwrap();
    assert!(matches!(ws.delete_rule(&system(), "echo").await, Err(Error::NotFound(_))));
}

on_both_databases!(bad_rules_are_refused_with_every_problem);

async fn bad_rules_are_refused_with_every_problem(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[order_type()]).await;
    let bad = json!({
        "name": "9 lives", "type": "order", "on": ["created", "transitioned:approve"],
        "condition": "amont > 1",
        "actions": [
            { "set": { "total": "1", "nope": "1", "subject": "amount +" } },
            { "decide": { "decision": "missing/table", "inputs": {}, "set": { "tier": "tier" } } },
            { "transition": "reject" },
            { "alert": { "to": ["role:nobody", "subject"], "summary": label("", "") } }
        ]
    });
    let Err(Error::Validation(errors)) = ws.put_rule(&system(), rule(bad)).await else { panic!("refused") };
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    for expected in [
        "/name",
        "/on/1",
        "/condition",
        "/actions/0/set/total",
        "/actions/0/set/nope",
        "/actions/0/set/subject",
        "/actions/1/decide/decision",
        "/actions/2/transition",
        "/actions/3/alert/to/0",
        "/actions/3/alert/to/1",
        "/actions/3/alert/summary",
    ] {
        assert!(pointers.contains(&expected), "{expected} missing in {errors:?}");
    }
    let condition = errors.iter().find(|e| e.pointer == "/condition").unwrap();
    assert!(condition.reason.contains("did you mean `amount`"), "{condition:?}");
    let unknown_type = json!({ "name": "x", "type": "nothing", "on": ["created"], "actions": [] });
    let Err(Error::Validation(errors)) = ws.put_rule(&system(), rule(unknown_type)).await else { panic!("refused") };
    assert_eq!(errors[0].pointer, "/type");
    assert!(ws.rules(&system()).await.unwrap().is_empty(), "nothing saved");
}
