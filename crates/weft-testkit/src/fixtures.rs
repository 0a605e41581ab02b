//! Shared fixtures for the records kernel tests: declarations (as the JSON an app manifest
//! or the admin API holds), principals, and probes that look at the database behind the
//! façade's back (raw SQL on a separate connection) to prove what was, or was not, written.
//!
//! - `vendor()`: a small type with a unique `code`, a composite unique (`name`, `country`)
//!   and a naming series `V-{####}`; the target of references.
//! - `kitchen_sink()`: one field of every kind, referencing `vendor` (restrict).
//! - `purchase_order()`: naming series `PO-{YYYY}-{#####}`, indexed `order_date`,
//!   `subject` and `amount`, and a lifecycle with a guard, a required input, a field set by
//!   a transition and fields editable per state.
//! - `Footprint`: rows of every record table, history entries, audit entries and the outbox
//!   head, to compare before and after a refused command.

use serde_json::{Map, Value, json};
use sqlx::Connection;
use weft_model::Principal;
use weft_model::schema::ObjectTypeDecl;
use weft_workspace::{DeclareOptions, Workspace};

use crate::{TestBackend, TestDatabase};

pub fn label(en: &str, zh: &str) -> Value {
    json!({ "en": en, "zh": zh })
}

/// A declaration from its JSON (panics on a shape error: fixtures are well-formed).
pub fn decl(value: &Value) -> ObjectTypeDecl {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("fixture declaration does not parse: {e}"))
}

/// The body of a JSON object literal.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected a JSON object, got {other}"),
    }
}

pub fn system() -> Principal {
    Principal::system()
}

pub fn member() -> Principal {
    Principal::member(uuid::Uuid::now_v7())
}

