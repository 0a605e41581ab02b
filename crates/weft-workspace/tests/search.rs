//! Full-text search on both databases: Chinese and English words find records and messages,
//! and nothing is found that the searcher could not read — another supplier's order, an
//! internal message, a type without read, a hidden field — nor what was deleted or edited
//! away. The index is each node's own: deleted, it is rebuilt; a second node catches up.

use serde_json::{Map, Value, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::MessageVisibility;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases, people};
use weft_workspace::collab::{MessageEdit, NewMessage};
use weft_workspace::search::{SearchIndex, SearchKind, SearchPage, SearchQuery};
use weft_workspace::{Created, DeclareOptions, Error, Workspace};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn message(body: &str, visibility: MessageVisibility) -> NewMessage {
    NewMessage {
        body: body.into(),
        visibility: Some(visibility),
        reply_to: None,
        mentions: Vec::new(),
        records: Vec::new(),
        attachments: Vec::new(),
    }
}

struct Fixture {
    ws: Workspace,
    db: TestDatabase,
    staff: Principal,
    supplier_a: Principal,
    supplier_b: Principal,
    /// Reads orders but not contracts, and never an order's `cost_note`.
    buyer: Principal,
    order_a: Uuid,
    order_b: Uuid,
}

async fn connect(db: &TestDatabase, index: SearchIndex) -> Workspace {
    Workspace::connect(&db.store_options()).await.unwrap().with_search_index(index)
}

async fn create(ws: &Workspace, who: &Principal, type_name: &str, input: Value) -> Uuid {
    match ws.create(who, type_name, object(input), None).await.unwrap() {
        Created::Fresh(view) => view.system.id,
        Created::Replayed(_) => unreachable!(),
    }
}

async fn fixture(backend: TestBackend) -> Fixture {
    let db = TestDatabase::new(backend).await.unwrap();
    let ws = connect(&db, SearchIndex::in_memory().unwrap()).await;
    ws.migrate().await.unwrap();
    let order = json!({
        "name": "order", "label": {"en": "Order", "zh": "订单"}, "title_field": "subject",
        "fields": [
            {"name": "subject", "label": {"en": "Subject", "zh": "主题"}, "type": "text", "required": true},
            {"name": "notes", "label": {"en": "Notes", "zh": "备注"}, "type": "rich_text"},
            {"name": "cost_note", "label": {"en": "Cost note", "zh": "成本备注"}, "type": "long_text"},
            {"name": "priority", "label": {"en": "Priority", "zh": "优先级"}, "type": "select", "options": [
                {"value": "rush", "label": {"en": "Rush", "zh": "加急"}}]},
            {"name": "lines", "label": {"en": "Lines", "zh": "明细"}, "type": "lines", "fields": [
                {"name": "item", "label": {"en": "Item", "zh": "物料"}, "type": "text"}]}
        ]
    });
    let contract = json!({
        "name": "contract", "label": {"en": "Contract", "zh": "合同"},
        "fields": [{"name": "title", "label": {"en": "Title", "zh": "标题"}, "type": "text"}]
    });
    for decl in [order, contract] {
        ws.declare_type(&Principal::system(), serde_json::from_value(decl).unwrap(), &DeclareOptions::default())
            .await
            .unwrap();
    }
    let buyer_role = json!({
        "name": "order_reader",
        "grants": [{"type": "order", "actions": ["read", "comment"], "scope": "all"}],
        "field_rules": [{"type": "order", "field": "cost_note", "rule": "hidden"}]
    });
    ws.put_role(&Principal::system(), serde_json::from_value(buyer_role).unwrap()).await.unwrap();
    let (party_a, party_b) = (Uuid::now_v7(), Uuid::now_v7());
    let staff = people::member(&ws, &["employee"]).await;
    let order_a = create(
        &ws,
        &staff,
        "order",
        json!({
            "subject": "交货延迟 原因分析", "party": party_a.to_string(),
            "notes": "<p>The <b>late delivery</b> of steel coils</p>", "cost_note": "margin squeeze confidential",
            "priority": "rush", "lines": [{"item": "不锈钢卷板"}]
        }),
    )
    .await;
    let order_b = create(
        &ws,
        &staff,
        "order",
        json!({
            "subject": "Copper rods for line 3", "party": party_b.to_string(),
            "notes": "<p>Supplier B pricing: rival quotation</p>"
        }),
    )
    .await;
    create(&ws, &staff, "contract", json!({"title": "Framework agreement zeppelin"})).await;
    let supplier_a = people::guest(&ws, party_a, &["guest"]).await;
    let supplier_b = people::guest(&ws, party_b, &["guest"]).await;
    let buyer = people::member(&ws, &["order_reader"]).await;
    Fixture { ws, db, staff, supplier_a, supplier_b, buyer, order_a, order_b }
}

