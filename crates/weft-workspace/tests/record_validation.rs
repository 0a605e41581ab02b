//! A refused command lists every bad field at once (pointer and code) and writes nothing:
//! no row, no lines, no history, no audit entry, no outbox event, no naming number.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use uuid::Uuid;
use weft_testkit::fixtures::{self, footprint, kitchen_sink, object, purchase_order, system, vendor};
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::{BulkMode, Error, Workspace};

on_both_databases!(
    create_lists_every_bad_field_and_writes_nothing,
    text_over_max_length_is_too_long_and_writes_nothing,
    text_with_a_nul_character_is_refused_alike_on_both_databases,
    reference_to_missing_record_is_refused_with_its_pointer,
    reference_to_another_types_record_is_refused,
    reference_errors_are_reported_together_with_value_errors,
    update_lists_every_bad_field_and_changes_nothing,
    all_or_nothing_bulk_refuses_every_row_when_one_is_bad,
);

type Codes = BTreeSet<(String, String)>;

fn codes(err: Error) -> Codes {
    match err {
        Error::Validation(errors) => errors
            .into_iter()
            .map(|e| {
                let code = serde_json::to_value(e.code).unwrap().as_str().unwrap().to_owned();
                (e.pointer, code)
            })
            .collect(),
        other => panic!("expected a validation error, got {other:?} ({})", other.code().http_status()),
    }
}

fn expected(pairs: &[(&str, &str)]) -> Codes {
    pairs.iter().map(|(p, c)| ((*p).to_owned(), (*c).to_owned())).collect()
}

async fn setup(backend: TestBackend) -> (TestDatabase, Workspace, String) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[vendor(), kitchen_sink(), purchase_order()]).await;
    let vendor = ws
        .create(&system(), "vendor", object(json!({ "code": "ACME", "name": "Acme" })), None)
        .await
        .unwrap()
        .to_json();
    (db, ws, vendor["id"].as_str().unwrap().to_owned())
}

async fn refused_create(db: &TestDatabase, ws: &Workspace, type_name: &str, body: Value) -> Codes {
    let before = footprint(db, ws).await;
    let err = ws.create(&system(), type_name, object(body), None).await.expect_err("the create is refused");
    assert_eq!(err.code().http_status(), 422, "{err}");
    let after = footprint(db, ws).await;
    assert_eq!(before, after, "a refused create wrote something");
    codes(err)
}

async fn create_lists_every_bad_field_and_writes_nothing(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let body = json!({
        // `title` (required) is missing.
        "qty": 5000,
        "weight": "1.2345",
        "price_cny": { "amount": "1.234", "currency": "CNY" },
        "price_any": { "amount": "1" },
        "active": "yes",
        "due": "14/03/2026",
        "happened_at": "2026-03-14 09:30",
        "lead_time": "an hour",
        "contact_email": "not-an-email",
        "contact_phone": "call me",
        "homepage": "javascript:alert(1)",
        "color": "purple",
        "tags": ["a", "a"],
        "vendor": "not-a-uuid",
        "items": [{ "quantity": 0 }, "not a line"],
        "photo": "nothex",
        "documents": [fixtures::digest('a'), "short"],
        "qty_doubled": 3,
        "bogus": 1,
        "id": "00000000-0000-0000-0000-000000000001",
    });
    let found = refused_create(&db, &ws, "kitchen_sink", body).await;
    assert_eq!(
        found,
        expected(&[
            ("/title", "required"),
            ("/qty", "out_of_range"),
            ("/weight", "too_many_decimals"),
            ("/price_cny/amount", "too_many_decimals"),
            ("/price_any/currency", "required"),
            ("/active", "wrong_type"),
            ("/due", "invalid_format"),
            ("/happened_at", "invalid_format"),
            ("/lead_time", "invalid_format"),
            ("/contact_email", "invalid_format"),
            ("/contact_phone", "invalid_format"),
            ("/homepage", "invalid_format"),
            ("/color", "unknown_option"),
            ("/tags/1", "duplicate"),
            ("/vendor", "invalid_format"),
            ("/items/0/sku", "required"),
            ("/items/0/quantity", "out_of_range"),
            ("/items/1", "wrong_type"),
            ("/photo", "invalid_format"),
            ("/documents/1", "invalid_format"),
            ("/qty_doubled", "read_only"),
            ("/bogus", "unknown_field"),
            ("/id", "read_only"),
        ])
    );

    // Wrong JSON types, one per kind.
    let body = json!({
        "title": 123, "notes": false, "qty": "12.5", "weight": true, "discount": [1], "due": 20260314,
        "tags": "a", "items": {}, "extra": null, "customer": 7,
    });
    let found = refused_create(&db, &ws, "kitchen_sink", body).await;
    assert_eq!(
        found,
        expected(&[
            ("/title", "wrong_type"),
            ("/notes", "wrong_type"),
            ("/qty", "invalid_format"),
            ("/weight", "wrong_type"),
            ("/discount", "wrong_type"),
            ("/due", "wrong_type"),
            ("/tags", "wrong_type"),
            ("/items", "wrong_type"),
            ("/customer", "wrong_type"),
        ])
    );
}

async fn text_over_max_length_is_too_long_and_writes_nothing(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let found =
        refused_create(&db, &ws, "kitchen_sink", json!({ "title": "x".repeat(21), "qty": -1, "discount": "1e400" }))
            .await;
    assert!(found.contains(&("/title".into(), "too_long".into())), "{found:?}");
    assert!(found.contains(&("/qty".into(), "out_of_range".into())), "{found:?}");
    assert_eq!(found.len(), 3, "{found:?}");
    // Exactly at the limit is fine.
    ws.create(&system(), "kitchen_sink", object(json!({ "title": "x".repeat(20) })), None).await.expect("20 chars");
    // Characters, not bytes.
    ws.create(&system(), "kitchen_sink", object(json!({ "title": "采".repeat(20) })), None).await.expect("20 chars");
}