/// A SHA-256 hex digest (lower case) made of `c` repeated.
pub fn digest(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

pub fn vendor() -> Value {
    json!({
        "name": "vendor",
        "label": label("Vendor", "供应商"),
        "naming": { "pattern": "V-{####}" },
        "title_field": "name",
        "fields": [
            { "name": "code", "label": label("Code", "编码"), "type": "text", "max_length": 16,
              "required": true, "unique": true },
            { "name": "name", "label": label("Name", "名称"), "type": "text", "required": true },
            { "name": "country", "label": label("Country", "国家"), "type": "text", "max_length": 2 }
        ],
        "unique": [["name", "country"]]
    })
}

/// One field of every kind. `qty_doubled` is a stored computed field (`qty * 2`).
pub fn kitchen_sink() -> Value {
    let options = |values: &[&str]| -> Value {
        Value::Array(values.iter().map(|v| json!({ "value": v, "label": label(v, v), "color": "blue" })).collect())
    };
    json!({
        "name": "kitchen_sink",
        "label": label("Kitchen sink", "全字段"),
        "fields": [
            { "name": "title", "label": label("Title", "标题"), "type": "text", "max_length": 20, "required": true },
            { "name": "notes", "label": label("Notes", "备注"), "type": "long_text" },
            { "name": "body", "label": label("Body", "正文"), "type": "rich_text" },
            { "name": "qty", "label": label("Quantity", "数量"), "type": "integer", "min": 0, "max": 1000 },
            { "name": "weight", "label": label("Weight", "重量"), "type": "decimal", "scale": 3 },
            { "name": "price_cny", "label": label("Price (CNY)", "价格"), "type": "money", "currency": "CNY" },
            { "name": "price_any", "label": label("Price", "价格"), "type": "money" },
            { "name": "discount", "label": label("Discount", "折扣"), "type": "percent" },
            { "name": "active", "label": label("Active", "启用"), "type": "boolean" },
            { "name": "due", "label": label("Due", "到期"), "type": "date" },
            { "name": "happened_at", "label": label("Happened at", "发生时间"), "type": "datetime" },
            { "name": "lead_time", "label": label("Lead time", "周期"), "type": "duration" },
            { "name": "contact_email", "label": label("E-mail", "邮箱"), "type": "email" },
            { "name": "contact_phone", "label": label("Phone", "电话"), "type": "phone" },
            { "name": "homepage", "label": label("Homepage", "主页"), "type": "url" },
            { "name": "color", "label": label("Colour", "颜色"), "type": "select",
              "options": options(&["red", "green", "blue"]) },
            { "name": "tags", "label": label("Tags", "标签"), "type": "multi_select",
              "options": options(&["a", "b", "c"]) },
            { "name": "vendor", "label": label("Vendor", "供应商"), "type": "reference", "target": "vendor",
              "on_delete": "restrict" },
            { "name": "customer", "label": label("Customer", "客户"), "type": "party" },
            { "name": "assignee", "label": label("Assignee", "负责人"), "type": "principal" },
            { "name": "department", "label": label("Department", "部门"), "type": "org_unit" },
            { "name": "items", "label": label("Items", "明细"), "type": "lines", "fields": [
                { "name": "sku", "label": label("SKU", "物料"), "type": "text", "required": true },
                { "name": "quantity", "label": label("Quantity", "数量"), "type": "integer", "min": 1 },
                { "name": "unit_price", "label": label("Unit price", "单价"), "type": "money", "currency": "CNY" }
            ]},
            { "name": "photo", "label": label("Photo", "照片"), "type": "attachment" },
            { "name": "documents", "label": label("Documents", "文件"), "type": "attachment", "multiple": true },
            { "name": "extra", "label": label("Extra", "扩展"), "type": "json" },
            { "name": "qty_doubled", "label": label("Double quantity", "双倍数量"), "type": "computed",
              "expression": "qty * 2", "result": { "type": "integer" }, "stored": true }
        ]
    })
}

pub fn purchase_order() -> Value {
    json!({
        "name": "purchase_order",
        "label": label("Purchase order", "采购订单"),
        "naming": { "pattern": "PO-{YYYY}-{#####}" },
        "title_field": "subject",
        "fields": [
            { "name": "subject", "label": label("Subject", "主题"), "type": "text", "max_length": 120,
              "required": true, "indexed": true },
            { "name": "order_date", "label": label("Order date", "下单日期"), "type": "date", "indexed": true },
            { "name": "amount", "label": label("Amount", "金额"), "type": "decimal", "scale": 2,
              "indexed": true, "default": "0" },
            { "name": "note", "label": label("Note", "备注"), "type": "text" },
            { "name": "priority", "label": label("Priority", "优先级"), "type": "select", "default": "normal",
              "options": [
                { "value": "low", "label": label("Low", "低") },
                { "value": "normal", "label": label("Normal", "普通") },
                { "value": "high", "label": label("High", "高") }
              ] },
            { "name": "rejection_reason", "label": label("Rejection reason", "驳回原因"), "type": "long_text" }
        ],
        "lifecycle": {
            "initial": "draft",
            "states": [
                { "name": "draft", "label": label("Draft", "草稿") },
                { "name": "submitted", "label": label("Submitted", "已提交"), "editable": ["note"] },
                { "name": "approved", "label": label("Approved", "已批准"), "editable": [], "final": true },
                { "name": "rejected", "label": label("Rejected", "已驳回"), "editable": ["note"] }
            ],
            "transitions": [
                { "name": "submit", "label": label("Submit", "提交"), "from": ["draft", "rejected"],
                  "to": "submitted", "guard": "amount > 0" },
                { "name": "approve", "label": label("Approve", "批准"), "from": ["submitted"], "to": "approved" },
                { "name": "reject", "label": label("Reject", "驳回"), "from": ["submitted"], "to": "rejected",
                  "inputs": [
                    { "name": "reason", "label": label("Reason", "原因"), "type": "long_text", "required": true }
                  ],
                  "set": { "rejection_reason": { "feel": "reason" }, "priority": "low" } }
            ]
        }
    })
}

/// Declares `types` (JSON declarations) through the façade as the system principal.
pub async fn declare(workspace: &Workspace, types: &[Value]) {
    let decls = types.iter().map(decl).collect();
    let options = DeclareOptions { app: "test".into(), ..DeclareOptions::default() };
    workspace.declare_types(&system(), decls, &options).await.expect("fixture declarations are accepted");
}

/// A fresh, migrated database and a workspace over it.
pub async fn workspace(backend: TestBackend) -> (TestDatabase, Workspace) {
    let db = TestDatabase::new(backend).await.expect("test database");
    let workspace = Workspace::connect(&db.store_options()).await.expect("connect");
    workspace.migrate().await.expect("migrate");
    (db, workspace)
}

/// A connection of its own to the test database, beside the workspace's pools.
pub enum RawConnection {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl TestDatabase {
    pub async fn raw(&self) -> RawConnection {
        let url = self.url();
        match self.backend {
            TestBackend::Sqlite => {
                RawConnection::Sqlite(sqlx::SqliteConnection::connect(&url).await.expect("raw SQLite connection"))
            }
            TestBackend::Postgres => {
                RawConnection::Postgres(sqlx::PgConnection::connect(&url).await.expect("raw PostgreSQL connection"))
            }
        }
    }

    /// One integer (or NULL) from `sql`, on a separate connection.
    pub async fn scalar(&self, sql: &str) -> Option<i64> {
        self.raw().await.scalar(sql).await
    }

    /// Runs `sql` on a separate connection and returns the rows affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        self.raw().await.execute(sql).await
    }

    /// Names of the tables of every declared type (`r_…`, lines and backups included).
    pub async fn record_tables(&self) -> Vec<String> {
        let sql = match self.backend {
            TestBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'r\\_%' ESCAPE '\\'"
            }
            TestBackend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_name LIKE 'r\\_%'"
            }
        };
        let mut names: Vec<String> = match self.raw().await {
            RawConnection::Sqlite(mut c) => sqlx::query_scalar(sql).fetch_all(&mut c).await.expect(sql),
            RawConnection::Postgres(mut c) => sqlx::query_scalar(sql).fetch_all(&mut c).await.expect(sql),
        };
        names.sort();
        names
    }

    /// The columns of `table`, in table order.
    pub async fn columns(&self, table: &str) -> Vec<String> {
        match self.raw().await {
            RawConnection::Sqlite(mut c) => sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(table)
                .fetch_all(&mut c)
                .await
                .expect("table columns"),
            RawConnection::Postgres(mut c) => sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut c)
            .await
            .expect("table columns"),
        }
    }
}

