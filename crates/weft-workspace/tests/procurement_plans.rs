//! What a supplier's confirmation plans, on both databases: the expected goods receipt and
//! the draft supplier invoice are written through the one path (row, number, history,
//! audit entry and `record.created` event, by the system, in their own states), concern
//! the supplier's party (its contact sees them, another supplier's sees nothing, not even
//! in counts), and count for nothing until the warehouse posts the receipt: the order's
//! quantities and the scorecard move on the posting, and a replay of the engines' events
//! changes nothing twice.

use serde_json::{Map, Value, json};
use time::Duration;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value as FieldValue;
use weft_store::kernel::audit::AuditVerdict;
use weft_store::kernel::{history, outbox};
use weft_testkit::{TestBackend, fixtures, on_both_databases, people};
use weft_workspace::apps::procurement::{SupplierScorecard, ThreeWayMatch};
use weft_workspace::{Error, ListQuery, RecordView, Workspace};

on_both_databases!(a_confirmation_plans_through_the_one_path_and_counts_for_nothing_until_posted);

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn day(offset: i64) -> String {
    let d = weft_store::now().date() + Duration::days(offset);
    FieldValue::Date(d).to_json().as_str().unwrap().to_owned()
}

fn id_of(json: &Value) -> Uuid {
    json["id"].as_str().unwrap().parse().unwrap()
}

async fn of_order(ws: &Workspace, who: &Principal, type_name: &str, order: Uuid) -> Vec<RecordView> {
    let query = ListQuery { filter: Some(format!("purchase_order = \"{order}\"")), ..ListQuery::default() };
    ws.list(who, type_name, &query).await.unwrap().records
}