impl Fixture {
    async fn search(&self, who: &Principal, q: &str) -> SearchPage {
        self.ws.index_pending().await.unwrap();
        search(&self.ws, who, q).await
    }
}

async fn search(ws: &Workspace, who: &Principal, q: &str) -> SearchPage {
    ws.search(who, &SearchQuery { q: q.into(), ..SearchQuery::default() }).await.unwrap()
}

fn ids(page: &SearchPage) -> Vec<Uuid> {
    page.hits.iter().map(|h| h.id).collect()
}

on_both_databases!(
    chinese_and_english_words_find_records_and_messages,
    suppliers_find_nothing_of_other_suppliers_nor_internal_messages,
    members_find_nothing_of_a_type_they_cannot_read_nor_in_hidden_fields,
    deleted_and_edited_text_is_no_longer_found,
    pages_follow_each_other_without_repeats,
    the_index_is_rebuilt_when_its_folder_is_deleted,
    a_second_node_catches_up_with_its_own_index,
    the_running_indexer_makes_changes_searchable_within_a_second,
);

async fn chinese_and_english_words_find_records_and_messages(backend: TestBackend) {
    let f = fixture(backend).await;
    let posted =
        f.ws.post_on_record(
            &f.staff,
            "order",
            f.order_a,
            message("**Late delivery**: 港口拥堵导致交货延迟", MessageVisibility::Internal),
        )
        .await
        .unwrap();

    let page = f.search(&f.staff, "交货延迟 原因").await;
    assert_eq!(ids(&page), [f.order_a], "{page:?}");
    let hit = &page.hits[0];
    assert_eq!(
        (hit.kind, hit.type_name.as_str(), hit.title.as_str()),
        (SearchKind::Record, "order", "交货延迟 原因分析")
    );
    assert!(hit.snippet.iter().any(|p| p.hit && p.text == "原因"), "{:?}", hit.snippet);
    assert!(page.next_cursor.is_none());

    let page = f.search(&f.staff, "late delivery").await;
    let found = ids(&page);
    assert!(found.contains(&f.order_a) && found.contains(&posted.id), "{page:?}");
    let message_hit = page.hits.iter().find(|h| h.kind == SearchKind::Message).unwrap();
    let record = message_hit.record.as_ref().unwrap();
    assert_eq!((record.type_name.as_str(), record.id), ("order", f.order_a));
    assert_eq!(message_hit.visibility.as_deref(), Some("internal"));

    // A line's text, a select option's label in either language, rich text without tags.
    assert_eq!(ids(&f.search(&f.staff, "不锈钢").await), [f.order_a]);
    assert_eq!(ids(&f.search(&f.staff, "加急").await), [f.order_a]);
    assert_eq!(ids(&f.search(&f.staff, "rush").await), [f.order_a]);
    assert!(f.search(&f.staff, "<p>").await.hits.is_empty(), "markup is not words");
    // Narrowed to one kind.
    let records_only = SearchQuery { q: "港口拥堵".into(), kind: Some("record".into()), ..SearchQuery::default() };
    assert!(f.ws.search(&f.staff, &records_only).await.unwrap().hits.is_empty());
}