impl TestDatabase {
    /// The names of the indexes on `table`, sorted.
    pub async fn indexes(&self, table: &str) -> Vec<String> {
        let mut names: Vec<String> = match self.raw().await {
            RawConnection::Sqlite(mut c) => {
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?")
                    .bind(table)
                    .fetch_all(&mut c)
                    .await
                    .expect("table indexes")
            }
            RawConnection::Postgres(mut c) => sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1",
            )
            .bind(table)
            .fetch_all(&mut c)
            .await
            .expect("table indexes"),
        };
        names.sort();
        names
    }
}

impl RawConnection {
    pub async fn scalar(&mut self, sql: &str) -> Option<i64> {
        match self {
            RawConnection::Sqlite(c) => sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(c).await.expect(sql),
            RawConnection::Postgres(c) => sqlx::query_scalar::<_, Option<i64>>(sql).fetch_one(c).await.expect(sql),
        }
    }

    pub async fn execute(&mut self, sql: &str) -> u64 {
        match self {
            RawConnection::Sqlite(c) => sqlx::query(sql).execute(c).await.expect(sql).rows_affected(),
            RawConnection::Postgres(c) => sqlx::query(sql).execute(c).await.expect(sql).rows_affected(),
        }
    }
}

/// Everything a command may leave behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// `(table, rows)` of every record, lines and backup table.
    pub rows: Vec<(String, i64)>,
    pub history: i64,
    pub audit_entries: u64,
    pub outbox_head: i64,
    pub idempotency_keys: i64,
    pub naming_counters: i64,
}

