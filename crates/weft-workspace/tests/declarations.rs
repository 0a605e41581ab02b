//! Changing declarations: adding fields keeps every row; destructive changes need an
//! explicit flag and keep the old data in backup columns; bad declarations are refused with
//! every problem listed.

use std::time::Instant;

use serde_json::{Value, json};
use weft_testkit::fixtures::{self, decl, footprint, label, object, system};
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::{BulkMode, DeclareOptions, Error, ListQuery, Workspace};

on_both_databases!(
    adding_fields_to_a_large_table_keeps_every_row,
    destructive_change_without_the_flag_is_refused_and_changes_nothing,
    removing_a_field_with_the_flag_keeps_its_column_as_a_backup,
    narrowing_a_decimal_with_the_flag_keeps_the_old_values_in_a_backup,
    dry_run_plans_without_changing_anything,
    bad_declaration_is_refused_listing_every_problem,
    a_table_made_before_a_system_column_existed_gets_it_at_migrate,
    a_table_made_before_the_composite_system_indexes_gets_them_at_migrate,
);

async fn a_table_made_before_a_system_column_existed_gets_it_at_migrate(backend: TestBackend) {
    let (db, workspace) = fixtures::workspace(backend).await;
    fixtures::declare(&workspace, &[item(item_fields())]).await;
    let made = workspace.create(&system(), "item", object(json!({ "title": "old" })), None).await.unwrap();
    // As a table of an older Weft: no `unit` column (nor its index).
    db.execute("DROP INDEX ix_r_item__unit__created_at__id__deleted_at").await;
    db.execute("ALTER TABLE r_item DROP COLUMN unit").await;
    assert!(!db.columns("r_item").await.contains(&"unit".to_owned()));
    workspace.close().await;

    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    assert!(db.columns("r_item").await.contains(&"unit".to_owned()));
    let id = made.to_json()["id"].as_str().unwrap().parse().unwrap();
    let old = workspace.get(&system(), "item", id).await.unwrap();
    assert_eq!(old.system.unit, None);
    workspace.create(&system(), "item", object(json!({ "title": "new" })), None).await.unwrap();
    let page = workspace.list(&system(), "item", &ListQuery::default()).await.unwrap();
    assert_eq!(page.records.len(), 2);
    workspace.migrate().await.unwrap();
}

async fn a_table_made_before_the_composite_system_indexes_gets_them_at_migrate(backend: TestBackend) {
    let (db, workspace) = fixtures::workspace(backend).await;
    fixtures::declare(&workspace, &[item(item_fields())]).await;
    workspace.create(&system(), "item", object(json!({ "title": "old" })), None).await.unwrap();
    let composite = [
        "ix_r_item__created_at__id",
        "ix_r_item__party__created_at__id",
        "ix_r_item__unit__created_at__id__deleted_at",
    ];
    let single = ["ix_r_item__created_at", "ix_r_item__party", "ix_r_item__unit"];
    let made = db.indexes("r_item").await;
    assert!(composite.iter().all(|i| made.iter().any(|m| m == i)), "{made:?}");
    assert!(!single.iter().any(|i| made.iter().any(|m| m == i)), "{made:?}");
    // As a table of an older Weft: single-column indexes on party, unit and created_at.
    for (old, new) in single.iter().zip(composite) {
        db.execute(&format!("DROP INDEX {new}")).await;
        let column = old.trim_start_matches("ix_r_item__");
        db.execute(&format!("CREATE INDEX {old} ON r_item ({column})")).await;
    }
    workspace.close().await;

    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    assert_eq!(db.indexes("r_item").await, made);
    let newest = ListQuery { sort: Some("-created_at".into()), ..Default::default() };
    assert_eq!(workspace.list(&system(), "item", &newest).await.unwrap().records.len(), 1);
    // Nothing left to do the second time.
    workspace.migrate().await.unwrap();
    assert_eq!(db.indexes("r_item").await, made);

    // As a table of the Weft before the unit index carried `deleted_at`, upgraded.
    workspace.close().await;
    db.execute("DROP INDEX ix_r_item__unit__created_at__id__deleted_at").await;
    db.execute("CREATE INDEX ix_r_item__unit__created_at__id ON r_item (unit, created_at, id)").await;
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    assert_eq!(db.indexes("r_item").await, made);
}

