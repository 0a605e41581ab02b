//! Writes under contention: optimistic versions, unique values, idempotent retries and
//! the naming series, through the façade.

use std::collections::BTreeSet;

use serde_json::json;
use uuid::Uuid;
use weft_testkit::fixtures::{self, footprint, object, purchase_order, system, vendor};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::{BulkMode, Created, Error, Idempotency, Workspace};

on_both_databases!(
    stale_expected_version_is_refused_with_the_current_version,
    concurrent_updates_of_one_version_let_exactly_one_win,
    duplicate_unique_value_is_refused_naming_the_field_and_writes_nothing,
    duplicate_composite_unique_is_refused_naming_both_fields,
    idempotent_retry_returns_the_original_record,
    idempotency_key_reused_with_another_body_is_a_conflict,
    idempotency_keys_are_per_principal_and_per_key,
    concurrent_retries_with_one_key_create_one_record,
    concurrent_creates_get_gap_free_numbers,
    concurrent_creates_with_one_duplicate_each_get_their_own_answer,
);

async fn new_po(ws: &Workspace, subject: &str) -> Uuid {
    let created = ws
        .create(&system(), "purchase_order", object(json!({ "subject": subject, "amount": "10" })), None)
        .await
        .expect("created");
    created.to_json()["id"].as_str().unwrap().parse().unwrap()
}

async fn stale_expected_version_is_refused_with_the_current_version(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let id = new_po(&ws, "Paper").await;

    let updated = ws.update(&system(), "purchase_order", id, Some(1), object(json!({ "note": "a" }))).await.unwrap();
    assert_eq!(updated.system.version, 2);

    let before = footprint(&db, &ws).await;
    let err = ws.update(&system(), "purchase_order", id, Some(1), object(json!({ "note": "b" }))).await.unwrap_err();
    assert!(matches!(err, Error::Stale { current: 2 }), "{err:?}");
    assert_eq!(err.code().http_status(), 412);
    let err = ws.transition(&system(), "purchase_order", id, "submit", Some(1), Default::default()).await.unwrap_err();
    assert!(matches!(err, Error::Stale { current: 2 }), "{err:?}");
    let err = ws.delete(&system(), "purchase_order", id, Some(1)).await.unwrap_err();
    assert!(matches!(err, Error::Stale { current: 2 }), "{err:?}");
    assert_eq!(footprint(&db, &ws).await, before, "a stale write wrote something");

    // The current version, or none at all, works.
    let updated = ws.update(&system(), "purchase_order", id, Some(2), object(json!({ "note": "c" }))).await.unwrap();
    assert_eq!(updated.system.version, 3);
    let updated = ws.update(&system(), "purchase_order", id, None, object(json!({ "note": "d" }))).await.unwrap();
    assert_eq!(updated.system.version, 4);
    assert_eq!(updated.values["note"], weft_model::schema::Value::Text("d".into()));
}

async fn concurrent_updates_of_one_version_let_exactly_one_win(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let id = new_po(&ws, "Paper").await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let ws = ws.clone();
            tokio::spawn(async move {
                ws.update(&system(), "purchase_order", id, Some(1), object(json!({ "note": format!("writer {i}") })))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(view) => {
                won += 1;
                assert_eq!(view.system.version, 2);
            }
            Err(Error::Stale { current }) => assert_eq!(current, 2),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one writer of version 1 wins");
    let timeline = ws.timeline(&system(), "purchase_order", id).await.unwrap();
    assert_eq!(timeline.len(), 2, "create + one update: {timeline:?}");
}

fn unique_fields(err: Error) -> Vec<String> {
    assert_eq!(err.code().http_status(), 409, "{err:?}");
    match err {
        Error::Unique { fields } => fields,
        other => panic!("expected a unique conflict, got {other:?}"),
    }
}

async fn duplicate_unique_value_is_refused_naming_the_field_and_writes_nothing(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor()]).await;
    let first = ws.create(&system(), "vendor", object(json!({ "code": "ACME", "name": "Acme" })), None).await.unwrap();
    assert_eq!(first.to_json()["number"], "V-0001");

    let before = footprint(&db, &ws).await;
    let err = ws
        .create(&system(), "vendor", object(json!({ "code": "ACME", "name": "Other" })), None)
        .await
        .expect_err("duplicate code");
    assert_eq!(unique_fields(err), vec!["code".to_owned()]);
    assert_eq!(footprint(&db, &ws).await, before, "a refused duplicate wrote something (or took a number)");

    // The refused create gave its number back.
    let second = ws.create(&system(), "vendor", object(json!({ "code": "BETA", "name": "Beta" })), None).await.unwrap();
    assert_eq!(second.to_json()["number"], "V-0002");

    // Updating into a taken value is refused the same way.
    let second_id: Uuid = second.to_json()["id"].as_str().unwrap().parse().unwrap();
    let before = footprint(&db, &ws).await;
    let err = ws.update(&system(), "vendor", second_id, None, object(json!({ "code": "ACME" }))).await.unwrap_err();
    assert_eq!(unique_fields(err), vec!["code".to_owned()]);
    assert_eq!(footprint(&db, &ws).await, before);

    // A duplicate inside one all-or-nothing bulk refuses the whole bulk.
    let rows = vec![object(json!({ "code": "C1", "name": "One" })), object(json!({ "code": "C1", "name": "Two" }))];
    let err = ws.bulk_create(&system(), "vendor", rows, BulkMode::AllOrNothing).await.unwrap_err();
    assert_eq!(unique_fields(err), vec!["code".to_owned()]);
    assert_eq!(footprint(&db, &ws).await, before);
}