async fn suppliers_find_nothing_of_other_suppliers_nor_internal_messages(backend: TestBackend) {
    let f = fixture(backend).await;
    let internal = message("内部讨论: supplier A margin review", MessageVisibility::Internal);
    f.ws.post_on_record(&f.staff, "order", f.order_a, internal).await.unwrap();
    let shared =
        f.ws.post_on_record(&f.staff, "order", f.order_a, message("请确认 shipping window", MessageVisibility::Shared))
            .await
            .unwrap();
    f.ws.post_on_record(&f.staff, "order", f.order_b, message("shipping window for B", MessageVisibility::Shared))
        .await
        .unwrap();

    // Its own order and the shared message on it.
    assert_eq!(ids(&f.search(&f.supplier_a, "交货延迟").await), [f.order_a]);
    assert_eq!(ids(&f.search(&f.supplier_a, "shipping window").await), [shared.id]);
    // Another supplier's order, by its words; an internal message on its own order.
    assert!(f.search(&f.supplier_a, "rival quotation").await.hits.is_empty());
    assert!(f.search(&f.supplier_a, "copper").await.hits.is_empty());
    assert!(f.search(&f.supplier_a, "margin review").await.hits.is_empty());
    assert!(f.search(&f.supplier_a, "内部讨论").await.hits.is_empty());
    // And the other way round; staff see all of it.
    assert_eq!(ids(&f.search(&f.supplier_b, "copper").await), [f.order_b]);
    assert!(f.search(&f.supplier_b, "交货延迟").await.hits.is_empty());
    assert_eq!(f.search(&f.staff, "shipping window").await.hits.len(), 2);
}

async fn members_find_nothing_of_a_type_they_cannot_read_nor_in_hidden_fields(backend: TestBackend) {
    let f = fixture(backend).await;
    assert_eq!(f.search(&f.staff, "zeppelin").await.hits.len(), 1);
    assert!(f.search(&f.buyer, "zeppelin").await.hits.is_empty(), "no read on contracts");
    // `cost_note` is hidden from the buyer's role: its words find nothing, alone or with
    // visible ones, and never appear in a snippet.
    assert_eq!(ids(&f.search(&f.staff, "margin squeeze").await), [f.order_a]);
    assert!(f.search(&f.buyer, "margin squeeze").await.hits.is_empty());
    assert!(f.search(&f.buyer, "steel confidential").await.hits.is_empty());
    let page = f.search(&f.buyer, "steel").await;
    assert_eq!(ids(&page), [f.order_a]);
    let snippet: String = page.hits[0].snippet.iter().map(|p| p.text.as_str()).collect();
    assert!(!snippet.contains("confidential"), "{snippet}");
}

async fn deleted_and_edited_text_is_no_longer_found(backend: TestBackend) {
    let f = fixture(backend).await;
    let posted = f
        .ws
        .post_on_record(&f.staff, "order", f.order_a, message("pallets arrive Tuesday", MessageVisibility::Internal))
        .await
        .unwrap();
    let gone =
        f.ws.post_on_record(&f.staff, "order", f.order_a, message("obsolete memo walrus", MessageVisibility::Internal))
            .await
            .unwrap();
    assert_eq!(ids(&f.search(&f.staff, "tuesday").await), [posted.id]);
    assert_eq!(ids(&f.search(&f.staff, "walrus").await), [gone.id]);

    let edit = MessageEdit { body: "pallets arrive Thursday".into(), mentions: Vec::new(), records: Vec::new() };
    f.ws.edit_message(&f.staff, posted.id, Some(posted.version), edit).await.unwrap();
    f.ws.delete_message(&f.staff, gone.id).await.unwrap();
    assert!(f.search(&f.staff, "tuesday").await.hits.is_empty(), "the old text");
    assert_eq!(ids(&f.search(&f.staff, "thursday").await), [posted.id], "the new text");
    assert!(f.search(&f.staff, "walrus").await.hits.is_empty(), "a tombstone");

    f.ws.update(&f.staff, "order", f.order_b, None, object(json!({"subject": "Brass fittings"}))).await.unwrap();
    assert!(f.search(&f.staff, "copper").await.hits.is_empty());
    assert_eq!(ids(&f.search(&f.staff, "brass").await), [f.order_b]);
    f.ws.delete(&f.staff, "order", f.order_b, None).await.unwrap();
    assert!(f.search(&f.staff, "brass").await.hits.is_empty(), "a deleted record");
}