/// Rows for the large-table test. SQLite: 100,000 as the issue asks (about 26 s to seed
/// through `bulk_create` in a debug build on 2 cores). PostgreSQL: 20,000, because 100,000
/// took 86 s there (five statements per row through the façade); the ALTER itself takes
/// well under a second either way.
fn large(backend: TestBackend) -> i64 {
    match backend {
        TestBackend::Sqlite => 100_000,
        TestBackend::Postgres => 20_000,
    }
}
const CHUNK: i64 = 5_000;

fn item(fields: Value) -> Value {
    json!({ "name": "item", "label": label("Item", "物品"), "fields": fields })
}

fn item_fields() -> Value {
    json!([
        { "name": "title", "label": label("Title", "标题"), "type": "text", "required": true },
        { "name": "qty", "label": label("Quantity", "数量"), "type": "integer", "indexed": true },
        { "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 3 }
    ])
}

fn with_field(mut fields: Value, field: Value) -> Value {
    fields.as_array_mut().unwrap().push(field);
    fields
}

fn without_field(fields: Value, name: &str) -> Value {
    Value::Array(fields.as_array().unwrap().iter().filter(|f| f["name"] != name).cloned().collect())
}

/// `fields` with the field of `field`'s name replaced by `field`.
fn replace_field(fields: Value, field: Value) -> Value {
    Value::Array(
        fields
            .as_array()
            .unwrap()
            .iter()
            .map(|f| if f["name"] == field["name"] { field.clone() } else { f.clone() })
            .collect(),
    )
}

/// The item fields with `price` narrowed from 3 to 2 places.
fn narrowed_price() -> Value {
    replace_field(
        item_fields(),
        json!({ "name": "price", "label": label("Price", "价格"), "type": "decimal", "scale": 2 }),
    )
}

fn options(allow_destructive: bool, dry_run: bool) -> DeclareOptions {
    DeclareOptions { app: "test".into(), allow_destructive, dry_run }
}

/// `price` of row `i`: `i.i3` with three places, e.g. 7 → 7.739.
fn price_units(i: i64) -> i64 {
    i * 1000 + (i * 37) % 1000
}

fn price_text(i: i64) -> String {
    format!("{}.{:03}", i, (i * 37) % 1000)
}

async fn seed(ws: &Workspace, rows: i64) {
    let mut start = 0;
    while start < rows {
        let end = (start + CHUNK).min(rows);
        let chunk =
            (start..end).map(|i| object(json!({ "title": format!("item {i}"), "qty": i, "price": price_text(i) })));
        let created = ws.bulk_create(&system(), "item", chunk.collect(), BulkMode::AllOrNothing).await.expect("bulk");
        assert_eq!(created.len() as i64, end - start);
        start = end;
    }
}

async fn sums(db: &TestDatabase, qty: &str, price: &str) -> (Option<i64>, Option<i64>, Option<i64>) {
    let mut raw = db.raw().await;
    (
        raw.scalar("SELECT COUNT(*) FROM r_item").await,
        raw.scalar(&format!("SELECT CAST(SUM(\"{qty}\") AS BIGINT) FROM r_item")).await,
        raw.scalar(&format!("SELECT CAST(SUM(\"{price}\") AS BIGINT) FROM r_item")).await,
    )
}

fn expected_sums(rows: i64) -> (Option<i64>, Option<i64>, Option<i64>) {
    (Some(rows), Some((0..rows).sum()), Some((0..rows).map(price_units).sum()))
}

async fn adding_fields_to_a_large_table_keeps_every_row(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    ws.declare_type(&system(), decl(&item(item_fields())), &options(false, false)).await.unwrap();
    let rows = large(backend);
    let started = Instant::now();
    seed(&ws, rows).await;
    let seeded = started.elapsed();
    assert_eq!(sums(&db, "qty", "price").await, expected_sums(rows));

    let fields = with_field(
        with_field(
            item_fields(),
            json!({ "name": "colour", "label": label("Colour", "颜色"), "type": "text", "indexed": true }),
        ),
        json!({ "name": "weight", "label": label("Weight", "重量"), "type": "decimal", "scale": 2, "default": "1" }),
    );
    let started = Instant::now();
    let plan = ws.declare_type(&system(), decl(&item(fields)), &options(false, false)).await.expect("added");
    let altered = started.elapsed();
    eprintln!("{backend:?}: seeded {rows} rows in {seeded:?}, added two fields in {altered:?}");
    assert!(plan.applied && !plan.destructive, "{plan:?}");
    assert_eq!(plan.action, "alter");
    assert_eq!(plan.revision, Some(2));

    // Every row, every value, untouched; the new columns are empty.
    assert_eq!(sums(&db, "qty", "price").await, expected_sums(rows));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM r_item WHERE title IS NULL").await, Some(0));
    assert_eq!(db.scalar("SELECT COUNT(colour) FROM r_item").await, Some(0));
    assert_eq!(ws.count(&system(), "item", &ListQuery::default()).await.unwrap(), rows as u64);
    let filter = ListQuery { filter: Some(format!("qty >= {}", rows - 3)), ..Default::default() };
    let page = ws.list(&system(), "item", &filter).await.unwrap();
    let mut read: Vec<(Value, Value, Value, Value)> = page
        .records
        .iter()
        .map(|r| {
            let j = r.to_json();
            (j["qty"].clone(), j["price"].clone(), j["colour"].clone(), j["weight"].clone())
        })
        .collect();
    read.sort_by_key(|r| r.0.as_i64());
    let expected: Vec<(Value, Value, Value, Value)> =
        (rows - 3..rows).map(|i| (json!(i), json!(price_text(i)), Value::Null, Value::Null)).collect();
    assert_eq!(read, expected);

    // The new fields work: filtered and sorted (it is indexed), and defaulted on create.
    let created = ws.create(&system(), "item", object(json!({ "title": "new", "colour": "red" })), None).await.unwrap();
    assert_eq!(created.to_json()["weight"], "1.00");
    let query =
        ListQuery { filter: Some(r#"colour = "red""#.into()), sort: Some("colour".into()), ..Default::default() };
    assert_eq!(ws.list(&system(), "item", &query).await.unwrap().records.len(), 1);
}

async fn small_item_table(backend: TestBackend) -> (TestDatabase, Workspace) {
    let (db, ws) = fixtures::workspace(backend).await;
    ws.declare_type(&system(), decl(&item(item_fields())), &options(false, false)).await.unwrap();
    seed(&ws, 50).await;
    (db, ws)
}

fn destructive(result: Result<weft_workspace::DeclarePlan, Error>) -> Vec<String> {
    match result {
        Err(Error::Destructive(reasons)) => {
            assert_eq!(Error::Destructive(reasons.clone()).code().http_status(), 409);
            reasons
        }
        other => panic!("expected a refused destructive change, got {other:?}"),
    }
}

async fn destructive_change_without_the_flag_is_refused_and_changes_nothing(backend: TestBackend) {
    let (db, ws) = small_item_table(backend).await;
    let before = footprint(&db, &ws).await;
    let columns = db.columns("r_item").await;
    let declared = ws.type_decl("item").unwrap();

    let retyped = json!({ "name": "qty", "label": label("Quantity", "数量"), "type": "text" });
    let changes = [
        ("remove qty", item(without_field(item_fields(), "qty"))),
        ("narrow price", item(narrowed_price())),
        ("retype qty", item(replace_field(item_fields(), retyped))),
    ];
    for (what, change) in changes {
        let reasons = destructive(ws.declare_type(&system(), decl(&change), &options(false, false)).await);
        assert!(!reasons.is_empty(), "{what}: the refusal says why");
        assert_eq!(footprint(&db, &ws).await, before, "{what}: something was written");
        assert_eq!(db.columns("r_item").await, columns, "{what}: the table changed");
        assert_eq!(ws.type_decl("item").unwrap(), declared, "{what}: the declaration changed");
        let revision = ws.types().into_iter().find(|(d, _, _)| d.name == "item").unwrap().2;
        assert_eq!(revision, 1, "{what}");
    }
    assert_eq!(sums(&db, "qty", "price").await, expected_sums(50));
}

async fn removing_a_field_with_the_flag_keeps_its_column_as_a_backup(backend: TestBackend) {
    let (db, ws) = small_item_table(backend).await;
    let plan = ws
        .declare_type(&system(), decl(&item(without_field(item_fields(), "qty"))), &options(true, false))
        .await
        .expect("allowed");
    assert!(plan.applied && plan.destructive, "{plan:?}");
    let columns = db.columns("r_item").await;
    assert!(!columns.contains(&"qty".to_owned()), "{columns:?}");
    assert!(columns.contains(&"_bak1_qty".to_owned()), "{columns:?}");
    assert_eq!(sums(&db, "_bak1_qty", "price").await, expected_sums(50), "the data is still there");

    let page = ws.list(&system(), "item", &ListQuery::default()).await.unwrap();
    assert_eq!(page.records.len(), 50);
    assert!(page.records.iter().all(|r| !r.values.contains_key("qty")));
    // A new field of the old name starts empty beside the backup.
    let back = with_field(
        without_field(item_fields(), "qty"),
        json!({ "name": "qty", "label": label("Quantity", "数量"), "type": "integer" }),
    );
    ws.declare_type(&system(), decl(&item(back)), &options(false, false)).await.expect("re-added");
    assert_eq!(db.scalar("SELECT COUNT(qty) FROM r_item").await, Some(0));
    assert_eq!(sums(&db, "_bak1_qty", "price").await, expected_sums(50));
}

async fn narrowing_a_decimal_with_the_flag_keeps_the_old_values_in_a_backup(backend: TestBackend) {
    let (db, ws) = small_item_table(backend).await;
    let plan = ws.declare_type(&system(), decl(&item(narrowed_price())), &options(true, false)).await.expect("allowed");
    assert!(plan.applied && plan.destructive, "{plan:?}");
    assert!(db.columns("r_item").await.contains(&"_bak1_price".to_owned()));
    assert_eq!(sums(&db, "qty", "_bak1_price").await, expected_sums(50), "old values kept exactly");

    // Row 7 had 7.259: now 7.25 (truncated, never rounded up).
    let query = ListQuery { filter: Some("qty = 7".into()), ..Default::default() };
    let page = ws.list(&system(), "item", &query).await.unwrap();
    assert_eq!(price_text(7), "7.259");
    assert_eq!(page.records[0].to_json()["price"], "7.25");
}

async fn dry_run_plans_without_changing_anything(backend: TestBackend) {
    let (db, ws) = small_item_table(backend).await;
    let before = footprint(&db, &ws).await;
    let columns = db.columns("r_item").await;
    let change = item(with_field(
        without_field(item_fields(), "qty"),
        json!({ "name": "colour", "label": label("Colour", "颜色"), "type": "text" }),
    ));
    let plan = ws.declare_type(&system(), decl(&change), &options(false, true)).await.expect("a dry run plans");
    assert!(!plan.applied && plan.destructive, "{plan:?}");
    assert!(plan.steps.iter().any(|s| s.destructive && s.sql.contains("_bak1_qty")), "{plan:?}");
    assert!(plan.steps.iter().any(|s| !s.destructive && s.sql.contains("colour")), "{plan:?}");
    assert_eq!(footprint(&db, &ws).await, before);
    assert_eq!(db.columns("r_item").await, columns);
}

async fn bad_declaration_is_refused_listing_every_problem(backend: TestBackend) {
    let (db, ws) = fixtures::workspace(backend).await;
    let before = footprint(&db, &ws).await;
    let bad = json!({
        "name": "gizmo",
        "label": label("Gizmo", "小玩意"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text" },
            { "name": "title", "label": label("Title again", "标题"), "type": "integer" },
            { "name": "maker", "label": label("Maker", "制造商"), "type": "reference", "target": "no_such_type" },
            { "name": "select", "label": label("Select", "选择"), "type": "boolean" },
            { "name": "state", "label": label("State", "状态"), "type": "text" }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft", "草稿") },
                { "name": "done", "label": label("Done", "完成") }
            ],
            "transitions": [
                { "name": "finish", "label": label("Finish", "完成"), "from": ["draft"], "to": "done",
                  "guard": "quantity > 0" }
            ]
        }
    });
    let err = ws.declare_type(&system(), decl(&bad), &options(false, false)).await.unwrap_err();
    assert_eq!(err.code().http_status(), 422);
    let Error::Declaration(problems) = err else { panic!("{err:?}") };
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    for expected in
        ["/fields/1/name", "/fields/2/target", "/fields/3/name", "/fields/4/name", "/lifecycle/transitions/0/guard"]
    {
        assert!(pointers.contains(&expected), "{expected} missing from {problems:#?}");
    }
    let guard = problems.iter().find(|p| p.pointer == "/lifecycle/transitions/0/guard").unwrap();
    assert!(guard.reason.contains("quantity"), "{guard:?}");
    assert!(ws.type_decl("gizmo").is_none());
    assert_eq!(footprint(&db, &ws).await, before, "nothing declared, no table");
}