async fn duplicate_composite_unique_is_refused_naming_both_fields(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor()]).await;
    ws.create(&system(), "vendor", object(json!({ "code": "A", "name": "Acme", "country": "CN" })), None)
        .await
        .unwrap();
    // Same name in another country is fine.
    ws.create(&system(), "vendor", object(json!({ "code": "B", "name": "Acme", "country": "US" })), None)
        .await
        .unwrap();
    let before = footprint(&db, &ws).await;
    let err = ws
        .create(&system(), "vendor", object(json!({ "code": "C", "name": "Acme", "country": "CN" })), None)
        .await
        .unwrap_err();
    assert_eq!(unique_fields(err), vec!["name".to_owned(), "country".to_owned()]);
    assert_eq!(footprint(&db, &ws).await, before);
}

fn key(key: &str, hash: &str) -> Option<Idempotency> {
    Some(Idempotency { key: key.into(), request_hash: hash.into() })
}

async fn idempotent_retry_returns_the_original_record(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let alice = weft_testkit::people::member(&ws, &["employee"]).await;
    let body = json!({ "subject": "Paper", "amount": "10" });
    let first = ws.create(&alice, "purchase_order", object(body.clone()), key("k-1", "h-1")).await.unwrap();
    let Created::Fresh(view) = &first else { panic!("the first create is fresh: {first:?}") };
    let original = view.to_json();

    let before = footprint(&db, &ws).await;
    for _ in 0..3 {
        let retry = ws.create(&alice, "purchase_order", object(body.clone()), key("k-1", "h-1")).await.unwrap();
        let Created::Replayed(json) = &retry else { panic!("a retry is replayed: {retry:?}") };
        assert_eq!(json, &original, "the retry answers exactly what the first request got");
    }
    assert_eq!(footprint(&db, &ws).await, before, "a replay wrote something");
    let page = ws.list(&alice, "purchase_order", &Default::default()).await.unwrap();
    assert_eq!(page.records.len(), 1);
}

async fn idempotency_key_reused_with_another_body_is_a_conflict(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let alice = weft_testkit::people::member(&ws, &["employee"]).await;
    ws.create(&alice, "purchase_order", object(json!({ "subject": "Paper" })), key("k-1", "h-1")).await.unwrap();
    let before = footprint(&db, &ws).await;
    let err =
        ws.create(&alice, "purchase_order", object(json!({ "subject": "Ink" })), key("k-1", "h-2")).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.code().http_status(), 409);
    assert_eq!(footprint(&db, &ws).await, before);
}

async fn idempotency_keys_are_per_principal_and_per_key(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let body = json!({ "subject": "Paper" });
    let mut ids = BTreeSet::new();
    let (alice, bob) = (
        weft_testkit::people::member(&ws, &["employee"]).await,
        weft_testkit::people::member(&ws, &["employee"]).await,
    );
    for (principal, k) in [(alice, "k-1"), (bob, "k-1"), (system(), "k-1"), (system(), "k-2")] {
        let created = ws.create(&principal, "purchase_order", object(body.clone()), key(k, "h")).await.unwrap();
        assert!(matches!(created, Created::Fresh(_)), "{created:?}");
        ids.insert(created.to_json()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 4, "four distinct records");
}

/// A client that retries while its first request is still in flight: every attempt gets
/// the one record (fresh or replayed), never an internal error or a second record.
async fn concurrent_retries_with_one_key_create_one_record(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let alice = weft_testkit::people::member(&ws, &["employee"]).await;
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let ws = ws.clone();
            let alice = alice.clone();
            tokio::spawn(async move {
                ws.create(&alice, "purchase_order", object(json!({ "subject": "Paper" })), key("k-1", "h-1")).await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    let mut fresh = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(created) => {
                fresh += usize::from(matches!(created, Created::Fresh(_)));
                ids.insert(created.to_json()["id"].as_str().unwrap().to_owned());
            }
            Err(e) => panic!("a concurrent retry failed with {} {e:?}", e.code().http_status()),
        }
    }
    assert_eq!(fresh, 1, "one attempt did the work");
    assert_eq!(ids.len(), 1, "every attempt answers with the same record");
    assert_eq!(ws.count(&alice, "purchase_order", &Default::default()).await.unwrap(), 1);
}

/// 8 writers × 50 creates: numbers 1..=400 of this year's series, each exactly once.
async fn concurrent_creates_get_gap_free_numbers(backend: TestBackend) {
    let (_db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let ws = ws.clone();
            tokio::spawn(async move {
                let mut numbers = Vec::new();
                for i in 0..50 {
                    let created = ws
                        .create(&system(), "purchase_order", object(json!({ "subject": format!("w{w} #{i}") })), None)
                        .await
                        .expect("create under contention");
                    let Created::Fresh(view) = created else { panic!("fresh") };
                    numbers.push((view.system.number.clone().unwrap(), view.system.created_at.year()));
                }
                numbers
            })
        })
        .collect();
    let mut counters = Vec::new();
    for writer in writers {
        for (number, year) in writer.await.unwrap() {
            let counter = number
                .strip_prefix(&format!("PO-{year}-"))
                .unwrap_or_else(|| panic!("{number} is not of {year}'s series"));
            assert_eq!(counter.len(), 5, "{number}");
            counters.push(counter.parse::<u32>().unwrap());
        }
    }
    counters.sort_unstable();
    assert_eq!(counters, (1..=400).collect::<Vec<_>>(), "no gaps, no duplicates");
    let all = ws.count(&system(), "purchase_order", &Default::default()).await.expect("count");
    assert_eq!(all, 400);
}

