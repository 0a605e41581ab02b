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
    long_type_and_field_names_get_distinct_names_that_fit,
    names_an_older_weft_made_past_63_bytes_are_adopted_at_migrate,
);

/// A type name of 62 characters (the limit is 63) that differs from its sibling only at
/// the end: `r_<name>` is 64 bytes, past what PostgreSQL keeps of a name.
fn long_name(end: &str) -> String {
    format!("supplier_quality_inspection_report_of_incoming_lots_batchx_{end}")
}

/// The field names that vary between the two long types: two unique reference fields and
/// a second lines field.
struct LongFields {
    refs: [&'static str; 2],
    more: &'static str,
}

/// Names long enough that a lines table, a currency column and unique indexes all run past
/// 63 bytes, and share their first 63 bytes with a sibling's.
const COLLIDING: LongFields = LongFields {
    refs: [
        "inspection_reference_number_assigned_by_quality_team_one",
        "inspection_reference_number_assigned_by_quality_team_two",
    ],
    more: "measurements_taken_on_each_sample_of_the_lot_again",
};

/// Names an older Weft could declare on PostgreSQL too: past 63 bytes, but their first 63
/// bytes differ.
const LEGACY: LongFields = LongFields {
    refs: [
        "first_inspection_reference_number_assigned_by_quality",
        "second_inspection_reference_number_assigned_by_quality",
    ],
    more: "samples_kept_for_later_checks",
};

fn long_type(name: &str, f: &LongFields) -> Value {
    json!({
        "name": name, "label": label("Long", "长"),
        "fields": [
            { "name": f.refs[0], "label": label("Ref 1", "编号1"), "type": "text", "unique": true },
            { "name": f.refs[1], "label": label("Ref 2", "编号2"), "type": "text", "unique": true },
            { "name": "total_cost_of_the_inspection_including_travel_and_lab_fees", "label": label("Cost", "费用"),
              "type": "money" },
            { "name": "measurements_taken_on_each_sample_of_the_lot", "label": label("Lines", "明细"),
              "type": "lines", "fields": [
                { "name": "value", "label": label("Value", "值"), "type": "decimal", "scale": 2 },
                { "name": "fee_charged_by_the_external_laboratory_for_this_one_sample", "label": label("Fee", "费"),
                  "type": "money" }
            ] },
            { "name": f.more, "label": label("More", "更多"),
              "type": "lines", "fields": [ { "name": "value", "label": label("Value", "值"), "type": "integer" } ] }
        ]
    })
}

fn long_record(f: &LongFields, n: u32) -> serde_json::Map<String, Value> {
    object(json!({
        f.refs[0]: format!("A-{n}"),
        f.refs[1]: format!("B-{n}"),
        "total_cost_of_the_inspection_including_travel_and_lab_fees": { "amount": "120.50", "currency": "CNY" },
        "measurements_taken_on_each_sample_of_the_lot": [
            { "value": "1.25", "fee_charged_by_the_external_laboratory_for_this_one_sample":
                { "amount": "8.00", "currency": "USD" } }
        ],
        f.more: [ { "value": 7 } ]
    }))
}

async fn long_type_and_field_names_get_distinct_names_that_fit(backend: TestBackend) {
    let (db, workspace) = fixtures::workspace(backend).await;
    let (one, two) = (long_name("one"), long_name("two"));
    assert_eq!((one.len(), two.len()), (62, 62));
    fixtures::declare(&workspace, &[long_type(&one, &COLLIDING), long_type(&two, &COLLIDING)]).await;
    for name in [&one, &two] {
        let made = workspace.create(&system(), name, long_record(&COLLIDING, 1), None).await.unwrap();
        let id = made.to_json()["id"].as_str().unwrap().parse().unwrap();
        let read = workspace.get(&system(), name, id).await.unwrap().to_json();
        assert_eq!(read["total_cost_of_the_inspection_including_travel_and_lab_fees"]["currency"], "CNY");
        let lines = &read["measurements_taken_on_each_sample_of_the_lot"];
        assert_eq!(lines[0]["fee_charged_by_the_external_laboratory_for_this_one_sample"]["currency"], "USD");
        assert_eq!(read[COLLIDING.more][0]["value"], 7);
        // Each unique index is its own: a second value under one field is refused by that
        // field alone.
        let mut again = long_record(&COLLIDING, 2);
        again.insert(COLLIDING.refs[1].into(), json!("B-1"));
        match workspace.create(&system(), name, again, None).await {
            Err(Error::Unique { fields }) => {
                assert_eq!(fields, [COLLIDING.refs[1]]);
            }
            other => panic!("expected a unique conflict, got {other:?}"),
        }
        workspace.create(&system(), name, long_record(&COLLIDING, 3), None).await.unwrap();
        assert_eq!(workspace.list(&system(), name, &ListQuery::default()).await.unwrap().records.len(), 2);
    }
    let tables = [weft_store::records::spec::table_name(&one), weft_store::records::spec::table_name(&two)];
    assert_ne!(tables[0], tables[1]);
    for table in &tables {
        assert!(table.len() <= 63, "{table}");
        let indexes = db.indexes(table).await;
        // SQLite names its primary key's index itself; it has no length limit.
        assert!(indexes.iter().filter(|i| !i.starts_with("sqlite_autoindex")).all(|i| i.len() <= 63), "{indexes:?}");
    }
    // Migrating again finds nothing to adopt or add.
    workspace.migrate().await.unwrap();
}

async fn names_an_older_weft_made_past_63_bytes_are_adopted_at_migrate(backend: TestBackend) {
    use weft_store::records::spec::{TableSpec, legacy_identifier};
    let store_backend = match backend {
        TestBackend::Sqlite => weft_store::Backend::Sqlite,
        TestBackend::Postgres => weft_store::Backend::Postgres,
    };
    let (db, workspace) = fixtures::workspace(backend).await;
    let name = "supplier_quality_inspection_report_of_lots".to_owned();
    let decl = long_type(&name, &LEGACY);
    fixtures::declare(&workspace, std::slice::from_ref(&decl)).await;
    let made = workspace.create(&system(), &name, long_record(&LEGACY, 1), None).await.unwrap();
    let id = made.to_json()["id"].as_str().unwrap().parse().unwrap();
    let spec = TableSpec::from_decl(&serde_json::from_value(decl).unwrap());
    let indexes = db.indexes(&spec.table).await;
    let lines: Vec<(String, String)> =
        spec.lines().map(|l| (l.table.clone(), format!("r_{name}__{}", l.field))).collect();
    let mut line_indexes = Vec::new();
    for (table, _) in &lines {
        line_indexes.push(db.indexes(table).await);
    }
    workspace.close().await;

    // As an older Weft named them: the long names whole (SQLite) or cut at 63 bytes
    // (PostgreSQL). Indexes first, while the tables have today's names.
    let cut = |raw: &str| legacy_identifier(raw, store_backend);
    let raw_table = format!("r_{name}");
    let mut made_legacy = Vec::new();
    for index in &spec.indexes {
        let raw = format!("{}_{raw_table}__{}", if index.unique { "ux" } else { "ix" }, index.columns.join("__"));
        if cut(&raw) == index.name {
            continue;
        }
        db.execute(&format!("DROP INDEX \"{}\"", index.name)).await;
        // On PostgreSQL two long names could be one cut name: only the first was made.
        if !made_legacy.contains(&cut(&raw)) {
            let columns: Vec<String> = index.columns.iter().map(|c| format!("\"{c}\"")).collect();
            let unique = if index.unique { "UNIQUE " } else { "" };
            db.execute(&format!(
                "CREATE {unique}INDEX \"{}\" ON \"{}\" ({})",
                cut(&raw),
                spec.table,
                columns.join(", ")
            ))
            .await;
            made_legacy.push(cut(&raw));
        }
    }
    for (table, raw) in &lines {
        let index = weft_store::records::spec::lines_index_name(table);
        let legacy = cut(&format!("ix_{raw}__record"));
        if index != legacy {
            db.execute(&format!("DROP INDEX \"{index}\"")).await;
            if !made_legacy.contains(&legacy) {
                db.execute(&format!("CREATE INDEX \"{legacy}\" ON \"{table}\" (record_id, position)")).await;
                made_legacy.push(legacy);
            }
        }
        if &cut(raw) != table {
            db.execute(&format!("ALTER TABLE \"{table}\" RENAME TO \"{}\"", cut(raw))).await;
        }
    }
    let money = "total_cost_of_the_inspection_including_travel_and_lab_fees";
    let currency = weft_store::records::spec::currency_column(money);
    let fee = "fee_charged_by_the_external_laboratory_for_this_one_sample";
    let fee_table = cut(&lines[0].1);
    for (table, column) in [(&spec.table, money), (&fee_table, fee)] {
        let fitted = weft_store::records::spec::currency_column(column);
        assert_ne!(fitted, format!("{column}__currency"));
        let legacy = cut(&format!("{column}__currency"));
        db.execute(&format!("ALTER TABLE \"{table}\" RENAME COLUMN \"{fitted}\" TO \"{legacy}\"")).await;
    }
    assert_eq!(cut(&raw_table), spec.table, "the table's own name fits");

    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    assert_eq!(db.indexes(&spec.table).await, indexes);
    for ((table, _), before) in lines.iter().zip(&line_indexes) {
        assert_eq!(&db.indexes(table).await, before);
    }
    assert!(db.columns(&spec.table).await.contains(&currency));
    let read = workspace.get(&system(), &name, id).await.unwrap().to_json();
    assert_eq!(read["total_cost_of_the_inspection_including_travel_and_lab_fees"]["amount"], "120.50");
    assert_eq!(read[LEGACY.more][0]["value"], 7);
    let fee = &read["measurements_taken_on_each_sample_of_the_lot"][0]["fee_charged_by_the_external_laboratory_for_this_one_sample"];
    assert_eq!(fee["currency"], "USD");
    workspace.create(&system(), &name, long_record(&LEGACY, 2), None).await.unwrap();
    // Nothing left to do the second time.
    workspace.migrate().await.unwrap();
    assert_eq!(db.indexes(&spec.table).await, indexes);
}

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
