//! Filters that follow a reference (`vendor.name starts with "A"`) see only what the reader
//! could read: a vendor the reader may not read, or a field hidden from it, is as if it
//! were not there, so a filter cannot probe what a list would not show.

use std::collections::BTreeSet;

use serde_json::json;
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases, people};
use weft_workspace::{Error, ListQuery, Workspace};

fn vendor_type() -> serde_json::Value {
    json!({
        "name": "vendor", "label": label("Vendor", "供应商"),
        "fields": [
            { "name": "name", "label": label("Name", "名称"), "type": "text" },
            { "name": "rating", "label": label("Rating", "评级"), "type": "integer" },
            { "name": "secret", "label": label("Secret", "机密"), "type": "text" }
        ]
    })
}

fn bill_type() -> serde_json::Value {
    json!({
        "name": "bill", "label": label("Bill", "账单"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text" },
            { "name": "vendor", "label": label("Vendor", "供应商"), "type": "reference", "target": "vendor",
              "on_delete": "set_null" }
        ]
    })
}

async fn create(ws: &Workspace, who: &Principal, type_name: &str, values: serde_json::Value) -> Uuid {
    let created = ws.create(who, type_name, object(values), None).await.expect("created").to_json();
    created["id"].as_str().expect("an id").parse().expect("a uuid")
}

async fn ids(ws: &Workspace, who: &Principal, filter: &str) -> Result<BTreeSet<Uuid>, Error> {
    let query = ListQuery { filter: Some(filter.to_owned()), limit: Some(100), ..ListQuery::default() };
    Ok(ws.list(who, "bill", &query).await?.records.iter().map(|r| r.system.id).collect())
}

on_both_databases!(paths_see_only_what_the_reader_may_read);

async fn paths_see_only_what_the_reader_may_read(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor_type(), bill_type()]).await;
    let role = json!({ "name": "clerk", "grants": [
        { "type": "bill", "actions": ["read"], "scope": "all" },
        { "type": "vendor", "actions": ["read", "create"], "scope": "own" }
    ], "field_rules": [ { "type": "vendor", "field": "secret", "rule": "hidden" } ]});
    ws.put_role(&system(), serde_json::from_value(role).unwrap()).await.expect("role accepted");
    let clerk = people::member(&ws, &["clerk"]).await;

    // The clerk's own vendor, and one it may not read; both named "Acme".
    let own = create(&ws, &clerk, "vendor", json!({ "name": "Acme East", "rating": 5 })).await;
    let other = create(&ws, &system(), "vendor", json!({ "name": "Acme West", "rating": 5, "secret": "s2" })).await;
    let gone = create(&ws, &system(), "vendor", json!({ "name": "Acme Gone", "rating": 5 })).await;
    let b_own = create(&ws, &system(), "bill", json!({ "title": "one", "vendor": own.to_string() })).await;
    let b_other = create(&ws, &system(), "bill", json!({ "title": "two", "vendor": other.to_string() })).await;
    let b_none = create(&ws, &system(), "bill", json!({ "title": "three" })).await;
    let b_gone = create(&ws, &system(), "bill", json!({ "title": "four", "vendor": gone.to_string() })).await;
    // A deleted vendor is not there for anyone (the bill keeps its reference: soft delete).
    let version = ws.get(&system(), "vendor", gone).await.unwrap().system.version;
    ws.delete(&system(), "vendor", gone, Some(version)).await.unwrap();

    let set = |items: &[Uuid]| items.iter().copied().collect::<BTreeSet<_>>();
    // Whoever may read every vendor finds both bills through the vendor's name.
    assert_eq!(ids(&ws, &system(), "starts with(vendor.name, \"Acme\")").await.unwrap(), set(&[b_own, b_other]));
    assert_eq!(ids(&ws, &system(), "vendor.rating >= 5 and title != \"one\"").await.unwrap(), set(&[b_other]));
    assert_eq!(ids(&ws, &system(), "vendor.name = null").await.unwrap(), set(&[b_none, b_gone]));
    assert_eq!(ids(&ws, &system(), "not(vendor.rating = 5)").await.unwrap(), set(&[b_none, b_gone]));

    // The clerk reads every bill but only its own vendor: the other vendor's name is null
    // to it, exactly as `get` on that vendor would be refused.
    assert_eq!(ids(&ws, &clerk, "starts with(vendor.name, \"Acme\")").await.unwrap(), set(&[b_own]));
    assert_eq!(ids(&ws, &clerk, "vendor.name = \"Acme West\"").await.unwrap(), set(&[]));
    assert_eq!(ids(&ws, &clerk, "vendor.name = null").await.unwrap(), set(&[b_other, b_none, b_gone]));
    assert_eq!(ids(&ws, &clerk, "not(vendor.rating = 5)").await.unwrap(), set(&[b_other, b_none, b_gone]));

    // A field hidden from the clerk is an unknown name through a path too.
    let hidden = ids(&ws, &clerk, "vendor.secret = \"s2\"").await.expect_err("hidden field");
    assert!(matches!(&hidden, Error::BadRequest(m) if m.contains("has no field `secret`")), "{hidden:?}");
    assert_eq!(ids(&ws, &system(), "vendor.secret = \"s2\"").await.unwrap(), set(&[b_other]));

    // Injection through the value is inert; unknown fields and deeper paths are clean errors.
    assert_eq!(ids(&ws, &system(), "vendor.name = \"x' OR 1=1 --\"").await.unwrap(), set(&[]));
    let unknown = ids(&ws, &system(), "vendor.nmae = \"x\"").await.expect_err("unknown field");
    assert!(matches!(&unknown, Error::BadRequest(m) if m.contains("did you mean `name`")), "{unknown:?}");
    let mixed = ids(&ws, &system(), "vendor.name = title").await.expect_err("two records");
    assert!(matches!(&mixed, Error::BadRequest(m) if m.contains("different records")), "{mixed:?}");

    // Counts take the same path.
    let query = ListQuery { filter: Some("starts with(vendor.name, \"Acme\")".into()), ..ListQuery::default() };
    assert_eq!(ws.count(&clerk, "bill", &query).await.unwrap(), 1);
}
