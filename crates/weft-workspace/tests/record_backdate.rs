//! `weft_store::records::backdate` on both databases (what `weft demo` dates its history
//! with): it sets a record's `created_at`/`updated_at`, its history entries' times (and a
//! rewritten diff) and a date-time field; the timeline follows. It refuses, loudly and
//! without changing anything, entries that are not the record's whole history, times that
//! would reorder it or lie in the future, a field that is not a date-time, a record that is
//! not there. The audit chain is never touched.

use std::collections::BTreeMap;

use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;
use weft_model::schema::Value;
use weft_store::kernel::audit::AuditVerdict;
use weft_store::kernel::history;
use weft_store::records::{EntryTime, TableSpec, backdate};
use weft_testkit::fixtures::{self, label, object, system};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::Workspace;

on_both_databases!(a_record_and_its_history_are_dated_or_refused_whole);

fn visit() -> serde_json::Value {
    json!({
        "name": "visit",
        "label": label("Visit", "拜访"),
        "fields": [
            { "name": "subject", "label": label("Subject", "主题"), "type": "text", "required": true },
            { "name": "happened_at", "label": label("Happened at", "发生时间"), "type": "datetime" }
        ]
    })
}

async fn attempt(
    ws: &Workspace,
    spec: &TableSpec,
    id: Uuid,
    entries: Vec<EntryTime>,
    fields: BTreeMap<String, Value>,
) -> weft_store::Result<()> {
    let spec = spec.clone();
    ws.database().write(move |tx| Box::pin(async move { backdate(tx, &spec, id, &entries, &fields).await })).await
}

fn times(ids: &[i64], at: &[OffsetDateTime]) -> Vec<EntryTime> {
    ids.iter().zip(at).map(|(id, at)| EntryTime { id: *id, at: *at, changes: None }).collect()
}

async fn a_record_and_its_history_are_dated_or_refused_whole(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[visit()]).await;
    let spec = TableSpec::from_decl(&ws.type_decl("visit").unwrap());
    let created = ws.create(&system(), "visit", object(json!({ "subject": "Plant tour" })), None).await.unwrap();
    let weft_workspace::Created::Fresh(created) = created else { panic!("a fresh record") };
    let id = created.system.id;
    let changes = object(json!({ "happened_at": Value::DateTime(weft_store::now()).to_json() }));
    ws.update(&system(), "visit", id, None, changes).await.unwrap();
    let ids: Vec<i64> = history::for_record(ws.database(), "visit", id).await.unwrap().iter().map(|h| h.id).collect();
    assert_eq!(ids.len(), 2);

    let (first, second) = (datetime!(2026-03-02 01:30 UTC), datetime!(2026-03-04 06:00 UTC));
    let happened = datetime!(2026-03-04 05:45 UTC);
    let mut entries = times(&ids, &[first, second]);
    entries[1].changes =
        Some(json!([{ "field": "happened_at", "from": null, "to": Value::DateTime(happened).to_json() }]));
    let fields = BTreeMap::from([("happened_at".to_owned(), Value::DateTime(happened))]);
    attempt(&ws, &spec, id, entries, fields.clone()).await.unwrap();

    let dated = ws.get(&system(), "visit", id).await.unwrap();
    assert_eq!((dated.system.created_at, dated.system.updated_at), (first, second));
    assert_eq!(dated.values.get("happened_at"), Some(&Value::DateTime(happened)));
    let entries = history::for_record(ws.database(), "visit", id).await.unwrap();
    assert_eq!(entries.iter().map(|h| h.at).collect::<Vec<_>>(), [first, second]);
    assert_eq!(entries[1].changes[0]["to"], Value::DateTime(happened).to_json());
    let timeline = ws.timeline(&system(), "visit", id).await.unwrap();
    assert_eq!(timeline.iter().map(|t| t.command.as_str()).collect::<Vec<_>>(), ["create", "update"]);
    assert_eq!(timeline[0].at, weft_store::format_utc(first));

    // Refusals: each says why, and leaves the record as it was.
    let refusals = [
        ("not its whole history", times(&ids[..1], &[first]), BTreeMap::new()),
        ("reordered", times(&ids, &[second, first]), BTreeMap::new()),
        ("in the future", times(&ids, &[first, weft_store::now() + time::Duration::hours(1)]), BTreeMap::new()),
        (
            "not a date-time field",
            times(&ids, &[first, second]),
            BTreeMap::from([("subject".to_owned(), Value::Text("x".into()))]),
        ),
        (
            "a field in the future",
            times(&ids, &[first, second]),
            BTreeMap::from([("happened_at".to_owned(), Value::DateTime(weft_store::now() + time::Duration::hours(1)))]),
        ),
        ("no entries", Vec::new(), BTreeMap::new()),
    ];
    for (what, entries, fields) in refusals {
        let refused = attempt(&ws, &spec, id, entries, fields).await.unwrap_err();
        assert!(matches!(refused, weft_store::Error::Backdate { .. }), "{what}: {refused}");
        let after = ws.get(&system(), "visit", id).await.unwrap();
        assert_eq!(after.system, dated.system, "{what}: unchanged");
        assert_eq!(after.values, dated.values, "{what}: unchanged");
    }
    let missing = attempt(&ws, &spec, Uuid::now_v7(), times(&ids, &[first, second]), BTreeMap::new()).await;
    assert!(matches!(missing, Err(weft_store::Error::Backdate { .. })), "{missing:?}");

    assert!(matches!(ws.verify_audit().await.unwrap(), AuditVerdict::Intact { .. }));
}
