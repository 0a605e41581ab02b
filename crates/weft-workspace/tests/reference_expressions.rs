//! Declared expressions that look through a reference (`vendor.rating >= 3`): guards, the
//! values transitions set, defaults and automation rules read the referenced record as it
//! is when they run; a record that is gone reads as null. Computed fields may not (they
//! are stored and would go stale), and a path naming a field the target lacks is refused
//! when the type is saved, with a suggestion.

use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldErrorCode;
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases, people};
use weft_workspace::rules::{AutomationRules, RuleDef};
use weft_workspace::{DeclareOptions, Error, Workspace};

fn vendor_type() -> serde_json::Value {
    json!({
        "name": "vendor", "label": label("Vendor", "供应商"),
        "fields": [
            { "name": "name", "label": label("Name", "名称"), "type": "text" },
            { "name": "rating", "label": label("Rating", "评级"), "type": "integer" },
            { "name": "currency", "label": label("Currency", "币种"), "type": "text", "max_length": 3 }
        ]
    })
}

fn bill_type(guard: &str) -> serde_json::Value {
    json!({
        "name": "bill", "label": label("Bill", "账单"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text" },
            { "name": "vendor", "label": label("Vendor", "供应商"), "type": "reference", "target": "vendor",
              "on_delete": "set_null" },
            { "name": "currency", "label": label("Currency", "币种"), "type": "text", "max_length": 3,
              "default": { "feel": "vendor.currency" } },
            { "name": "approved_vendor", "label": label("Approved vendor", "批准时供应商"), "type": "text" },
            { "name": "priority", "label": label("Priority", "优先级"), "type": "text" },
            { "name": "creator", "label": label("Creator", "创建人"), "type": "text" }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft", "草稿") },
                { "name": "approved", "label": label("Approved", "已批准") }
            ],
            "transitions": [
                { "name": "approve", "label": label("Approve", "批准"), "from": ["draft"], "to": "approved",
                  "guard": guard, "set": { "approved_vendor": { "feel": "vendor.name" },
                                           "creator": { "feel": "created_by.display_name" } } }
            ]
        }
    })
}

async fn create(ws: &Workspace, who: &Principal, type_name: &str, values: serde_json::Value) -> Uuid {
    let created = ws.create(who, type_name, object(values), None).await.expect("created").to_json();
    created["id"].as_str().expect("an id").parse().expect("a uuid")
}

async fn approve(ws: &Workspace, who: &Principal, bill: Uuid) -> Result<(), Error> {
    ws.transition(who, "bill", bill, "approve", None, serde_json::Map::new()).await.map(drop)
}

async fn set_rating(ws: &Workspace, vendor: Uuid, rating: i64) {
    ws.update(&system(), "vendor", vendor, None, object(json!({ "rating": rating }))).await.expect("updated");
}

fn guard_failed(e: &Error) -> bool {
    matches!(e, Error::Validation(errors) if errors.iter().any(|x| x.code == FieldErrorCode::GuardFailed))
}

on_both_databases!(
    guards_defaults_and_set_values_read_the_referenced_record,
    rules_look_through_references,
    paths_are_checked_when_the_type_is_saved
);