async fn create_many(ws: &Workspace, codes: &[String]) -> Vec<weft_workspace::Result<Created>> {
    let creates: Vec<_> = codes
        .iter()
        .map(|code| {
            let ws = ws.clone();
            let input = object(json!({ "code": code, "name": format!("Vendor {code}") }));
            tokio::spawn(async move { ws.create(&system(), "vendor", input, None).await })
        })
        .collect();
    let mut out = Vec::new();
    for create in creates {
        out.push(create.await.unwrap());
    }
    out
}

/// 48 creates at once (written in lots, as they arrive while others are being written),
/// two of them with the same unique code: the second of those is refused naming the
/// field, every other one is created, and what is stored is exactly the 47 records with
/// their history, audit and events and numbers 1..=47. Then 40 more at once, which share
/// lots (and a lot's commit time).
async fn concurrent_creates_with_one_duplicate_each_get_their_own_answer(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor()]).await;
    let before = footprint(&db, &ws).await;
    let events_before = db.raw().await.scalar("SELECT COUNT(*) FROM outbox").await.unwrap();
    let codes: Vec<String> = (0..48).map(|i| if i == 30 { "C7".to_owned() } else { format!("C{i}") }).collect();
    let mut numbers = Vec::new();
    let mut refused = Vec::new();
    for (code, created) in codes.iter().zip(create_many(&ws, &codes).await) {
        match created {
            Ok(Created::Fresh(view)) => {
                assert_eq!(view.values["code"], weft_model::schema::Value::Text(code.clone()));
                numbers.push(view.system.number.clone().unwrap());
            }
            Ok(other) => panic!("not a replay: {other:?}"),
            Err(err) => {
                refused.push(code.clone());
                assert_eq!(unique_fields(err), vec!["code".to_owned()]);
            }
        }
    }
    assert_eq!(refused, vec!["C7".to_owned()], "exactly one of the two C7 is refused");
    numbers.sort();
    assert_eq!(numbers, (1..=47).map(|n| format!("V-{n:04}")).collect::<Vec<_>>(), "no gaps, no duplicates");

    let after = footprint(&db, &ws).await;
    assert_eq!(after.history - before.history, 47);
    assert_eq!(after.audit_entries - before.audit_entries, 47);
    let events = db.raw().await.scalar("SELECT COUNT(*) FROM outbox").await.unwrap();
    assert_eq!(events - events_before, 47);
    assert_eq!(ws.count(&system(), "vendor", &Default::default()).await.unwrap(), 47);

    let codes: Vec<String> = (100..140).map(|i| format!("C{i}")).collect();
    let mut numbers = Vec::new();
    let mut times = BTreeSet::new();
    for (code, created) in codes.iter().zip(create_many(&ws, &codes).await) {
        let Ok(Created::Fresh(view)) = created else { panic!("{code} not created: {created:?}") };
        assert_eq!(view.values["code"], weft_model::schema::Value::Text(code.clone()));
        assert_eq!(view.values["name"], weft_model::schema::Value::Text(format!("Vendor {code}")));
        numbers.push(view.system.number.clone().unwrap());
        times.insert(view.system.created_at);
    }
    numbers.sort();
    assert_eq!(numbers, (48..=87).map(|n| format!("V-{n:04}")).collect::<Vec<_>>());
    assert!(times.len() < codes.len(), "no two creates shared a lot: {} commit times", times.len());
    let after = footprint(&db, &ws).await;
    assert_eq!(after.history - before.history, 87);
    assert_eq!(after.audit_entries - before.audit_entries, 87);
}