async fn pages_follow_each_other_without_repeats(backend: TestBackend) {
    let f = fixture(backend).await;
    for n in 0..7 {
        create(&f.ws, &f.staff, "order", json!({"subject": format!("widget batch {n}")})).await;
    }
    f.ws.index_pending().await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let query = SearchQuery { q: "widget".into(), limit: Some(3), cursor, ..SearchQuery::default() };
        let page = f.ws.search(&f.staff, &query).await.unwrap();
        assert!(page.hits.len() <= 3);
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (7, 7));

    let bad = SearchQuery { q: String::new(), limit: Some(101), cursor: Some("nope".into()), ..SearchQuery::default() };
    let Err(Error::Validation(errors)) = f.ws.search(&f.staff, &bad).await else { panic!("refused") };
    let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/q", "/limit", "/cursor"]);
}

async fn the_index_is_rebuilt_when_its_folder_is_deleted(backend: TestBackend) {
    let f = fixture(backend).await;
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("search");
    let node = connect(&f.db, SearchIndex::open(&dir).unwrap()).await;
    let run = node.index_pending().await.unwrap();
    assert!(run.rebuilt && run.documents >= 3, "{run:?}");
    assert_eq!(ids(&search(&node, &f.staff, "交货延迟").await), [f.order_a]);
    drop(node);

    // Reopened: the position came back from the index's own commit; nothing to rebuild.
    let node = connect(&f.db, SearchIndex::open(&dir).unwrap()).await;
    let run = node.index_pending().await.unwrap();
    assert!(!run.rebuilt, "{run:?}");
    assert_eq!(ids(&search(&node, &f.staff, "交货延迟").await), [f.order_a]);
    drop(node);

    std::fs::remove_dir_all(&dir).unwrap();
    let node = connect(&f.db, SearchIndex::open(&dir).unwrap()).await;
    assert!(node.index_pending().await.unwrap().rebuilt);
    assert_eq!(ids(&search(&node, &f.staff, "交货延迟").await), [f.order_a]);
}

async fn a_second_node_catches_up_with_its_own_index(backend: TestBackend) {
    let f = fixture(backend).await;
    f.ws.index_pending().await.unwrap();
    let second = connect(&f.db, SearchIndex::in_memory().unwrap()).await;
    second.index_pending().await.unwrap();
    // A change made through the first node reaches the second's index from the outbox.
    let posted = f
        .ws
        .post_on_record(&f.staff, "order", f.order_a, message("customs hold on container", MessageVisibility::Internal))
        .await
        .unwrap();
    let run = second.index_pending().await.unwrap();
    assert!(!run.rebuilt && run.events >= 1, "{run:?}");
    assert_eq!(ids(&search(&second, &f.staff, "customs hold").await), [posted.id]);
    // The first node's index has not moved: each follows on its own.
    assert!(search(&f.ws, &f.staff, "customs hold").await.hits.is_empty());
}

async fn the_running_indexer_makes_changes_searchable_within_a_second(backend: TestBackend) {
    let f = fixture(backend).await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let indexer = f.ws.spawn_search_indexer(stopping);
    let id = create(&f.ws, &f.staff, "order", json!({"subject": "urgent gearbox repair"})).await;
    let started = std::time::Instant::now();
    while ids(&search(&f.ws, &f.staff, "gearbox").await) != [id] {
        assert!(started.elapsed() < std::time::Duration::from_millis(1500), "not searchable after 1.5 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    indexer.await.unwrap();
}