async fn guards_defaults_and_set_values_read_the_referenced_record(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor_type(), bill_type("vendor.rating >= 3")]).await;
    // A clerk who may approve bills but not read vendors: the guard is the company's rule
    // and holds the same for everyone.
    let role = json!({ "name": "clerk", "grants": [
        { "type": "bill", "actions": ["read", "create", "update", "transition:*"], "scope": "all" } ]});
    ws.put_role(&system(), serde_json::from_value(role).unwrap()).await.expect("role accepted");
    let clerk = people::member(&ws, &["clerk"]).await;

    let acme = create(&ws, &system(), "vendor", json!({ "name": "Acme", "rating": 2, "currency": "EUR" })).await;
    let bill = create(&ws, &system(), "bill", json!({ "title": "Bolts", "vendor": acme.to_string() })).await;
    let read = ws.get(&system(), "bill", bill).await.unwrap().to_json();
    assert_eq!(read["currency"], "EUR", "the default is the vendor's currency");
    let given =
        create(&ws, &system(), "bill", json!({ "title": "Nuts", "vendor": acme.to_string(), "currency": "USD" })).await;
    assert_eq!(ws.get(&system(), "bill", given).await.unwrap().to_json()["currency"], "USD", "a given value wins");
    let orphan = create(&ws, &system(), "bill", json!({ "title": "Washers" })).await;
    assert_eq!(ws.get(&system(), "bill", orphan).await.unwrap().to_json()["currency"], json!(null));

    // Rated 2: refused, and nothing changed.
    let refused = approve(&ws, &clerk, bill).await.expect_err("rating too low");
    assert!(guard_failed(&refused), "{refused:?}");
    let unchanged = ws.get(&system(), "bill", bill).await.unwrap();
    assert_eq!((unchanged.system.state.as_deref(), unchanged.system.version), (Some("draft"), 1));

    // The vendor is re-rated: the guard reads it as it is now, and the transition copies
    // its name.
    set_rating(&ws, acme, 4).await;
    approve(&ws, &clerk, bill).await.expect("rating now fits");
    let approved = ws.get(&system(), "bill", bill).await.unwrap();
    assert_eq!(approved.system.state.as_deref(), Some("approved"));
    assert_eq!(approved.to_json()["approved_vendor"], "Acme");

    // Principals are contexts too: who made the bill, by name.
    // (The clerk may not point at a vendor it cannot read; the buyer sets it.)
    let by_clerk = create(&ws, &clerk, "bill", json!({ "title": "Springs" })).await;
    let vendor = object(json!({ "vendor": acme.to_string() }));
    ws.update(&system(), "bill", by_clerk, None, vendor).await.expect("vendor set");
    approve(&ws, &clerk, by_clerk).await.expect("approved");
    let name = ws.principal(&system(), clerk.id).await.expect("the clerk").display_name;
    assert_eq!(ws.get(&system(), "bill", by_clerk).await.unwrap().to_json()["creator"], json!(name));

    // No vendor, or a deleted one: the path is null, and null is not `>= 3`.
    let refused = approve(&ws, &clerk, orphan).await.expect_err("no vendor");
    assert!(guard_failed(&refused), "{refused:?}");
    let gone = create(&ws, &system(), "vendor", json!({ "name": "Gone", "rating": 5 })).await;
    let late = create(&ws, &system(), "bill", json!({ "title": "Late", "vendor": gone.to_string() })).await;
    ws.delete(&system(), "vendor", gone, None).await.expect("deleted");
    let refused = approve(&ws, &clerk, late).await.expect_err("vendor deleted");
    assert!(guard_failed(&refused), "{refused:?}");
}