pub async fn footprint(db: &TestDatabase, workspace: &Workspace) -> Footprint {
    let mut raw = db.raw().await;
    let mut rows = Vec::new();
    for table in db.record_tables().await {
        let n = raw.scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).await.unwrap_or(0);
        rows.push((table, n));
    }
    let audit_entries = match workspace.verify_audit().await.expect("verify audit") {
        weft_store::kernel::audit::AuditVerdict::Intact { entries } => entries,
        broken => panic!("the audit chain is broken: {broken:?}"),
    };
    Footprint {
        rows,
        history: raw.scalar("SELECT COUNT(*) FROM history").await.unwrap_or(0),
        audit_entries,
        outbox_head: weft_store::kernel::outbox::head(workspace.database()).await.expect("outbox head"),
        idempotency_keys: raw.scalar("SELECT COUNT(*) FROM idempotency_keys").await.unwrap_or(0),
        naming_counters: raw
            .scalar("SELECT CAST(COALESCE(SUM(last_value), 0) AS BIGINT) FROM naming_counters")
            .await
            .unwrap_or(0),
    }
}

/// Every key of an expected record object whose actual value differs, plus keys the actual
/// object has that were not expected. In `expected`, the string `"<uuid>"` matches any
/// UUID and `"<timestamp>"` any UTC timestamp (`…Z`).
pub fn mismatches(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare("", expected, actual, &mut out);
    out
}