/// PostgreSQL cannot store U+0000 in text; SQLite can. So that a record valid on one
/// backend is valid on the other, the character is refused as a field error on both.
async fn text_with_a_nul_character_is_refused_alike_on_both_databases(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let found = refused_create(&db, &ws, "kitchen_sink", json!({ "title": "a\u{0}b", "notes": "x\u{0}" })).await;
    assert_eq!(found, expected(&[("/title", "invalid_format"), ("/notes", "invalid_format")]));
}

async fn reference_to_missing_record_is_refused_with_its_pointer(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let missing = Uuid::now_v7().to_string();
    let found = refused_create(&db, &ws, "kitchen_sink", json!({ "title": "t", "vendor": missing })).await;
    assert_eq!(found, expected(&[("/vendor", "unknown_reference")]));

    // A soft-deleted vendor cannot be referenced either.
    let gone = ws.create(&system(), "vendor", object(json!({ "code": "GONE", "name": "Gone" })), None).await.unwrap();
    let gone_id: Uuid = gone.to_json()["id"].as_str().unwrap().parse().unwrap();
    ws.delete(&system(), "vendor", gone_id, None).await.unwrap();
    let found = refused_create(&db, &ws, "kitchen_sink", json!({ "title": "t", "vendor": gone_id.to_string() })).await;
    assert_eq!(found, expected(&[("/vendor", "unknown_reference")]));
}

async fn reference_to_another_types_record_is_refused(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let po =
        ws.create(&system(), "purchase_order", object(json!({ "subject": "Paper" })), None).await.unwrap().to_json();
    let found =
        refused_create(&db, &ws, "kitchen_sink", json!({ "title": "t", "vendor": po["id"].as_str().unwrap() })).await;
    assert_eq!(found, expected(&[("/vendor", "unknown_reference")]));
}

/// "Every bad field reported at once" includes references: a bad value elsewhere must not
/// hide that the reference names no record.
async fn reference_errors_are_reported_together_with_value_errors(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let missing = Uuid::now_v7().to_string();
    let found = refused_create(&db, &ws, "kitchen_sink", json!({ "title": "t", "qty": -5, "vendor": missing })).await;
    assert_eq!(found, expected(&[("/qty", "out_of_range"), ("/vendor", "unknown_reference")]));
}

async fn update_lists_every_bad_field_and_changes_nothing(backend: TestBackend) {
    let (db, ws, vendor_id) = setup(backend).await;
    let created = ws
        .create(&system(), "kitchen_sink", object(json!({ "title": "t", "vendor": vendor_id, "qty": 1 })), None)
        .await
        .unwrap()
        .to_json();
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let before = footprint(&db, &ws).await;
    let record_before = ws.get(&system(), "kitchen_sink", id).await.unwrap();

    let err = ws
        .update(
            &system(),
            "kitchen_sink",
            id,
            Some(1),
            object(json!({ "title": null, "qty": 1001, "color": "purple", "nope": 1, "version": 7 })),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        codes(err),
        expected(&[
            ("/title", "required"),
            ("/qty", "out_of_range"),
            ("/color", "unknown_option"),
            ("/nope", "unknown_field"),
            ("/version", "read_only"),
        ])
    );
    let err = ws
        .update(&system(), "kitchen_sink", id, Some(1), object(json!({ "vendor": Uuid::now_v7().to_string() })))
        .await
        .expect_err("refused");
    assert_eq!(codes(err), expected(&[("/vendor", "unknown_reference")]));

    assert_eq!(footprint(&db, &ws).await, before, "a refused update wrote something");
    assert_eq!(ws.get(&system(), "kitchen_sink", id).await.unwrap(), record_before);
}

async fn all_or_nothing_bulk_refuses_every_row_when_one_is_bad(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let before = footprint(&db, &ws).await;
    let rows = vec![
        object(json!({ "subject": "ok 1" })),
        object(json!({ "subject": "", "amount": "1.234" })),
        object(json!({ "subject": "ok 2" })),
        object(json!({ "priority": "urgent" })),
    ];
    let err = ws.bulk_create(&system(), "purchase_order", rows, BulkMode::AllOrNothing).await.expect_err("refused");
    assert_eq!(
        codes(err),
        expected(&[
            ("/1/subject", "required"),
            ("/1/amount", "too_many_decimals"),
            ("/3/subject", "required"),
            ("/3/priority", "unknown_option"),
        ])
    );
    assert_eq!(footprint(&db, &ws).await, before, "a refused bulk create wrote something");

    // Per row: the good rows are written, the bad ones reported, numbers stay gap-free.
    let rows = vec![
        object(json!({ "subject": "ok 1" })),
        object(json!({ "subject": "" })),
        object(json!({ "subject": "ok 2" })),
    ];
    let results = ws.bulk_create(&system(), "purchase_order", rows, BulkMode::PerRow).await.expect("per row");
    let numbers: Vec<Option<String>> = results
        .iter()
        .map(|r| match r {
            weft_workspace::BulkRow::Created(view) => view.system.number.clone(),
            weft_workspace::BulkRow::Failed(e) => {
                assert_eq!(e.code().http_status(), 422);
                None
            }
        })
        .collect();
    // Rows are written concurrently, so which good row gets which number is not fixed.
    assert!(numbers[1].is_none(), "{numbers:?}");
    let year = time::OffsetDateTime::now_utc().year();
    let mut taken: Vec<String> = numbers.into_iter().flatten().collect();
    taken.sort();
    assert_eq!(taken, vec![format!("PO-{year}-00001"), format!("PO-{year}-00002")]);
}
