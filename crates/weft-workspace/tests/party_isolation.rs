//! A guest sees only its own party's records, through every read path, and a record of
//! another party is indistinguishable from one that does not exist.

use serde_json::{Map, Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases, people};
use weft_workspace::{AggregateQuery, DeclareOptions, Error, ListQuery, Workspace};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

struct Fixture {
    workspace: Workspace,
    _db: TestDatabase,
    party_a: Uuid,
    party_b: Uuid,
    guest_a: Principal,
    b_record: Uuid,
}

async fn fixture(backend: TestBackend) -> Fixture {
    let db = TestDatabase::new(backend).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    let decl = serde_json::from_value(json!({
        "name": "order", "label": {"en": "Order", "zh": "订单"},
        "fields": [
            {"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true},
            {"name": "amount", "label": {"en": "Amount", "zh": "金额"}, "type": "money", "currency": "CNY", "indexed": true}
        ],
        "lifecycle": {"initial": "open", "states": [
            {"name": "open", "label": {"en": "Open", "zh": "打开"}},
            {"name": "done", "label": {"en": "Done", "zh": "完成"}}],
          "transitions": [{"name": "finish", "label": {"en": "Finish", "zh": "完成"}, "from": ["open"], "to": "done"}]}
    }))
    .unwrap();
    workspace.declare_type(&Principal::system(), decl, &DeclareOptions::default()).await.unwrap();
    let portal = serde_json::from_value(json!({
        "name": "order_portal", "for_guests": true,
        "grants": [{"type": "order", "actions": ["read", "create", "update", "transition:*"], "scope": "party"}]
    }))
    .unwrap();
    workspace.put_role(&Principal::system(), portal).await.unwrap();
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let staff = people::member(&workspace, &["employee"]).await;
    let mut b_record = Uuid::nil();
    for (party, n) in [(party_a, 3), (party_b, 5)] {
        for i in 0..n {
            let input = object(json!({
                "subject": format!("order {i}"),
                "amount": {"amount": format!("{}.00", 100 * (i + 1)), "currency": "CNY"},
                "party": party.to_string()
            }));
            let view = match workspace.create(&staff, "order", input, None).await.unwrap() {
                weft_workspace::Created::Fresh(view) => view,
                weft_workspace::Created::Replayed(_) => unreachable!(),
            };
            if party == party_b {
                b_record = view.system.id;
            }
        }
    }
    let guest_a = people::guest(&workspace, party_a, &["order_portal"]).await;
    Fixture { workspace, _db: db, party_a, party_b, guest_a, b_record }
}

on_both_databases!(
    guest_lists_counts_and_aggregates_only_its_party,
    guest_cannot_reach_other_partys_record_by_id,
    guest_creates_only_for_its_own_party,
    guest_cannot_administer,
);

async fn guest_lists_counts_and_aggregates_only_its_party(backend: TestBackend) {
    let f = fixture(backend).await;
    let page =
        f.workspace.list(&f.guest_a, "order", &ListQuery { with_count: true, ..ListQuery::default() }).await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(page.count, Some(3));
    assert!(page.records.iter().all(|r| r.system.party == Some(f.party_a)));

    // Even a filter naming the other party finds nothing.
    let query =
        ListQuery { filter: Some(format!("party = \"{}\"", f.party_b)), with_count: true, ..ListQuery::default() };
    match f.workspace.list(&f.guest_a, "order", &query).await {
        Ok(page) => assert_eq!((page.records.len(), page.count), (0, Some(0))),
        Err(Error::BadRequest(_)) => {}
        Err(other) => panic!("{other}"),
    }

    let query = AggregateQuery { metrics: vec!["count".into(), "sum:amount".into()], ..AggregateQuery::default() };
    let sums = f.workspace.aggregate(&f.guest_a, "order", &query).await.unwrap();
    assert_eq!(sums[0].values["count"], 3);
    assert_eq!(sums[0].values["sum_amount"], "600.00", "100 + 200 + 300, none of B's");

    // Staff see everything.
    let staff = people::member(&f.workspace, &["employee"]).await;
    assert_eq!(f.workspace.count(&staff, "order", &ListQuery::default()).await.unwrap(), 8);
}

async fn guest_cannot_reach_other_partys_record_by_id(backend: TestBackend) {
    let f = fixture(backend).await;
    let missing = Uuid::now_v7();
    for id in [f.b_record, missing] {
        // The same answer for another party's record and for no record at all.
        let get = f.workspace.get(&f.guest_a, "order", id).await.unwrap_err();
        assert!(matches!(get, Error::NotFound(_)), "{get}");
        let update = f.workspace.update(&f.guest_a, "order", id, None, object(json!({"subject": "mine now"}))).await;
        assert!(matches!(update, Err(Error::NotFound(_))), "{update:?}");
        let transition = f.workspace.transition(&f.guest_a, "order", id, "finish", None, Map::new()).await;
        assert!(matches!(transition, Err(Error::NotFound(_))), "{transition:?}");
        let timeline = f.workspace.timeline(&f.guest_a, "order", id).await;
        assert!(matches!(timeline, Err(Error::NotFound(_))), "{timeline:?}");
    }
    // Nothing about B's record changed.
    let staff = people::member(&f.workspace, &["employee"]).await;
    let b = f.workspace.get(&staff, "order", f.b_record).await.unwrap();
    assert_eq!(b.system.version, 1);
    assert_eq!(b.system.state.as_deref(), Some("open"));
}

async fn guest_creates_only_for_its_own_party(backend: TestBackend) {
    let f = fixture(backend).await;
    let input = object(json!({"subject": "from the portal", "party": f.party_b.to_string()}));
    let created = f.workspace.create(&f.guest_a, "order", input, None).await.unwrap();
    let weft_workspace::Created::Fresh(view) = created else { unreachable!() };
    assert_eq!(view.system.party, Some(f.party_a), "a guest's record always concerns its own party");
    let input = object(json!({"party": f.party_b.to_string()}));
    let moved = f.workspace.update(&f.guest_a, "order", view.system.id, None, input).await;
    assert!(matches!(moved, Err(Error::Forbidden(_))), "{moved:?}");
}

async fn guest_cannot_administer(backend: TestBackend) {
    let f = fixture(backend).await;
    let purge = f.workspace.purge(&f.guest_a, "order", f.b_record).await;
    assert!(matches!(purge, Err(Error::Forbidden(_))), "{purge:?}");
    let delete = f.workspace.delete(&f.guest_a, "order", f.b_record, None).await;
    assert!(matches!(delete, Err(Error::NotFound(_))), "{delete:?}");
    let decl = f.workspace.type_decl("order").unwrap();
    let declare = f.workspace.declare_type(&f.guest_a, decl, &DeclareOptions::default()).await;
    assert!(matches!(declare, Err(Error::Forbidden(_))), "{declare:?}");
}
