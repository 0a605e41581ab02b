//! The demo company's history on both databases: dated as its plan says (orders raised on
//! their order dates, confirmed after their supplier's response time, documents on their
//! business dates), so the timelines tell the year as it went and the scorecards' response
//! times differ by supplier; the audit chain still verifies (it is never rewritten).

use std::collections::BTreeSet;
use std::sync::Arc;

use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};
use weft_model::Principal;
use weft_model::schema::Value;
use weft_store::kernel::audit::AuditVerdict;
use weft_store::kernel::history;
use weft_testkit::{TestBackend, fixtures, on_both_databases};
use weft_workspace::apps::procurement::demo::{DemoOptions, Scale};
use weft_workspace::apps::procurement::{SupplierScorecard, ThreeWayMatch};
use weft_workspace::consumers::Consumer;
use weft_workspace::{ListQuery, RecordView, Workspace};

on_both_databases!(the_demo_history_is_dated_as_planned);

/// The company's clock (the demo's business dates are dates in China).
fn china() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap()
}

async fn all(ws: &Workspace, type_name: &str) -> Vec<RecordView> {
    let query = ListQuery { limit: Some(500), ..ListQuery::default() };
    let page = ws.list(&Principal::system(), type_name, &query).await.unwrap();
    assert!(page.records.len() < 500, "{type_name}: more than one page");
    page.records
}

fn date(record: &RecordView, field: &str) -> Option<time::Date> {
    match record.values.get(field) {
        Some(Value::Date(d)) => Some(*d),
        _ => None,
    }
}

async fn the_demo_history_is_dated_as_planned(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    ws.install_builtin_apps().await.unwrap();
    let consumers: Vec<Arc<dyn Consumer>> = vec![
        Arc::new(weft_workspace::processes::ProcessStarts),
        Arc::new(weft_workspace::collab::InboxFanout),
        Arc::new(ThreeWayMatch),
        Arc::new(SupplierScorecard),
        Arc::new(weft_workspace::rules::AutomationRules),
    ];
    let report = ws.load_demo(DemoOptions { scale: Scale::Small, seed: 2026 }, &consumers).await.unwrap();
    let loaded = weft_store::now();
    let today = loaded.date();
    assert!(report.undated.is_empty(), "every history entry has its time from the plan: {:?}", report.undated);

    // The scorecards' response times are the suppliers' own: some answer within hours,
    // some take days.
    let hours: Vec<Decimal> = all(&ws, "supplier_profile")
        .await
        .iter()
        .filter_map(|p| match p.values.get("response_hours") {
            Some(Value::Decimal(h)) => Some(*h),
            _ => None,
        })
        .collect();
    assert_eq!(hours.len(), 8, "every supplier has a response time: {hours:?}");
    assert!(hours.iter().any(|h| *h < Decimal::from(24)), "a quick one: {hours:?}");
    assert!(hours.iter().any(|h| *h > Decimal::from(48)), "a slow one: {hours:?}");
    assert!(hours.iter().collect::<BTreeSet<_>>().len() >= 6, "they differ: {hours:?}");

    // Historical orders: their history starts on their order date and runs in order, the
    // supplier confirms after the approval, all before the load ended.
    let orders = all(&ws, "purchase_order").await;
    let mut confirmed = 0;
    let mut checked = 0;
    for order in &orders {
        let order_date = date(order, "order_date").unwrap();
        if order_date >= today {
            continue; // today's orders, made through the engines
        }
        checked += 1;
        let entries = history::for_record(ws.database(), "purchase_order", order.system.id).await.unwrap();
        let first = entries.first().unwrap();
        assert_eq!(first.command, "create");
        assert_eq!(first.at.to_offset(china()).date(), order_date, "{}", order.system.id);
        assert_eq!(order.system.created_at, first.at);
        assert_eq!(order.system.updated_at, entries.last().unwrap().at);
        assert!(entries.windows(2).all(|w| w[0].at <= w[1].at), "in order: {entries:?}");
        assert!(entries.iter().all(|e| e.at <= loaded));
        let Some(Value::DateTime(confirmed_at)) = order.values.get("confirmed_at") else { continue };
        confirmed += 1;
        let approved: Vec<OffsetDateTime> =
            entries.iter().filter(|e| e.command == "transition:approve").map(|e| e.at).collect();
        assert_eq!(approved.len(), 1);
        assert!(*confirmed_at > approved[0], "confirmed after the approval: {}", order.system.id);
        let confirm = entries.iter().find(|e| e.command == "transition:confirm").unwrap();
        assert_eq!(confirm.at, *confirmed_at);
        let shown = confirm.changes.as_array().unwrap().iter().find(|c| c["field"] == "confirmed_at").unwrap();
        assert_eq!(shown["to"], Value::DateTime(*confirmed_at).to_json(), "the diff shows the backdated time");

        // The timeline reads the same story in the same order.
        let timeline = ws.timeline(&Principal::system(), "purchase_order", order.system.id).await.unwrap();
        let commands: Vec<&str> = timeline.iter().map(|t| t.command.as_str()).collect();
        let expected: Vec<&str> = entries.iter().map(|e| e.command.as_str()).collect();
        assert_eq!(commands, expected);
    }
    assert!(checked >= 70 && confirmed >= 50, "{checked} historical orders, {confirmed} confirmed");

    // The documents that follow are dated on their business dates: a receipt is planned by
    // the confirmation (or the posting before it) and posted on the day goods arrived; an
    // invoice is drafted at the confirmation and submitted on its invoice date.
    let at_step = |entries: &[history::StoredHistory], command: &str| {
        entries.iter().find(|e| e.command == command).map(|e| e.at.to_offset(china()).date())
    };
    let mut posted = 0;
    let mut still_expected = 0;
    for receipt in all(&ws, "goods_receipt").await {
        let entries = history::for_record(ws.database(), "goods_receipt", receipt.system.id).await.unwrap();
        assert!(entries.windows(2).all(|w| w[0].at <= w[1].at), "in order: {entries:?}");
        match receipt.system.state.as_deref() {
            Some("posted") => {
                posted += 1;
                let received_on = date(&receipt, "received_on").unwrap();
                if received_on < today {
                    assert_eq!(at_step(&entries, "transition:post"), Some(received_on), "{entries:?}");
                }
            }
            Some("expected") => still_expected += 1,
            Some("cancelled") => {}
            other => panic!("a receipt in state {other:?}"),
        }
    }
    assert!(posted >= 50, "{posted} receipts posted");
    let open_orders = orders.iter().filter(|o| o.system.state.as_deref() == Some("confirmed")).count();
    assert!(still_expected <= open_orders, "at most one expected receipt per open order");
    let mut drafts = 0;
    for invoice in all(&ws, "supplier_invoice").await {
        if invoice.system.state.as_deref() == Some("draft") {
            drafts += 1;
            continue;
        }
        let invoice_date = date(&invoice, "invoice_date").unwrap();
        if invoice_date < today {
            let entries = history::for_record(ws.database(), "supplier_invoice", invoice.system.id).await.unwrap();
            assert_eq!(at_step(&entries, "transition:submit"), Some(invoice_date), "{entries:?}");
        }
    }
    // Drafts are waiting only for orders still open (not closed after payment).
    assert!(drafts <= open_orders + 5, "{drafts} drafts for {open_orders} open orders");

    // The audit chain is left as it was written: it still verifies, and says what was
    // dated (one entry per order's dating).
    assert!(matches!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
    let dated = db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'demo.backdated'").await.unwrap_or(0);
    assert!(dated > 0, "no demo.backdated audit entries");
}
