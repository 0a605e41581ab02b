//! Lists: FEEL filters compiled to SQL, keyset (cursor) pagination over indexed sort keys,
//! counts that agree with the pages, and clean refusals of bad filters, sorts and cursors.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use time::{Date, Duration, Month};
use uuid::Uuid;
use weft_testkit::fixtures::{self, object, purchase_order, system};
use weft_testkit::{TestBackend, on_both_databases};
use weft_workspace::{BulkMode, BulkRow, Error, ListQuery, Workspace};

on_both_databases!(
    filtered_cursor_pages_return_every_match_once_in_order,
    unfiltered_pages_return_all_records_once,
    unknown_field_in_filter_is_400_with_a_suggestion,
    injection_looking_filters_are_inert,
    nul_character_in_a_filter_is_not_an_internal_error,
    sort_by_a_field_that_is_not_indexed_is_400,
    tampered_cursor_is_400,
);

struct Row {
    id: Uuid,
    order_date: Date,
    subject: String,
    amount: i64,
    priority: &'static str,
}

/// 120 orders: 12 dates, 60 subjects, and pairs (i, i + 60) equal in both sort keys so the
/// id decides between them.
async fn seed(ws: &Workspace) -> Vec<Row> {
    let start = Date::from_calendar_date(2026, Month::January, 1).unwrap();
    let priorities = ["low", "normal", "high"];
    let mut plan = Vec::new();
    let mut inputs = Vec::new();
    for i in 0..120_i64 {
        let order_date = start + Duration::days(i % 12);
        let subject = format!("s-{:03}", (i * 7) % 60);
        let priority = priorities[(i % 3) as usize];
        inputs.push(object(json!({
            "subject": subject, "order_date": order_date.to_string(), "amount": i.to_string(), "priority": priority,
        })));
        plan.push((order_date, subject, i, priority));
    }
    let created = ws.bulk_create(&system(), "purchase_order", inputs, BulkMode::AllOrNothing).await.unwrap();
    created
        .into_iter()
        .zip(plan)
        .map(|(row, (order_date, subject, amount, priority))| match row {
            BulkRow::Created(view) => Row { id: view.system.id, order_date, subject, amount, priority },
            BulkRow::Failed(e) => panic!("{e:?}"),
        })
        .collect()
}

async fn setup(backend: TestBackend) -> (weft_testkit::TestDatabase, Workspace, Vec<Row>) {
    let (db, ws) = fixtures::workspace(backend).await;
    fixtures::declare(&ws, &[purchase_order()]).await;
    let rows = seed(&ws).await;
    (db, ws, rows)
}

/// Every id of every page, following `next_cursor` until there is none.
async fn all_pages(ws: &Workspace, query: ListQuery) -> (Vec<Uuid>, Vec<Option<u64>>) {
    let mut ids = Vec::new();
    let mut counts = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = ws.list(&system(), "purchase_order", &ListQuery { cursor, ..query.clone() }).await.expect("page");
        assert!(page.records.len() as u64 <= query.limit.unwrap_or(50));
        ids.extend(page.records.iter().map(|r| r.system.id));
        counts.push(page.count);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (ids, counts),
        }
    }
    panic!("pagination does not end");
}

fn sorted_expected<'a>(rows: impl Iterator<Item = &'a Row>) -> Vec<Uuid> {
    let mut matching: Vec<&Row> = rows.collect();
    matching.sort_by(|a, b| {
        b.order_date.cmp(&a.order_date).then_with(|| a.subject.cmp(&b.subject)).then_with(|| a.id.cmp(&b.id))
    });
    matching.iter().map(|r| r.id).collect()
}

