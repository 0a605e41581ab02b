//! Property: with random records across two parties, a guest of party A never receives a
//! record, a count, a sum or an error message that reveals party B's data — through list,
//! count, aggregate, export, get, timeline, every write, filters naming B's values and
//! references pointing at B's records. (The HTTP endpoints run these same façade calls;
//! `weft-server`'s tests cover the HTTP layer.)

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases, people};
use weft_workspace::{AggregateQuery, BulkMode, BulkRow, Error, ListQuery, Workspace};

#[derive(Debug, Clone)]
struct Spec {
    party_b: bool,
    code: String,
    amount: i64,
    secret: String,
}

fn spec() -> impl Strategy<Value = Spec> {
    (any::<bool>(), "[a-z]{3,10}", 0i64..1_000_000, "[A-Z]{6}").prop_map(|(party_b, code, amount, secret)| Spec {
        party_b,
        code,
        amount,
        secret,
    })
}

fn deal_type() -> serde_json::Value {
    let state = |n: &str| json!({ "name": n, "label": label(n, n) });
    json!({
        "name": "deal", "label": label("Deal", "交易"),
        "fields": [
            { "name": "code", "label": label("Code", "编码"), "type": "text", "required": true, "indexed": true },
            { "name": "amount", "label": label("Amount", "金额"), "type": "integer", "indexed": true },
            { "name": "secret", "label": label("Secret", "机密"), "type": "text" },
            { "name": "related", "label": label("Related", "相关"), "type": "reference", "target": "deal", "on_delete": "set_null" }
        ],
        "lifecycle": { "initial": "open", "states": [state("open"), state("won")],
            "transitions": [{ "name": "win", "label": label("Win", "赢单"), "from": ["open"], "to": "won" }] }
    })
}

struct Case {
    ws: Workspace,
    _db: weft_testkit::TestDatabase,
    guest: Principal,
    a: Vec<(Uuid, Spec)>,
    b: Vec<(Uuid, Spec)>,
}

async fn setup(backend: TestBackend, specs: &[Spec]) -> Case {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[deal_type()]).await;
    let portal = json!({ "name": "portal", "for_guests": true, "grants": [
        { "type": "deal", "actions": ["read", "create", "update", "delete", "export", "transition:*"], "scope": "party" }
    ]});
    ws.put_role(&system(), serde_json::from_value(portal).unwrap()).await.unwrap();
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let rows: Vec<Map<String, serde_json::Value>> = specs
        .iter()
        .map(|s| {
            object(json!({ "code": s.code, "amount": s.amount, "secret": s.secret,
                "party": if s.party_b { party_b } else { party_a } }))
        })
        .collect();
    let mut a = Vec::new();
    let mut b = Vec::new();
    if !rows.is_empty() {
        let created = ws.bulk_create(&system(), "deal", rows, BulkMode::AllOrNothing).await.unwrap();
        for (row, s) in created.into_iter().zip(specs) {
            let BulkRow::Created(view) = row else { panic!("{row:?}") };
            if s.party_b { b.push((view.system.id, s.clone())) } else { a.push((view.system.id, s.clone())) }
        }
    }
    let guest = people::guest(&ws, party_a, &["portal"]).await;
    Case { ws, _db: db, guest, a, b }
}

/// Does `text` mention any of B's values that A does not share?
fn leaks(text: &str, case: &Case) -> Option<String> {
    let a_values: BTreeSet<&str> = case.a.iter().flat_map(|(_, s)| [s.code.as_str(), s.secret.as_str()]).collect();
    for (id, s) in &case.b {
        if text.contains(&id.to_string()) {
            return Some(format!("B's id {id}"));
        }
        for value in [&s.code, &s.secret] {
            if !a_values.contains(value.as_str()) && value.len() >= 6 && text.contains(value.as_str()) {
                return Some(format!("B's value {value}"));
            }
        }
    }
    None
}

