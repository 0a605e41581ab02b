//! Supplier scorecards on both databases: computed by the `procurement_scorecard` consumer
//! from what happens to a supplier's orders (an on-time receipt, a late one with a lot
//! partly refused, a failed QC report, an invoice above the order price), written to the
//! supplier's profile as the system, with an inbox alert for the buyer when the score falls
//! below 70 (once, also when the events are replayed); shown to the supplier's own contact
//! only when the profile says `share_score`.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::Duration;
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value as FieldValue;
use weft_testkit::{TestBackend, TestDatabase, fixtures, on_both_databases, people};
use weft_workspace::apps::procurement::{SupplierScorecard, ThreeWayMatch};
use weft_workspace::collab::{InboxQuery, NewAlert};
use weft_workspace::{Error, RecordView, Workspace};

on_both_databases!(the_scorecard_follows_receipts_qc_and_invoices, alerts_reach_readers_once);

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn day(offset: i64) -> String {
    let d = weft_store::now().date() + Duration::days(offset);
    FieldValue::Date(d).to_json().as_str().unwrap().to_owned()
}

struct Company {
    db: TestDatabase,
    ws: Workspace,
    buyer: Principal,
    colleague: Principal,
    s_contact: Principal,
    b_contact: Principal,
    supplier: Uuid,
}

async fn company(backend: TestBackend) -> Company {
    let (db, ws) = fixtures::workspace(backend).await;
    ws.install_builtin_apps().await.unwrap();
    let system = Principal::system();
    let party = |name: &str| object(json!({ "name": name, "roles": ["supplier"] }));
    let supplier = ws.create(&system, "party", party("苏州精密五金有限公司"), None).await.unwrap().to_json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let other: Uuid = ws.create(&system, "party", party("Baoshan Steel Trading"), None).await.unwrap().to_json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for (party, name) in [(supplier, "Suzhou Precision"), (other, "Baoshan Steel")] {
        ws.create(&system, "supplier_profile", object(json!({ "supplier": party, "display_name": name })), None)
            .await
            .unwrap();
    }
    Company {
        buyer: people::member(&ws, &["employee"]).await,
        colleague: people::member(&ws, &["employee"]).await,
        s_contact: people::guest(&ws, supplier, &["supplier_portal"]).await,
        b_contact: people::guest(&ws, other, &["supplier_portal"]).await,
        supplier,
        db,
        ws,
    }
}

impl Company {
    async fn profile(&self) -> RecordView {
        let query = weft_workspace::ListQuery {
            filter: Some(format!("supplier = \"{}\"", self.supplier)),
            ..Default::default()
        };
        self.ws.list(&Principal::system(), "supplier_profile", &query).await.unwrap().records.remove(0)
    }

    async fn figure(&self, field: &str) -> Option<Decimal> {
        match self.profile().await.values.get(field) {
            Some(FieldValue::Decimal(d)) => Some(d.normalize()),
            _ => None,
        }
    }

    async fn score(&self) -> Option<Decimal> {
        self.ws.run_consumer_once(&SupplierScorecard).await.unwrap();
        self.figure("score").await
    }

    async fn alerts(&self, who: &Principal) -> usize {
        let query = InboxQuery { kind: Some("alert".into()), ..InboxQuery::default() };
        self.ws.inbox(who, &query).await.unwrap().items.len()
    }

    async fn receive(&self, order: Uuid, line: &str, received: &str, accepted: &str, on: i64) {
        let input = json!({ "purchase_order": order, "received_on": day(on),
                            "lines": [{ "po_line": line, "received_qty": received, "accepted_qty": accepted }] });
        self.ws.create(&self.buyer, "goods_receipt", object(input), None).await.unwrap();
    }
}

