//! The same FEEL filter gives the same records in memory and in SQL, on both databases:
//! random records, random filters (nested `and`/`or`/`not`, nulls, exact decimals at and
//! between the column's places, text, selects, dates).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use uuid::Uuid;
use weft_expr::{Bindings, Limits, RecordContext, Schema};
use weft_model::Principal;
use weft_testkit::{TestBackend, TestDatabase, on_both_databases};
use weft_workspace::{BulkMode, DeclareOptions, ListQuery, Workspace};

/// A small deterministic generator (xorshift), so a failure reproduces exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn record(rng: &mut Rng) -> Map<String, Value> {
    let n = json!(rng.below(10) as i64 - 3);
    // Values on and beside the filters' literals, where rounding mistakes would show.
    let d = json!(rng.pick(&["0.00", "1.50", "2.25", "2.26", "3.99", "4.00", "4.99", "-0.50"]));
    let m = json!({"amount": rng.pick(&["0.00", "10.00", "10.01", "15.50", "29.99", "5.25"]), "currency": "CNY"});
    let t = json!(rng.pick(&["", "a", "ab", "abc", "b", "ba", "B", "x_y", "Zed", "é"]).to_string());
    let s = json!(rng.pick(&["a", "b", "c"]));
    let b = json!(rng.below(2) == 0);
    let dt = json!(format!("2026-01-{:02}", 10 + rng.below(10)));
    let mut out = Map::new();
    for (name, value) in [("n", n), ("d", d), ("m", m), ("t", t), ("s", s), ("b", b), ("dt", dt)] {
        // One value in five is missing: null handling is where SQL and FEEL differ most.
        out.insert(name.into(), if rng.below(5) == 0 { Value::Null } else { value });
    }
    out
}

fn atom(rng: &mut Rng) -> String {
    let k = rng.below(9) as i64 - 4;
    let dec = rng.pick(&["0", "1.5", "2.25", "2.255", "3.999", "-0.5", "4.99"]);
    let text = rng.pick(&["\"\"", "\"a\"", "\"ab\"", "\"b\"", "\"B\"", "\"x_y\"", "\"é\""]);
    let op = rng.pick(&["=", "!=", "<", "<=", ">", ">="]);
    match rng.below(20) {
        // Through the reference `r` into the target record.
        15 => format!("r.tt {op} {text}"),
        16 => format!("r.td {op} {dec}"),
        17 => format!("starts with(r.tt, {text})"),
        18 => format!("r.{} {} null", rng.pick(&["tt", "td"]), rng.pick(&["=", "!="])),
        19 => format!("r.td between {} and {}", k, k + 3),
        0 => format!("n {op} {k}"),
        1 => format!("d {op} {dec}"),
        2 => format!("m {op} {}", rng.pick(&["10", "10.005", "15.5", "0", "29.99"])),
        3 => format!("t {op} {text}"),
        4 => format!("starts with(t, {text})"),
        5 => format!("ends with(t, {text})"),
        6 => format!("contains(t, {text})"),
        7 => format!("s = \"{}\"", rng.pick(&["a", "b", "c"])),
        8 => "s in (\"a\", \"c\")".to_string(),
        9 => format!("b = {}", rng.pick(&["true", "false"])),
        10 => format!("dt {op} date(\"2026-01-{:02}\")", 10 + rng.below(10)),
        11 => format!("{} = null", rng.pick(&["n", "d", "t", "s", "b", "dt", "m"])),
        12 => format!("{} != null", rng.pick(&["n", "d", "t", "s", "b", "dt", "m"])),
        13 => format!("n between {} and {}", k, k + 3),
        _ => format!("d in [{dec}..4]"),
    }
}

fn expression(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.below(3) == 0 {
        return atom(rng);
    }
    match rng.below(3) {
        0 => format!("({} and {})", expression(rng, depth - 1), expression(rng, depth - 1)),
        1 => format!("({} or {})", expression(rng, depth - 1), expression(rng, depth - 1)),
        _ => format!("not({})", expression(rng, depth - 1)),
    }
}

on_both_databases!(filters_agree_in_memory_and_in_sql);