async fn check(case: &Case) -> Result<(), String> {
    let ws = &case.ws;
    let g = &case.guest;
    let a_ids: BTreeSet<Uuid> = case.a.iter().map(|(id, _)| *id).collect();

    let page = ws.list(g, "deal", &ListQuery { limit: Some(500), with_count: true, ..Default::default() }).await;
    let page = page.map_err(|e| e.to_string())?;
    let listed: BTreeSet<Uuid> = page.records.iter().map(|r| r.system.id).collect();
    if listed != a_ids || page.count != Some(a_ids.len() as u64) {
        return Err(format!("list/count: {} records, count {:?}, A has {}", listed.len(), page.count, a_ids.len()));
    }
    let query = AggregateQuery {
        metrics: vec!["count".into(), "sum:amount".into(), "min:amount".into(), "max:amount".into()],
        ..Default::default()
    };
    let groups = ws.aggregate(g, "deal", &query).await.map_err(|e| e.to_string())?;
    let values = groups.first().map(|g| g.values.clone()).unwrap_or_default();
    let sum: i64 = case.a.iter().map(|(_, s)| s.amount).sum();
    let min = case.a.iter().map(|(_, s)| s.amount).min();
    let max = case.a.iter().map(|(_, s)| s.amount).max();
    let number =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    if number(values.get("count")) != Some(a_ids.len() as i64)
        || (!a_ids.is_empty() && number(values.get("sum_amount")) != Some(sum))
        || number(values.get("min_amount")) != min
        || number(values.get("max_amount")) != max
    {
        return Err(format!("aggregate {values:?}, A: sum {sum} min {min:?} max {max:?}"));
    }
    let csv = ws.export_csv(g, "deal", &ListQuery::default()).await.map_err(|e| e.to_string())?;
    if let Some(leak) = leaks(&csv, case) {
        return Err(format!("export reveals {leak}"));
    }
    if csv.lines().count() != a_ids.len() + 1 {
        return Err(format!("export has {} rows, A has {}", csv.lines().count() - 1, a_ids.len()));
    }

    // Filters naming B's values find only A's records.
    for (_, s) in case.b.iter().take(5) {
        for filter in [format!("code = \"{}\"", s.code), format!("amount = {}", s.amount)] {
            let query = ListQuery { filter: Some(filter.clone()), limit: Some(500), ..Default::default() };
            let page = ws.list(g, "deal", &query).await.map_err(|e| e.to_string())?;
            if page.records.iter().any(|r| !a_ids.contains(&r.system.id)) {
                return Err(format!("filter {filter} returned a record of B"));
            }
        }
    }

    // B's records answer exactly like records that do not exist.
    let nowhere = Uuid::now_v7();
    let shape = |e: &Error, id: Uuid| e.to_string().replace(&id.to_string(), "<id>");
    let missing = ws.get(g, "deal", nowhere).await.unwrap_err();
    for (id, _) in case.b.iter().take(5) {
        let id = *id;
        // (what, the answer for B's record, the answer for a record that does not exist)
        type Answer = Result<(), Error>;
        let answers: Vec<(&str, Answer, Answer)> = vec![
            ("get", ws.get(g, "deal", id).await.map(|_| ()), ws.get(g, "deal", nowhere).await.map(|_| ())),
            (
                "timeline",
                ws.timeline(g, "deal", id).await.map(|_| ()),
                ws.timeline(g, "deal", nowhere).await.map(|_| ()),
            ),
            (
                "update",
                ws.update(g, "deal", id, None, object(json!({ "amount": 1 }))).await.map(|_| ()),
                ws.update(g, "deal", nowhere, None, object(json!({ "amount": 1 }))).await.map(|_| ()),
            ),
            (
                "transition",
                ws.transition(g, "deal", id, "win", None, Map::new()).await.map(|_| ()),
                ws.transition(g, "deal", nowhere, "win", None, Map::new()).await.map(|_| ()),
            ),
            (
                "delete",
                ws.delete(g, "deal", id, None).await.map(|_| ()),
                ws.delete(g, "deal", nowhere, None).await.map(|_| ()),
            ),
        ];
        for (what, theirs, none) in answers {
            match (theirs, none) {
                (Err(t), Err(n)) if shape(&t, id) == shape(&n, nowhere) && matches!(t, Error::NotFound(_)) => {}
                (t, n) => return Err(format!("{what} of B's record: {t:?}, of no record: {n:?}")),
            }
        }
        // Pointing at B's record is refused like pointing at nothing.
        let theirs = ws.create(g, "deal", object(json!({ "code": "mine", "related": id })), None).await;
        let none = ws.create(g, "deal", object(json!({ "code": "mine", "related": nowhere })), None).await;
        match (theirs, none) {
            (Err(Error::Validation(t)), Err(Error::Validation(n)))
                if t.len() == 1
                    && t[0].pointer == n[0].pointer
                    && t[0].reason.replace(&id.to_string(), "<id>")
                        == n[0].reason.replace(&nowhere.to_string(), "<id>") => {}
            (t, n) => return Err(format!("reference to B's record: {t:?}; to no record: {n:?}")),
        }
    }
    let _ = missing;
    // Nothing of B's changed.
    for (id, s) in &case.b {
        let view = ws.get(&system(), "deal", *id).await.map_err(|e| e.to_string())?;
        if view.system.version != 1 || view.values.get("amount").map(|v| v.to_json()) != Some(json!(s.amount)) {
            return Err(format!("B's record {id} changed"));
        }
    }
    Ok(())
}

on_both_databases!(a_guest_never_sees_the_other_partys_data);

async fn a_guest_never_sees_the_other_partys_data(backend: TestBackend) {
    let cases: u32 = std::env::var("WEFT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(spec(), 0..40), |specs| {
            handle.block_on(async {
                let case = setup(backend, &specs).await;
                check(&case).await.map_err(TestCaseError::fail)
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