async fn rules_look_through_references(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor_type(), bill_type("vendor.rating >= 3")]).await;
    let rule: RuleDef = serde_json::from_value(json!({
        "name": "trusted_vendors",
        "label": label("Trusted vendors", "可信供应商"),
        "type": "bill",
        "on": ["created"],
        "condition": "vendor.rating >= 5",
        "actions": [
            { "set": { "priority": "\"fast\"", "title": "title + \" / \" + vendor.name" } },
            { "transition": "approve" }
        ]
    }))
    .unwrap();
    ws.put_rule(&system(), rule).await.expect("rule saved");

    let star = create(&ws, &system(), "vendor", json!({ "name": "Star", "rating": 5 })).await;
    let plain = create(&ws, &system(), "vendor", json!({ "name": "Plain", "rating": 3 })).await;
    let fast = create(&ws, &system(), "bill", json!({ "title": "Gears", "vendor": star.to_string() })).await;
    let slow = create(&ws, &system(), "bill", json!({ "title": "Cogs", "vendor": plain.to_string() })).await;
    while ws.run_consumer_once(&AutomationRules).await.expect("rules run") > 0 {}

    let fast = ws.get(&system(), "bill", fast).await.unwrap();
    assert_eq!(fast.system.state.as_deref(), Some("approved"));
    let json = fast.to_json();
    assert_eq!((json["priority"].as_str(), json["title"].as_str()), (Some("fast"), Some("Gears / Star")));
    assert_eq!(json["approved_vendor"], "Star");
    let slow = ws.get(&system(), "bill", slow).await.unwrap();
    assert_eq!((slow.system.state.as_deref(), slow.to_json()["priority"].clone()), (Some("draft"), json!(null)));

    // A rule naming a field the vendor lacks is refused at its place.
    let bad: RuleDef = serde_json::from_value(json!({
        "name": "bad", "label": label("Bad", "错误"), "type": "bill", "on": ["created"],
        "condition": "vendor.ratng >= 5", "actions": [ { "set": { "priority": "\"x\"" } } ]
    }))
    .unwrap();
    let Err(Error::Validation(errors)) = ws.put_rule(&system(), bad).await else { panic!("refused") };
    let condition = errors.iter().find(|e| e.pointer == "/condition").expect("the condition's problem");
    assert!(condition.reason.contains("rating"), "suggests the field: {}", condition.reason);
}

async fn paths_are_checked_when_the_type_is_saved(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor_type()]).await;
    let declare = |decl: serde_json::Value| {
        let ws = &ws;
        async move { ws.declare_type_json(&system(), &decl, &DeclareOptions::default()).await }
    };
    let problems = |e: Error| match e {
        Error::Declaration(problems) => problems,
        other => panic!("a declaration error, not {other:?}"),
    };

    let found = problems(declare(bill_type("vendor.ratng >= 3")).await.expect_err("misspelt"));
    let guard = found.iter().find(|p| p.pointer == "/lifecycle/transitions/0/guard").expect("at the guard");
    assert!(guard.reason.contains("did you mean") && guard.reason.contains("rating"), "{}", guard.reason);

    // A principal shows who it is, not its secrets.
    let found = problems(declare(bill_type("owner.password_hash = null")).await.expect_err("a secret"));
    assert!(found.iter().any(|p| p.pointer == "/lifecycle/transitions/0/guard"), "{found:?}");

    // Two references deep is not allowed.
    let mut deep = bill_type("vendor.rating >= 3");
    deep["fields"][3]["default"] = json!({ "feel": "vendor.id.name" });
    let found = problems(declare(deep).await.expect_err("too deep"));
    assert!(found.iter().any(|p| p.pointer == "/fields/3/default/feel"), "{found:?}");

    // A computed field stays within its record, and says why.
    let mut computed = bill_type("vendor.rating >= 3");
    computed["fields"].as_array_mut().unwrap().push(json!({
        "name": "vendor_rating", "label": label("Vendor rating", "供应商评级"), "type": "computed",
        "expression": "vendor.rating", "result": { "type": "integer" }
    }));
    let found = problems(declare(computed).await.expect_err("stale"));
    let at = found.iter().find(|p| p.pointer == "/fields/6/expression").expect("at the computed field");
    assert!(at.reason.contains("go stale"), "{}", at.reason);

    // Declared together, a type's expressions may look into the other.
    ws.declare_types(
        &system(),
        vec![
            serde_json::from_value(bill_type("vendor.rating >= 1")).unwrap(),
            serde_json::from_value(json!({
                "name": "vendor_note", "label": label("Vendor note", "供应商备注"),
                "fields": [
                    { "name": "bill", "label": label("Bill", "账单"), "type": "reference", "target": "bill",
                      "on_delete": "cascade" },
                    { "name": "title", "label": label("Title", "标题"), "type": "text",
                      "default": { "feel": "bill.title" } }
                ]
            }))
            .unwrap(),
        ],
        &DeclareOptions::default(),
    )
    .await
    .expect("both declared");
}