async fn filters_agree_in_memory_and_in_sql(backend: TestBackend) {
    let db = TestDatabase::new(backend).await.unwrap();
    let workspace = Workspace::connect(&db.store_options()).await.unwrap();
    workspace.migrate().await.unwrap();
    let label = json!({"en": "x", "zh": "x"});
    let target = serde_json::from_value(json!({
        "name": "target", "label": label,
        "fields": [
            {"name": "tt", "label": label, "type": "text"},
            {"name": "td", "label": label, "type": "decimal", "scale": 2}
        ]
    }))
    .unwrap();
    let system = Principal::system();
    workspace.declare_type(&system, target, &DeclareOptions::default()).await.unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    // Targets with random values; the last is deleted, so a path into it reads as null.
    let targets: Vec<Map<String, Value>> = (0..6)
        .map(|_| {
            let mut t = Map::new();
            for (name, value) in [
                ("tt", json!(rng.pick(&["", "a", "ab", "b", "B", "x_y", "é"]).to_string())),
                ("td", json!(rng.pick(&["0.00", "1.50", "2.25", "2.26", "3.99", "-0.50"]))),
            ] {
                t.insert(name.into(), if rng.below(4) == 0 { Value::Null } else { value });
            }
            t
        })
        .collect();
    let mut target_ids: Vec<Uuid> = Vec::new();
    for values in &targets {
        let created = workspace.create(&system, "target", values.clone(), None).await.unwrap().to_json();
        target_ids.push(created["id"].as_str().unwrap().parse().unwrap());
    }
    let decl = serde_json::from_value(json!({
        "name": "sample", "label": label,
        "fields": [
            {"name": "r", "label": label, "type": "reference", "target": "target", "on_delete": "set_null"},
            {"name": "n", "label": label, "type": "integer"},
            {"name": "d", "label": label, "type": "decimal", "scale": 2},
            {"name": "m", "label": label, "type": "money", "currency": "CNY"},
            {"name": "t", "label": label, "type": "text"},
            {"name": "s", "label": label, "type": "select", "options": [
                {"value": "a", "label": label}, {"value": "b", "label": label}, {"value": "c", "label": label}]},
            {"name": "b", "label": label, "type": "boolean"},
            {"name": "dt", "label": label, "type": "date"}
        ]
    }))
    .unwrap();
    workspace.declare_type(&system, decl, &DeclareOptions::default()).await.unwrap();
    let decl = workspace.type_decl("sample").unwrap();
    let rows: Vec<Map<String, Value>> = (0..80)
        .map(|_| {
            let mut row = record(&mut rng);
            let r = rng.below(target_ids.len() as u64 + 1) as usize;
            row.insert("r".into(), target_ids.get(r).map_or(Value::Null, |id| json!(id.to_string())));
            row
        })
        .collect();
    workspace.bulk_create(&system, "sample", rows, BulkMode::AllOrNothing).await.unwrap();
    // Deleted once referenced (soft: the references stay).
    let deleted = target_ids[5];
    let version = workspace.get(&system, "target", deleted).await.unwrap().system.version;
    workspace.delete(&system, "target", deleted, Some(version)).await.unwrap();

    let all = workspace.list(&system, "sample", &ListQuery { limit: Some(500), ..ListQuery::default() }).await.unwrap();
    assert_eq!(all.records.len(), 80);

    // In memory, a path reads the target as a reader would load it: deleted ones are gone.
    let target_decl = workspace.type_decl("target").unwrap();
    let schema = Schema::for_type(&decl).with_target("r", Schema::for_type(&target_decl));
    let mut loaded = std::collections::BTreeMap::new();
    for id in &target_ids[..5] {
        loaded.insert(*id, workspace.get(&system, "target", *id).await.unwrap().values);
    }
    let bindings = Bindings::new(weft_store::now());
    let mut compared = 0;
    for _ in 0..400 {
        let source = expression(&mut rng, 3);
        let Ok(checked) = weft_expr::compile(&source, &schema, &Limits::default()) else { continue };
        let in_memory: BTreeSet<Uuid> = all
            .records
            .iter()
            .filter(|r| {
                let related: std::collections::BTreeMap<String, _> = match r.values.get("r") {
                    Some(weft_model::schema::Value::Reference(id)) => {
                        loaded.get(id).map(|t| ("r".to_owned(), t.clone())).into_iter().collect()
                    }
                    _ => Default::default(),
                };
                let context = RecordContext { related: Some(&related), ..RecordContext::new(&r.values, &bindings) };
                weft_expr::matches(&checked, &context).unwrap()
            })
            .map(|r| r.system.id)
            .collect();
        let query = ListQuery { filter: Some(source.clone()), limit: Some(500), ..ListQuery::default() };
        let in_sql: BTreeSet<Uuid> = match workspace.list(&system, "sample", &query).await {
            Ok(page) => page.records.iter().map(|r| r.system.id).collect(),
            // Valid FEEL that is not a filter (none of these templates should be).
            Err(e) => panic!("{source}: {e}"),
        };
        assert_eq!(in_memory, in_sql, "`{source}` matches different records in memory and in SQL");
        compared += 1;
    }
    assert!(compared > 300, "only {compared} expressions compiled");
}