async fn a_confirmation_plans_through_the_one_path_and_counts_for_nothing_until_posted(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    ws.install_builtin_apps().await.unwrap();
    let system = Principal::system();
    let party = |name: &str| object(json!({ "name": name, "roles": ["supplier"] }));
    let supplier = id_of(&ws.create(&system, "party", party("苏州精密五金有限公司"), None).await.unwrap().to_json());
    let other = id_of(&ws.create(&system, "party", party("Baoshan Steel Trading"), None).await.unwrap().to_json());
    ws.create(&system, "supplier_profile", object(json!({ "supplier": supplier, "display_name": "Suzhou" })), None)
        .await
        .unwrap();
    let buyer = people::member(&ws, &["employee"]).await;
    let s = people::guest(&ws, supplier, &["supplier_portal"]).await;
    let b = people::guest(&ws, other, &["supplier_portal"]).await;

    let order = ws
        .create(
            &buyer,
            "purchase_order",
            object(json!({ "subject": "Bolts and housings", "supplier": supplier, "category": "components",
                "lines": [{ "description": "M8 bolt", "qty": "100", "unit_price": "10.00" },
                          { "description": "Housing", "qty": "50", "unit_price": "20.00" }] })),
            None,
        )
        .await
        .unwrap()
        .to_json();
    let id = id_of(&order);
    let lines: Vec<String> =
        order["lines"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect();
    ws.transition(&buyer, "purchase_order", id, "submit", None, Map::new()).await.unwrap();
    ws.transition(&system, "purchase_order", id, "approve", None, Map::new()).await.unwrap();
    let before = outbox::head(ws.database()).await.unwrap();
    let confirm = object(json!({ "purchase_order": id, "decision": "accept", "promised_date": day(-10) }));
    ws.create(&s, "supplier_confirmation", confirm, None).await.unwrap();

    // One receipt expected and one draft invoice, each a record like any other: numbered,
    // created by the system in its own state, with its history, audit entry and event, all
    // in the confirmation's transaction.
    let receipts = of_order(&ws, &buyer, "goods_receipt", id).await;
    let invoices = of_order(&ws, &buyer, "supplier_invoice", id).await;
    assert_eq!((receipts.len(), invoices.len()), (1, 1));
    let (receipt, invoice) = (&receipts[0], &invoices[0]);
    assert_eq!(receipt.system.state.as_deref(), Some("expected"));
    assert_eq!(invoice.system.state.as_deref(), Some("draft"));
    for record in [receipt, invoice] {
        assert_eq!(record.system.party, Some(supplier), "the supplier's party, derived from `supplier`");
        assert_eq!(record.system.created_by, Principal::SYSTEM_ID);
        assert!(record.system.number.is_some());
        let entries = history::for_record(ws.database(), &record.type_name, record.system.id).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].command.as_str(), entries[0].actor.as_str()), ("create", "system"));
    }
    let events = outbox::read_after(ws.database(), before, 100).await.unwrap();
    let created: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e.kind == "record.created" && e.type_name != "supplier_confirmation")
        .map(|e| (e.type_name.as_str(), e.actor.as_str(), e.payload["state"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(created, [("goods_receipt", "system", "expected"), ("supplier_invoice", "system", "draft")]);
    let confirmation_seq = events.iter().find(|e| e.type_name == "supplier_confirmation").map(|e| e.seq);
    let planned_seq = events.iter().find(|e| e.type_name == "goods_receipt").map(|e| e.seq);
    assert!(confirmation_seq > planned_seq, "planned inside the confirmation's own unit, before its row");
    let audited = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'record.create' AND target_id IN ('{}', '{}')",
            receipt.system.id, invoice.system.id
        ))
        .await;
    assert_eq!(audited, Some(2));
    assert!(matches!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));

    // The supplier's contact sees both; the other supplier's sees nothing, not even a count.
    for type_name in ["goods_receipt", "supplier_invoice"] {
        assert_eq!(of_order(&ws, &s, type_name, id).await.len(), 1, "{type_name}");
        assert_eq!(ws.list(&b, type_name, &ListQuery::default()).await.unwrap().records.len(), 0);
        assert_eq!(ws.count(&b, type_name, &ListQuery::default()).await.unwrap(), 0);
    }
    assert!(matches!(ws.get(&b, "goods_receipt", receipt.system.id).await, Err(Error::NotFound(_))));
    assert!(matches!(ws.get(&b, "supplier_invoice", invoice.system.id).await, Err(Error::NotFound(_))));
    let withdraw = ws.transition(&b, "supplier_invoice", invoice.system.id, "withdraw", None, Map::new()).await;
    assert!(matches!(withdraw, Err(Error::NotFound(_))), "{withdraw:?}");

    // Expected counts for nothing: nothing received on the order, no on-time figure.
    let profile = || async {
        let query = ListQuery { filter: Some(format!("supplier = \"{supplier}\"")), ..ListQuery::default() };
        ws.list(&system, "supplier_profile", &query).await.unwrap().records.remove(0)
    };
    while ws.consumer_lag("procurement_scorecard").await.unwrap() > 0 {
        ws.run_consumer_once(&SupplierScorecard).await.unwrap();
    }
    ws.run_consumer_once(&ThreeWayMatch).await.unwrap();
    assert!(profile().await.values.get("on_time_rate").is_none_or(FieldValue::is_null));
    let stored = ws.get(&system, "purchase_order", id).await.unwrap().to_json();
    assert_eq!(stored["lines"][0]["received_qty"], "0.000");

    // The warehouse posts the bolts, two days before the promised date: booked, on time.
    let mut entered = receipt.to_json()["lines"].clone();
    entered[0]["received_qty"] = json!("100");
    entered[0]["accepted_qty"] = json!("100");
    let changes = object(json!({ "lines": entered, "received_on": day(-12) }));
    ws.update(&buyer, "goods_receipt", receipt.system.id, None, changes).await.unwrap();
    let posted = ws.transition(&buyer, "goods_receipt", receipt.system.id, "post", None, Map::new()).await.unwrap();
    assert_eq!(posted.system.state.as_deref(), Some("posted"));
    let posted_lines = posted.to_json()["lines"].clone();
    assert_eq!(posted_lines.as_array().unwrap().len(), 1, "the housings, not received, are left out");
    assert_eq!(posted_lines[0]["po_line"], json!(lines[0]));
    let stored = ws.get(&system, "purchase_order", id).await.unwrap().to_json();
    assert_eq!(
        (stored["lines"][0]["received_qty"].as_str(), stored["lines"][1]["received_qty"].as_str()),
        (Some("100.000"), Some("0.000"))
    );
    while ws.consumer_lag("procurement_scorecard").await.unwrap() > 0 {
        ws.run_consumer_once(&SupplierScorecard).await.unwrap();
    }
    let on_time = match profile().await.values.get("on_time_rate") {
        Some(FieldValue::Decimal(d)) => Some(d.normalize().to_string()),
        _ => None,
    };
    assert_eq!(on_time.as_deref(), Some("100"), "the posted receipt counts, on time");
    // The housings are expected on a back order, planned by the posting.
    let open: Vec<RecordView> = of_order(&ws, &buyer, "goods_receipt", id)
        .await
        .into_iter()
        .filter(|r| r.system.state.as_deref() == Some("expected"))
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].to_json()["lines"][0]["expected_qty"], "50.000");
    let history = history::for_record(ws.database(), "goods_receipt", receipt.system.id).await.unwrap();
    let commands: Vec<&str> = history.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(commands, ["create", "update", "transition:post"]);

    // Replaying the engines' events changes nothing twice.
    let versions =
        (profile().await.system.version, ws.get(&system, "purchase_order", id).await.unwrap().system.version);
    db.execute(
        "UPDATE consumer_offsets SET position = 0 WHERE name = 'procurement_scorecard' OR name = 'procurement_match'",
    )
    .await;
    while ws.consumer_lag("procurement_scorecard").await.unwrap() > 0 {
        ws.run_consumer_once(&SupplierScorecard).await.unwrap();
    }
    while ws.consumer_lag("procurement_match").await.unwrap() > 0 {
        ws.run_consumer_once(&ThreeWayMatch).await.unwrap();
    }
    assert_eq!(
        (profile().await.system.version, ws.get(&system, "purchase_order", id).await.unwrap().system.version),
        versions
    );
    assert_eq!(of_order(&ws, &buyer, "goods_receipt", id).await.len(), 2);
    assert_eq!(of_order(&ws, &buyer, "supplier_invoice", id).await.len(), 1);
}
