//! The demo company (small scale) loads through the façade on both databases: the counts
//! are the plan's, every supplier's contact sees exactly its own orders, today's work has
//! live processes, the engines start after the history, and a second load is refused
//! without writing anything.

use std::sync::Arc;

use weft_model::Principal;
use weft_testkit::{TestBackend, fixtures, on_both_databases};
use weft_workspace::apps::procurement::demo::{DemoOptions, Scale};
use weft_workspace::apps::procurement::{SupplierScorecard, ThreeWayMatch};
use weft_workspace::collab::InboxFanout;
use weft_workspace::consumers::Consumer;
use weft_workspace::processes::ProcessStarts;
use weft_workspace::{Error, ListQuery, Workspace};

on_both_databases!(the_small_demo_loads_once);

fn consumers() -> Vec<Arc<dyn Consumer>> {
    vec![Arc::new(ProcessStarts), Arc::new(InboxFanout), Arc::new(ThreeWayMatch), Arc::new(SupplierScorecard)]
}

async fn count(ws: &Workspace, who: &Principal, type_name: &str, filter: Option<String>) -> u64 {
    ws.count(who, type_name, &ListQuery { filter, ..ListQuery::default() }).await.unwrap()
}

async fn the_small_demo_loads_once(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    ws.install_builtin_apps().await.unwrap();
    let options = DemoOptions { scale: Scale::Small, seed: 7 };
    let report = ws.load_demo(options, &consumers()).await.unwrap();
    let system = Principal::system();
    assert_eq!(count(&ws, &system, "purchase_order", None).await, 88, "80 of history and 8 of today");
    assert_eq!(count(&ws, &system, "supplier_profile", None).await, 8);
    assert_eq!(count(&ws, &system, "item", None).await, 40);
    assert_eq!(report.sign_ins.len(), 7, "{:?}", report.sign_ins);
    assert!(report.counts.iter().any(|(t, n)| t == "goods_receipt" && *n > 60), "{:?}", report.counts);

    // Each contact sees its own supplier's orders (all but drafts), and no other.
    for guest in report.sign_ins.iter().filter(|s| s.login.starts_with("sales@")) {
        let who = ws.principal_by_login(&system, &guest.login).await.unwrap();
        let party = who.party.unwrap();
        let principal = Principal::guest(who.id, party);
        let mine = count(&ws, &system, "purchase_order", Some(format!("supplier = \"{party}\""))).await;
        assert!(mine > 0);
        assert_eq!(count(&ws, &principal, "purchase_order", None).await, mine, "{}", guest.login);
        let others = Some(format!("supplier != \"{party}\""));
        assert_eq!(count(&ws, &principal, "purchase_order", others).await, 0);
    }

    // Today's work runs on live processes; history started none.
    for (element, expected) in [("manager_approve", 2), ("finance_approve", 1), ("review", 1), ("pay", 1)] {
        let open = ws.database().fetch_all(&open_tasks(element)).await.unwrap().len();
        assert_eq!(open, expected, "{element}");
    }
    for consumer in consumers() {
        assert_eq!(ws.consumer_lag(consumer.name()).await.unwrap(), 0, "{}", consumer.name());
    }
    let scored = count(&ws, &system, "supplier_profile", Some("score > 0".into())).await;
    assert_eq!(scored, 8, "every supplier has a score");

    // Again: refused, nothing written.
    let head = weft_store::kernel::outbox::head(ws.database()).await.unwrap();
    let again = ws.load_demo(options, &consumers()).await;
    assert!(matches!(&again, Err(Error::Conflict(m)) if m.contains("already loaded")), "{again:?}");
    assert_eq!(weft_store::kernel::outbox::head(ws.database()).await.unwrap(), head);
    assert_eq!(count(&ws, &system, "purchase_order", None).await, 88);
}

fn open_tasks(element: &str) -> sea_query::SelectStatement {
    use sea_query::{Alias, Expr, Query};
    Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("process_tasks"))
        .and_where(Expr::col(Alias::new("element")).eq(element))
        .and_where(Expr::col(Alias::new("status")).eq("open"))
        .to_owned()
}