async fn filtered_cursor_pages_return_every_match_once_in_order(backend: TestBackend) {
    let (_db, ws, rows) = setup(backend).await;
    let filter = r#"amount >= 30 and priority != "low" and order_date <= date("2026-01-10")"#;
    let last_date = Date::from_calendar_date(2026, Month::January, 10).unwrap();
    let expected =
        sorted_expected(rows.iter().filter(|r| r.amount >= 30 && r.priority != "low" && r.order_date <= last_date));
    assert!(expected.len() > 40, "the filter keeps several pages: {}", expected.len());

    for limit in [1, 7, 50, 500] {
        let query = ListQuery {
            filter: Some(filter.into()),
            sort: Some("-order_date,subject".into()),
            limit: Some(limit),
            with_count: true,
            ..Default::default()
        };
        let (ids, counts) = all_pages(&ws, query).await;
        let unique: BTreeSet<Uuid> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "limit {limit}: a record came twice");
        assert_eq!(ids, expected, "limit {limit}: every match once, in order");
        assert!(counts.iter().all(|c| *c == Some(expected.len() as u64)), "limit {limit}: counts {counts:?}");
    }
    let counted = ws
        .count(&system(), "purchase_order", &ListQuery { filter: Some(filter.into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(counted, expected.len() as u64);
}

async fn unfiltered_pages_return_all_records_once(backend: TestBackend) {
    let (_db, ws, rows) = setup(backend).await;
    let query = ListQuery { sort: Some("-order_date,subject".into()), limit: Some(13), ..Default::default() };
    let (ids, _) = all_pages(&ws, query).await;
    assert_eq!(ids, sorted_expected(rows.iter()));

    // The other direction, and the default order (creation).
    let query = ListQuery { sort: Some("order_date,-subject".into()), limit: Some(11), ..Default::default() };
    let (ids, _) = all_pages(&ws, query).await;
    let mut expected: Vec<&Row> = rows.iter().collect();
    expected.sort_by(|a, b| {
        // The id breaks ties in the direction of the last key.
        a.order_date.cmp(&b.order_date).then_with(|| b.subject.cmp(&a.subject)).then_with(|| b.id.cmp(&a.id))
    });
    assert_eq!(ids, expected.iter().map(|r| r.id).collect::<Vec<_>>());
    let (ids, _) = all_pages(&ws, ListQuery { limit: Some(17), ..Default::default() }).await;
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>().len(), 120);

    // Creation time (NOT NULL: a row-value cursor), both directions: (created_at, id)
    // ascending, or both descending; the pages agree with one big page.
    for (sort, descending) in [(None, false), (Some("created_at"), false), (Some("-created_at"), true)] {
        let one = ws
            .list(
                &system(),
                "purchase_order",
                &ListQuery { sort: sort.map(Into::into), limit: Some(500), ..Default::default() },
            )
            .await
            .unwrap();
        let mut keys: Vec<_> = one.records.iter().map(|r| (r.system.created_at, r.system.id)).collect();
        assert_eq!(keys.len(), 120);
        let listed = keys.clone();
        keys.sort();
        if descending {
            keys.reverse();
        }
        assert_eq!(listed, keys, "{sort:?}: (created_at, id) in one direction");
        let (ids, _) =
            all_pages(&ws, ListQuery { sort: sort.map(Into::into), limit: Some(7), ..Default::default() }).await;
        assert_eq!(ids, listed.iter().map(|k| k.1).collect::<Vec<_>>(), "{sort:?}: pages as one page");
    }
}

fn bad_request(result: Result<weft_workspace::Page, Error>) -> String {
    match result {
        Err(Error::BadRequest(message)) => message,
        Err(other) => panic!("expected 400, got {} {other:?}", other.code().http_status()),
        Ok(page) => panic!("expected 400, got a page of {}", page.records.len()),
    }
}

async fn unknown_field_in_filter_is_400_with_a_suggestion(backend: TestBackend) {
    let (_db, ws, _) = setup(backend).await;
    let query = ListQuery { filter: Some("amout > 3".into()), ..Default::default() };
    let message = bad_request(ws.list(&system(), "purchase_order", &query).await);
    assert!(message.contains("amout"), "{message}");
    assert!(message.contains("did you mean `amount`"), "{message}");
    let query = ListQuery { filter: Some(r#"priority = "urgent""#.into()), ..Default::default() };
    let message = bad_request(ws.list(&system(), "purchase_order", &query).await);
    assert!(message.contains("urgent"), "{message}");
    let err = ws
        .count(&system(), "purchase_order", &ListQuery { filter: Some("amout > 3".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code().http_status(), 400);
}

async fn injection_looking_filters_are_inert(backend: TestBackend) {
    let (db, ws, _) = setup(backend).await;
    let inert = [
        r#"subject = "x' OR '1'='1""#,
        r#"subject = "s-001\"; DROP TABLE r_purchase_order; --""#,
        r#"subject = "'; DELETE FROM r_purchase_order; --""#,
        r#"contains(subject, "' OR 1=1 --")"#,
        r#"starts with(subject, "%")"#,
    ];
    for filter in inert {
        let query = ListQuery { filter: Some(filter.into()), ..Default::default() };
        let page = ws.list(&system(), "purchase_order", &query).await.unwrap_or_else(|e| panic!("{filter}: {e:?}"));
        assert!(page.records.is_empty(), "{filter} matched {} records", page.records.len());
    }
    let refused = [
        "1; DROP TABLE r_purchase_order",
        r#"subject = "a" ; DELETE FROM r_purchase_order"#,
        "subject = subject) OR (1=1",
        "r_purchase_order.id = id",
    ];
    for filter in refused {
        let query = ListQuery { filter: Some(filter.into()), ..Default::default() };
        bad_request(ws.list(&system(), "purchase_order", &query).await);
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM r_purchase_order").await, Some(120), "the table is untouched");
    assert_eq!(ws.count(&system(), "purchase_order", &Default::default()).await.unwrap(), 120);
}

/// PostgreSQL text cannot hold U+0000; a filter naming one must still be answered (no
/// match, or a 400), never with an internal error.
async fn nul_character_in_a_filter_is_not_an_internal_error(backend: TestBackend) {
    let (_db, ws, _) = setup(backend).await;
    for filter in [r#"note = "\u0000""#, r#"contains(subject, "a\u0000b")"#] {
        let query = ListQuery { filter: Some(filter.into()), ..Default::default() };
        match ws.list(&system(), "purchase_order", &query).await {
            Ok(page) => assert!(page.records.is_empty(), "{filter}"),
            Err(e) => assert_eq!(e.code().http_status(), 400, "{filter}: {e:?}"),
        }
    }
}

async fn sort_by_a_field_that_is_not_indexed_is_400(backend: TestBackend) {
    let (_db, ws, _) = setup(backend).await;
    for sort in ["note", "-note", "subject,priority", "nonexistent", "subject; DROP TABLE r_purchase_order"] {
        let query = ListQuery { sort: Some(sort.into()), ..Default::default() };
        let message = bad_request(ws.list(&system(), "purchase_order", &query).await);
        assert!(!message.is_empty(), "{sort}");
    }
    // Indexed fields and system keys are fine.
    for sort in ["amount", "-amount,subject", "number", "-created_at", "state,order_date"] {
        let query = ListQuery { sort: Some(sort.into()), ..Default::default() };
        ws.list(&system(), "purchase_order", &query).await.unwrap_or_else(|e| panic!("{sort}: {e:?}"));
    }
}

async fn tampered_cursor_is_400(backend: TestBackend) {
    let (_db, ws, _) = setup(backend).await;
    let sort = Some("-order_date,subject".to_owned());
    let first = ws
        .list(&system(), "purchase_order", &ListQuery { sort: sort.clone(), limit: Some(5), ..Default::default() })
        .await
        .unwrap();
    let cursor = first.next_cursor.expect("more pages");
    let decoded: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&cursor).unwrap()).unwrap();

    let mut flipped = cursor.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let wrong_types = URL_SAFE_NO_PAD.encode(json!({ "k": [1, 2], "id": decoded["id"] }).to_string());
    let wrong_len = URL_SAFE_NO_PAD.encode(json!({ "k": [decoded["k"][0]], "id": decoded["id"] }).to_string());
    let bad_id = URL_SAFE_NO_PAD.encode(json!({ "k": decoded["k"], "id": "not-a-uuid" }).to_string());
    let bad_date = URL_SAFE_NO_PAD.encode(json!({ "k": ["yesterday", "s-001"], "id": decoded["id"] }).to_string());
    let tampered = [
        "not a cursor".to_owned(),
        String::from_utf8(flipped).unwrap(),
        format!("{cursor}!!"),
        wrong_types,
        wrong_len,
        bad_id,
        bad_date,
        URL_SAFE_NO_PAD.encode("[]"),
    ];
    for cursor in tampered {
        let query = ListQuery { sort: sort.clone(), cursor: Some(cursor.clone()), ..Default::default() };
        let message = bad_request(ws.list(&system(), "purchase_order", &query).await);
        assert!(message.contains("cursor"), "{cursor}: {message}");
    }
    // A cursor made for another sort does not fit this one.
    let other = ws
        .list(&system(), "purchase_order", &ListQuery { limit: Some(5), ..Default::default() })
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let query = ListQuery { sort: sort.clone(), cursor: Some(other), ..Default::default() };
    bad_request(ws.list(&system(), "purchase_order", &query).await);
}
