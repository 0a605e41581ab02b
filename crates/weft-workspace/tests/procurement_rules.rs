//! The automation rules the procurement app ships (its manifest's `rules`), on both
//! databases: a failed inspection and a shipment announced after the requested date alert
//! the order's buyer — someone named on the referenced order, not on the record itself —
//! and nobody else; a passing inspection and an on-time shipment alert no one. The rules
//! are installed once: an administrator who disables one keeps it disabled across
//! upgrades.

use serde_json::{Map, Value, json};
use time::Duration;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value as FieldValue;
use weft_testkit::{TestBackend, fixtures, on_both_databases, people};
use weft_workspace::Workspace;
use weft_workspace::collab::InboxQuery;
use weft_workspace::rules::AutomationRules;

on_both_databases!(shipped_rules_alert_the_buyer_of_the_order);

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn day(offset: i64) -> String {
    let d = weft_store::now().date() + Duration::days(offset);
    FieldValue::Date(d).to_json().as_str().unwrap().to_owned()
}

async fn alerts(ws: &Workspace, who: &Principal) -> Vec<String> {
    let query = InboxQuery { kind: Some("alert".into()), ..InboxQuery::default() };
    ws.inbox(who, &query).await.unwrap().items.into_iter().map(|i| i.summary).collect()
}

async fn run_rules(ws: &Workspace) {
    while ws.run_consumer_once(&AutomationRules).await.expect("rules run") > 0 {}
}

async fn shipped_rules_alert_the_buyer_of_the_order(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    ws.install_builtin_apps().await.unwrap();
    let system = Principal::system();
    let names: Vec<String> = ws.rules(&system).await.unwrap().into_iter().map(|r| r.rule.name).collect();
    assert!(names.contains(&"failed_inspection_alerts_buyer".to_owned()), "{names:?}");

    let supplier: Uuid = ws
        .create(&system, "party", object(json!({ "name": "苏州精密五金有限公司", "roles": ["supplier"] })), None)
        .await
        .unwrap()
        .to_json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let buyer = people::member(&ws, &["employee"]).await;
    let colleague = people::member(&ws, &["employee"]).await;
    let contact = people::guest(&ws, supplier, &["supplier_portal"]).await;

    let order = ws
        .create(
            &buyer,
            "purchase_order",
            object(json!({ "subject": "Housings", "supplier": supplier, "category": "components",
                "order_date": day(-3), "requested_date": day(20),
                "lines": [{ "description": "Housing", "qty": "50", "unit_price": "20.00" }] })),
            None,
        )
        .await
        .unwrap()
        .to_json();
    let id: Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let line = order["lines"][0]["id"].as_str().unwrap().to_owned();
    ws.transition(&buyer, "purchase_order", id, "submit", None, Map::new()).await.unwrap();
    ws.transition(&system, "purchase_order", id, "approve", None, Map::new()).await.unwrap();
    let confirm = object(json!({ "purchase_order": id, "decision": "accept", "promised_date": day(15) }));
    ws.create(&contact, "supplier_confirmation", confirm, None).await.unwrap();
    run_rules(&ws).await;
    assert!(alerts(&ws, &buyer).await.is_empty());

    // The supplier's own QC: a pass alerts no one, a fail alerts the buyer.
    let qc = |result: &str| {
        object(json!({ "purchase_order": id, "po_line": line, "source": "supplier", "lot": "L-1",
                       "sample_size": 20, "defects": 0, "result": result }))
    };
    ws.create(&contact, "quality_inspection", qc("pass"), None).await.unwrap();
    run_rules(&ws).await;
    assert!(alerts(&ws, &buyer).await.is_empty());
    ws.create(&contact, "quality_inspection", qc("fail"), None).await.unwrap();
    run_rules(&ws).await;
    let got = alerts(&ws, &buyer).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("质检不合格") && got[0].contains("Quality inspection failed"), "{got:?}");
    assert!(alerts(&ws, &colleague).await.is_empty(), "not this order's buyer");
    assert!(alerts(&ws, &contact).await.is_empty(), "the supplier is not alerted about itself");

    // Shipping notices: arriving before the requested date is fine; after it, the buyer hears.
    let asn = |eta: i64, tracking: &str| {
        object(json!({ "purchase_order": id, "carrier": "SF Express", "tracking_no": tracking, "eta": day(eta),
                       "lines": [{ "po_line": line, "qty": "10" }] }))
    };
    ws.create(&contact, "shipping_notice", asn(10, "SF1"), None).await.unwrap();
    run_rules(&ws).await;
    assert_eq!(alerts(&ws, &buyer).await.len(), 1);
    ws.create(&contact, "shipping_notice", asn(25, "SF2"), None).await.unwrap();
    run_rules(&ws).await;
    let got = alerts(&ws, &buyer).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|s| s.contains("requested date")), "{got:?}");

    // Disabled by an administrator, a shipped rule stays disabled when the apps are
    // installed again (as every `weft migrate` does).
    let mut rule = ws.rules(&system).await.unwrap().into_iter().find(|r| r.rule.name == "late_shipment_alerts_buyer");
    let mut rule = rule.take().expect("installed").rule;
    rule.enabled = false;
    ws.put_rule(&system, rule).await.unwrap();
    ws.install_builtin_apps().await.unwrap();
    let again = ws.rules(&system).await.unwrap().into_iter().find(|r| r.rule.name == "late_shipment_alerts_buyer");
    assert!(!again.expect("still there").rule.enabled);
}