fn compare(at: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if e == "<uuid>" => {
            if uuid::Uuid::parse_str(a).is_err() {
                out.push(format!("{at}: expected a UUID, got {a:?}"));
            }
        }
        (Value::String(e), Value::String(a)) if e == "<timestamp>" => {
            if !(a.ends_with('Z') && a.len() >= 20 && a.as_bytes().get(10) == Some(&b'T')) {
                out.push(format!("{at}: expected a UTC timestamp, got {a:?}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                match a.get(key) {
                    Some(av) => compare(&format!("{at}/{key}"), ev, av, out),
                    None => out.push(format!("{at}/{key}: missing (expected {ev})")),
                }
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{at}/{key}: unexpected (got {})", a[key]));
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(&format!("{at}/{i}"), ev, av, out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{at}: expected {e}, got {a}")),
    }
}

/// Panics listing every mismatch (see `mismatches`).
#[track_caller]
pub fn assert_matches(what: &str, expected: &Value, actual: &Value) {
    let found = mismatches(expected, actual);
    assert!(found.is_empty(), "{what}: {} mismatch(es):\n  {}\nactual: {actual:#}", found.len(), found.join("\n  "));
}

/// The system keys of a record created by the system principal, version 1, not deleted.
pub fn system_keys(type_name: &str) -> Map<String, Value> {
    let nil = uuid::Uuid::nil().to_string();
    object(json!({
        "id": "<uuid>", "type": type_name, "number": null, "state": null, "owner": nil, "party": null, "unit": null,
        "version": 1, "created_at": "<timestamp>", "updated_at": "<timestamp>", "deleted_at": null,
        "created_by": nil, "updated_by": nil,
    }))
}

pub const LINE_1: &str = "0190f0a0-0000-7000-8000-000000000001";
pub const LINE_2: &str = "0190f0a0-0000-7000-8000-000000000002";
pub const PARTY: &str = "0190f0a0-0000-7000-8000-0000000000aa";
pub const PRINCIPAL: &str = "0190f0a0-0000-7000-8000-0000000000bb";
pub const ORG_UNIT: &str = "0190f0a0-0000-7000-8000-0000000000cc";

/// A `kitchen_sink` create body with a value in every field.
pub fn kitchen_sink_input(vendor: &str) -> Value {
    json!({
        "title": "Kitchen sink 1",
        "notes": "Long\nmulti-line text",
        "body": "<p>Hello <b>world</b><script>alert('x')</script></p>",
        "qty": 42,
        "weight": "1.5",
        "price_cny": "99.9",
        "price_any": { "amount": "1234.5", "currency": "USD" },
        "discount": "12.5",
        "active": true,
        "due": "2026-03-14",
        "happened_at": "2026-03-14T09:30:00.250+08:00",
        "lead_time": "PT1H30M",
        "contact_email": "Li.Lei@Example.COM",
        "contact_phone": "+86 138 0013 8000",
        "homepage": "https://example.com/a?b=c",
        "color": "green",
        "tags": ["c", "a"],
        "vendor": vendor,
        "customer": PARTY,
        "assignee": PRINCIPAL,
        "department": ORG_UNIT,
        "items": [
            { "id": LINE_1, "sku": "A-1", "quantity": 2, "unit_price": "9.9" },
            { "id": LINE_2, "sku": "B-2", "quantity": 1, "unit_price": { "amount": "100", "currency": "CNY" } },
            { "sku": "C-3" }
        ],
        "photo": digest('A'),
        "documents": [digest('b'), digest('c')],
        "extra": { "iban": "CN12 3456", "nested": [1, 2.5, null, { "k": "v" }] }
    })
}

/// What a record created from `kitchen_sink_input` reads back as (system keys included).
pub fn kitchen_sink_expected(vendor: &str) -> Value {
    let mut expected = system_keys("kitchen_sink");
    expected.extend(object(json!({
        "title": "Kitchen sink 1",
        "notes": "Long\nmulti-line text",
        // Sanitised: the script is gone, harmless markup stays.
        "body": "<p>Hello <b>world</b></p>",
        "qty": 42,
        "weight": "1.500",
        "price_cny": { "amount": "99.90", "currency": "CNY" },
        // In the currency's minor units, as it was accepted.
        "price_any": { "amount": "1234.50", "currency": "USD" },
        "discount": "12.5000",
        "active": true,
        "due": "2026-03-14",
        // Given at +08:00, returned in UTC.
        "happened_at": "2026-03-14T01:30:00.250000Z",
        "lead_time": "PT1H30M",
        "contact_email": "Li.Lei@example.com",
        "contact_phone": "+86 138 0013 8000",
        "homepage": "https://example.com/a?b=c",
        "color": "green",
        "tags": ["c", "a"],
        "vendor": vendor,
        "customer": PARTY,
        "assignee": PRINCIPAL,
        "department": ORG_UNIT,
        "items": [
            { "id": LINE_1, "sku": "A-1", "quantity": 2, "unit_price": { "amount": "9.90", "currency": "CNY" } },
            { "id": LINE_2, "sku": "B-2", "quantity": 1, "unit_price": { "amount": "100.00", "currency": "CNY" } },
            { "id": "<uuid>", "sku": "C-3", "quantity": null, "unit_price": null }
        ],
        "photo": [digest('a')],
        "documents": [digest('b'), digest('c')],
        "extra": { "iban": "CN12 3456", "nested": [1, 2.5, null, { "k": "v" }] },
        "qty_doubled": 84
    })));
    Value::Object(expected)
}

/// A `kitchen_sink` with only its required field: every other field reads back null
/// (lines as an empty list).
pub fn kitchen_sink_minimal_expected() -> Value {
    let mut expected = system_keys("kitchen_sink");
    for field in decl(&kitchen_sink()).fields {
        expected.insert(field.name, Value::Null);
    }
    expected.insert("title".into(), json!("Minimal"));
    expected.insert("items".into(), json!([]));
    Value::Object(expected)
}

/// The newest outbox sequence number (0 when empty).
pub async fn outbox_head(workspace: &Workspace) -> i64 {
    weft_store::kernel::outbox::head(workspace.database()).await.expect("outbox head")
}

/// `(kind, payload)` of the outbox events after `after`, oldest first.
pub async fn outbox_after(workspace: &Workspace, after: i64) -> Vec<(String, Value)> {
    weft_store::kernel::outbox::read_after(workspace.database(), after, 10_000)
        .await
        .expect("outbox events")
        .into_iter()
        .map(|e| (e.kind, e.payload))
        .collect()
}