async fn the_scorecard_follows_receipts_qc_and_invoices(backend: TestBackend) {
    let c = company(backend).await;
    let system = Principal::system();
    // 100 bolts at 10.00 and 50 housings at 20.00, promised ten days ago.
    let order =
        c.ws.create(
            &c.buyer,
            "purchase_order",
            object(json!({ "subject": "Bolts and housings", "supplier": c.supplier, "category": "components",
                "order_date": day(-30), "requested_date": day(-10),
                "lines": [{ "description": "M8 bolt", "qty": "100", "unit_price": "10.00" },
                          { "description": "Housing", "qty": "50", "unit_price": "20.00" }] })),
            None,
        )
        .await
        .unwrap()
        .to_json();
    let id: Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let lines: Vec<String> =
        order["lines"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect();
    c.ws.transition(&c.buyer, "purchase_order", id, "submit", None, Map::new()).await.unwrap();
    c.ws.transition(&system, "purchase_order", id, "approve", None, Map::new()).await.unwrap();
    let confirm = object(json!({ "purchase_order": id, "decision": "accept", "promised_date": day(-10) }));
    c.ws.create(&c.s_contact, "supplier_confirmation", confirm, None).await.unwrap();

    // Confirmed within the hour of the approval: only the response figure so far.
    assert_eq!(c.score().await, Some(dec("100")));
    assert_eq!(c.figure("response_hours").await, Some(dec("0")));
    assert_eq!(c.figure("on_time_rate").await, None);

    // The bolts arrive two days early, all accepted.
    c.receive(id, &lines[0], "100", "100", -12).await;
    assert_eq!(c.score().await, Some(dec("100")));
    assert_eq!(c.figure("on_time_rate").await, Some(dec("100")));

    // The housings arrive five days late; 10 of 50 are refused: on time 50 %, acceptance
    // 140/150 = 93.3 %; (50 × 40 + 93.3 × 35 + 100 × 10) / 85 = 73.7.
    c.receive(id, &lines[1], "50", "40", -5).await;
    assert_eq!(c.score().await, Some(dec("73.7")));
    assert_eq!(c.figure("on_time_rate").await, Some(dec("50")));
    assert_eq!(c.figure("quality_rate").await, Some(dec("93.3")));
    assert_eq!(c.alerts(&c.buyer).await, 0, "73.7 is to watch, not at risk");

    // Incoming QC fails the housings: QC pass rate 0 %, quality (0 + 93.3) / 2 = 46.7, the
    // score 54.5 falls below 70 and the buyer (only the buyer) is alerted.
    let qc = object(json!({ "purchase_order": id, "po_line": lines[1], "source": "incoming", "lot": "L-77",
                            "sample_size": 20, "defects": 6, "result": "fail" }));
    c.ws.create(&c.buyer, "quality_inspection", qc, None).await.unwrap();
    assert_eq!(c.score().await, Some(dec("54.5")));
    assert_eq!(c.figure("quality_rate").await, Some(dec("46.7")));
    assert_eq!(c.alerts(&c.buyer).await, 1);
    assert_eq!(c.alerts(&c.colleague).await, 0, "not a buyer of this supplier");
    let versions = c.profile().await.system.version;

    // Replaying every event recomputes the same figures: nothing written, nobody alerted again.
    c.db.execute("UPDATE consumer_offsets SET position = 0 WHERE name = 'procurement_scorecard'").await;
    while c.ws.consumer_lag("procurement_scorecard").await.unwrap() > 0 {
        c.ws.run_consumer_once(&SupplierScorecard).await.unwrap();
    }
    assert_eq!(c.profile().await.system.version, versions);
    assert_eq!(c.alerts(&c.buyer).await, 1);

    // The supplier invoices the bolts 5 % above the order price; the buyer accepts it:
    // price variance (5 + 0) / 2 = 2.5 %, price sub-score 50, score 53.8.
    let invoice = object(json!({ "purchase_order": id, "invoice_no": "SZ-1",
        "lines": [{ "po_line": lines[0], "qty": "100", "unit_price": "10.50" },
                  { "po_line": lines[1], "qty": "40", "unit_price": "20.00" }] }));
    let invoice = c.ws.create(&c.s_contact, "supplier_invoice", invoice, None).await.unwrap().to_json();
    let invoice: Uuid = invoice["id"].as_str().unwrap().parse().unwrap();
    c.ws.transition(&c.s_contact, "supplier_invoice", invoice, "submit", None, Map::new()).await.unwrap();
    c.ws.run_consumer_once(&ThreeWayMatch).await.unwrap();
    let accept = object(json!({ "reason": "Zinc surcharge agreed" }));
    c.ws.transition(&c.buyer, "supplier_invoice", invoice, "accept", None, accept).await.unwrap();
    assert_eq!(c.score().await, Some(dec("53.8")));
    assert_eq!(c.figure("price_variance").await, Some(dec("2.5")));

    // Guests never see the figures on the profile; the scorecard only when it is shared.
    let seen = c.ws.get(&c.s_contact, "supplier_profile", c.profile().await.system.id).await.unwrap();
    assert!(!seen.values.contains_key("score") && !seen.values.contains_key("on_time_rate"), "{seen:?}");
    assert!(matches!(c.ws.supplier_scorecard(&c.s_contact, c.supplier).await, Err(Error::Forbidden(_))));
    let profile = c.profile().await;
    c.ws.update(&system, "supplier_profile", profile.system.id, None, object(json!({ "share_score": true })))
        .await
        .unwrap();
    let shared = c.ws.supplier_scorecard(&c.s_contact, c.supplier).await.unwrap();
    assert_eq!(shared.scorecard.score, Some(dec("53.8")));
    assert_eq!(shared.scorecard.basis.receipt_lines, 2);
    assert_eq!(shared.scorecard.basis.inspections, 1);
    assert!(matches!(c.ws.supplier_scorecard(&c.b_contact, c.supplier).await, Err(Error::NotFound(_))));
    assert!(c.ws.supplier_scorecard(&c.colleague, c.supplier).await.is_ok());
}

async fn alerts_reach_readers_once(backend: TestBackend) {
    let c = company(backend).await;
    let profile = c.profile().await.system.id;
    let alert = || NewAlert {
        recipients: vec![c.buyer.id, c.colleague.id, c.s_contact.id, c.b_contact.id],
        type_name: "supplier_profile".into(),
        record_id: profile,
        summary: "Supplier score below 70".into(),
        source: format!("test:{profile}"),
    };
    // The other supplier's contact cannot read this profile: it is left out.
    assert_eq!(c.ws.raise_alert(alert()).await.unwrap(), 3);
    c.ws.raise_alert(alert()).await.unwrap();
    for (who, expected) in [(&c.buyer, 1), (&c.colleague, 1), (&c.s_contact, 1), (&c.b_contact, 0)] {
        assert_eq!(c.alerts(who).await, expected);
    }
    let item = &c.ws.inbox(&c.buyer, &InboxQuery::default()).await.unwrap().items[0];
    assert_eq!((item.kind.as_str(), item.record), ("alert", Some(profile)));
}
