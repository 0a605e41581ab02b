//! Row-level reads and writes of records. The façade composes these inside one
//! transaction with history, audit and outbox; nothing here checks access or validates
//! values beyond what the columns demand.

use std::collections::BTreeMap;

use sea_query::{Alias, Asterisk, Cond, Expr, Order, Query, SelectStatement, SimpleExpr, UnionType};
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::schema::Value;

use super::codec::{self, opt_uuid, text, uuid};
use super::spec::{FieldStorage, LinesSpec, SYSTEM_COLUMNS, SqlType, Storage, TableSpec};
use crate::shapes::shaped_variant;
use crate::tx::{DbRow, Rendered, timestamp};
use crate::{Backend, Database, Error, Result, Tx};

/// The columns every record has.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemFields {
    pub id: Uuid,
    pub number: Option<String>,
    pub state: Option<String>,
    pub owner: Option<Uuid>,
    pub party: Option<Uuid>,
    /// The org unit the record belongs to (unit-scoped grants match on it).
    pub unit: Option<Uuid>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub created_by: Uuid,
    pub updated_by: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub system: SystemFields,
    /// Declared fields (lines included as `Value::Lines`); absent means null.
    pub values: BTreeMap<String, Value>,
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Where reads come from: the pool, or the transaction a command runs in (so it sees its
/// own writes and locks nothing extra).
pub enum Source<'a> {
    Db(&'a Database),
    Tx(&'a mut Tx),
}

impl Source<'_> {
    /// The same source for one more read, so a caller can read several times.
    pub fn reborrow(&mut self) -> Source<'_> {
        match self {
            Source::Db(db) => Source::Db(db),
            Source::Tx(tx) => Source::Tx(tx),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Source::Db(db) => db.backend(),
            Source::Tx(tx) => tx.backend(),
        }
    }

    async fn fetch_all(&mut self, statement: &SelectStatement) -> Result<Vec<DbRow>> {
        match self {
            Source::Db(db) => db.fetch_all(statement).await,
            Source::Tx(tx) => tx.fetch_all(statement).await,
        }
    }

    /// A read by key (`Database::lookup_all`).
    async fn lookup_all(&mut self, statement: &SelectStatement) -> Result<Vec<DbRow>> {
        match self {
            Source::Db(db) => db.lookup_all(statement).await,
            Source::Tx(tx) => tx.fetch_all(statement).await,
        }
    }

    /// `lookup_all` of a kept shape.
    async fn lookup_all_rendered(&mut self, statement: Rendered) -> Result<Vec<DbRow>> {
        match self {
            Source::Db(db) => db.lookup_all_rendered(statement).await,
            Source::Tx(tx) => tx.fetch_all_rendered(statement).await,
        }
    }
}

/// Maps constraint failures onto the declared fields they concern.
fn constraint_error(spec: &TableSpec, err: Error) -> Error {
    let Error::Sql(sqlx::Error::Database(db_err)) = &err else { return err };
    match db_err.kind() {
        sqlx::error::ErrorKind::UniqueViolation => {
            let message = db_err.message().to_owned();
            let constraint = db_err.constraint().map(str::to_owned);
            let index = spec.indexes.iter().filter(|i| i.unique).find(|i| match &constraint {
                Some(name) => name == &i.name,
                // SQLite: "UNIQUE constraint failed: r_po.number, r_po.code"
                None => {
                    let listed: Vec<&str> = message
                        .rsplit(": ")
                        .next()
                        .unwrap_or_default()
                        .split(", ")
                        .filter_map(|c| c.split('.').nth(1))
                        .collect();
                    listed == i.columns.iter().map(String::as_str).collect::<Vec<_>>()
                }
            });
            match index {
                Some(index) => Error::Unique { fields: index.fields.clone() },
                None if message.contains(".id") || constraint.as_deref().is_some_and(|c| c.ends_with("_pkey")) => {
                    Error::Unique { fields: vec!["id".into()] }
                }
                None => err,
            }
        }
        sqlx::error::ErrorKind::ForeignKeyViolation => Error::ForeignKey { detail: db_err.message().to_owned() },
        // SQLite reports a RESTRICT action with its own extended codes (787, 1811), which
        // sqlx leaves unclassified.
        _ if matches!(db_err.code().as_deref(), Some("787" | "1811"))
            || db_err.message().contains("FOREIGN KEY constraint failed") =>
        {
            Error::ForeignKey { detail: db_err.message().to_owned() }
        }
        _ => err,
    }
}

pub async fn insert(tx: &mut Tx, spec: &TableSpec, record: &StoredRecord) -> Result<()> {
    insert_many(tx, spec, std::slice::from_ref(record)).await
}

/// The column values of one record's row, in `column_names(spec)` order. Fields missing
/// from `values` are written as null.
fn row_values(
    backend: Backend,
    spec: &TableSpec,
    record: &StoredRecord,
    values: &mut Vec<sea_query::Value>,
    stamps: &mut Stamps,
) -> Result<()> {
    let s = &record.system;
    values.extend([
        uuid(s.id),
        sea_query::Value::String(s.number.clone().map(Box::new)),
        sea_query::Value::String(s.state.clone().map(Box::new)),
        opt_uuid(s.owner),
        opt_uuid(s.party),
        opt_uuid(s.unit),
        s.version.into(),
        stamps.get(backend, s.created_at),
        stamps.get(backend, s.updated_at),
        uuid(s.created_by),
        uuid(s.updated_by),
    ]);
    for field in &spec.fields {
        let value = record.values.get(&field.field).unwrap_or(&Value::Null);
        codec::encode_values(backend, field, value, values)?;
    }
    Ok(())
}

/// The last timestamp bound and its value: the records of one lot share theirs, and
/// formatting one for every row cost more than the rest of its system columns.
#[derive(Default)]
struct Stamps(Option<(OffsetDateTime, sea_query::Value)>);

impl Stamps {
    fn get(&mut self, backend: Backend, at: OffsetDateTime) -> sea_query::Value {
        match &self.0 {
            Some((last, value)) if *last == at => value.clone(),
            _ => {
                let value = timestamp(backend, at);
                self.0 = Some((at, value.clone()));
                value
            }
        }
    }
}

/// The columns of a row insert: the system columns a new row sets (all but `deleted_at`),
/// in the declared order, then the fields'.
fn column_names(spec: &TableSpec) -> Vec<String> {
    let mut columns: Vec<String> =
        SYSTEM_COLUMNS.iter().filter(|(c, _)| *c != "deleted_at").map(|(c, _)| (*c).to_owned()).collect();
    for field in &spec.fields {
        columns.extend(field.columns().into_iter().map(|(c, _)| c));
    }
    columns
}

/// The kept shape of an insert into `table` with `columns`: its name says both, so a
/// changed declaration (a column added or renamed) is another shape.
fn insert_shape(table: &str, columns: &[String]) -> String {
    format!("insert into {table} ({})", columns.join(","))
}

/// An insert of `values` (`columns.len()` a row, in order) into `table`, its text kept.
fn render_rows(backend: Backend, table: &str, columns: &[String], values: Vec<sea_query::Value>) -> Rendered {
    let rows = values.len() / columns.len().max(1);
    shaped_variant(backend, insert_shape(table, columns), rows, values, |v| {
        let mut statement = Query::insert().into_table(a(table)).columns(columns.iter().map(|c| a(c))).to_owned();
        for row in v.chunks(columns.len().max(1)) {
            statement.values_panic(row.iter().cloned().map(SimpleExpr::from));
        }
        statement
    })
}

/// Most bound parameters per statement: SQLite's limit is 32,766, PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// Inserts records (and their lines) with as few statements as the parameter limit
/// allows: a batch of creates costs a handful of round trips, not a handful per record.
pub async fn insert_many(tx: &mut Tx, spec: &TableSpec, records: &[StoredRecord]) -> Result<()> {
    let rendered = render_insert_many(tx.backend(), spec, records)?;
    execute_insert(tx, spec, rendered).await
}

/// New records' rows and lines, rendered before their transaction (`Rendered`). Their
/// numbers, which the naming series hands out inside it, are filled in by `set_numbers`.
#[derive(Debug)]
pub struct RenderedInsert {
    rows: Vec<Rendered>,
    /// Per record, in order: its statement and the index of its `number` value there.
    number_slots: Vec<(usize, usize)>,
    lines: Vec<Rendered>,
}

impl RenderedInsert {
    /// Sets the records' numbers, in the order they were rendered; the records must have
    /// been rendered without one.
    pub fn set_numbers(&mut self, numbers: &[Option<String>]) -> Result<()> {
        if numbers.len() != self.number_slots.len() {
            return Err(Error::Sql(sqlx::Error::Protocol(format!(
                "{} numbers for {} rendered records",
                numbers.len(),
                self.number_slots.len()
            ))));
        }
        for (&(statement, index), number) in self.number_slots.iter().zip(numbers) {
            if let Some(statement) = self.rows.get_mut(statement) {
                statement.set_value(index, sea_query::Value::String(number.clone().map(Box::new)));
            }
        }
        Ok(())
    }
}

/// Renders `insert_many`'s statements for `backend` without running them.
pub fn render_insert_many(backend: Backend, spec: &TableSpec, records: &[StoredRecord]) -> Result<RenderedInsert> {
    let mut rendered = RenderedInsert { rows: Vec::new(), number_slots: Vec::new(), lines: Vec::new() };
    if records.is_empty() {
        return Ok(rendered);
    }
    let columns = column_names(spec);
    let per_chunk = (MAX_PARAMS / columns.len().max(1)).max(1);
    let mut stamps = Stamps::default();
    for chunk in crate::recurring_chunks(records, per_chunk) {
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for (i, record) in chunk.iter().enumerate() {
            row_values(backend, spec, record, &mut values, &mut stamps)?;
            // Every column is one bound value, in `column_names` order; `number` is second.
            rendered.number_slots.push((rendered.rows.len(), i * columns.len() + 1));
        }
        rendered.rows.push(render_rows(backend, &spec.table, &columns, values));
    }
    for lines in spec.lines() {
        let all: Vec<(Uuid, &[BTreeMap<String, Value>])> = records
            .iter()
            .filter_map(|r| match r.values.get(&lines.field) {
                Some(Value::Lines(rows)) if !rows.is_empty() => Some((r.system.id, rows.as_slice())),
                _ => None,
            })
            .collect();
        rendered.lines.extend(render_lines_of(backend, lines, &all)?);
    }
    Ok(rendered)
}

/// Runs what `render_insert_many` rendered.
pub async fn execute_insert(tx: &mut Tx, spec: &TableSpec, rendered: RenderedInsert) -> Result<()> {
    for statement in rendered.rows.into_iter().chain(rendered.lines) {
        tx.execute_rendered(statement).await.map_err(|e| constraint_error(spec, e))?;
    }
    Ok(())
}

async fn insert_lines(tx: &mut Tx, lines: &LinesSpec, record_id: Uuid, rows: &[BTreeMap<String, Value>]) -> Result<()> {
    for statement in render_lines_of(tx.backend(), lines, &[(record_id, rows)])? {
        tx.execute_rendered(statement).await?;
    }
    Ok(())
}

/// Lines of several records in few statements (`recurring_chunks`).
fn render_lines_of(
    backend: Backend,
    lines: &LinesSpec,
    records: &[(Uuid, &[BTreeMap<String, Value>])],
) -> Result<Vec<Rendered>> {
    let mut columns: Vec<String> = ["id", "record_id", "position"].map(str::to_owned).into();
    for field in &lines.fields {
        columns.extend(field.columns().into_iter().map(|(c, _)| c));
    }
    let per_chunk = (MAX_PARAMS / columns.len()).max(1);
    let all: Vec<(Uuid, usize, &BTreeMap<String, Value>)> = records
        .iter()
        .flat_map(|(record_id, rows)| rows.iter().enumerate().map(|(position, row)| (*record_id, position, row)))
        .collect();
    let mut rendered = Vec::new();
    for chunk in crate::recurring_chunks(&all, per_chunk) {
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for &(record_id, position, row) in chunk {
            let id = match row.get("id") {
                Some(Value::Reference(id)) => *id,
                _ => Uuid::now_v7(),
            };
            values.extend([uuid(id), uuid(record_id), (position as i64).into()]);
            for field in &lines.fields {
                let value = row.get(&field.field).unwrap_or(&Value::Null);
                codec::encode_values(backend, field, value, &mut values)?;
            }
        }
        rendered.push(render_rows(backend, &lines.table, &columns, values));
    }
    Ok(rendered)
}

/// Replaces a record's lines with `rows` (lines are always written whole).
pub async fn replace_lines(
    tx: &mut Tx,
    lines: &LinesSpec,
    record_id: Uuid,
    rows: &[BTreeMap<String, Value>],
) -> Result<()> {
    let delete =
        Query::delete().from_table(a(&lines.table)).and_where(Expr::col(a("record_id")).eq(uuid(record_id))).to_owned();
    tx.execute(&delete).await?;
    insert_lines(tx, lines, record_id, rows).await
}

/// What an update may change besides declared fields.
#[derive(Debug, Clone, Default)]
pub struct SystemChanges {
    pub state: Option<String>,
    pub owner: Option<Option<Uuid>>,
    pub party: Option<Option<Uuid>>,
    pub unit: Option<Option<Uuid>>,
    /// `Some(None)` restores, `Some(Some(t))` soft-deletes.
    pub deleted_at: Option<Option<OffsetDateTime>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated {
        version: i64,
    },
    /// The row exists but its version is no longer `expected`.
    Stale,
    NotFound,
}

/// Writes `changes` and bumps the version, only if the row still has `expected` version.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    tx: &mut Tx,
    spec: &TableSpec,
    id: Uuid,
    expected: i64,
    system: &SystemChanges,
    changes: &BTreeMap<String, Value>,
    actor: Uuid,
    at: OffsetDateTime,
) -> Result<UpdateOutcome> {
    let backend = tx.backend();
    let mut statement = Query::update();
    statement
        .table(a(&spec.table))
        .value(a("version"), Expr::col(a("version")).add(1))
        .value(a("updated_at"), Expr::val(timestamp(backend, at)))
        .value(a("updated_by"), Expr::val(uuid(actor)));
    if let Some(state) = &system.state {
        statement.value(a("state"), Expr::val(text(state.clone())));
    }
    if let Some(owner) = system.owner {
        statement.value(a("owner"), Expr::val(opt_uuid(owner)));
    }
    if let Some(party) = system.party {
        statement.value(a("party"), Expr::val(opt_uuid(party)));
    }
    if let Some(unit) = system.unit {
        statement.value(a("unit"), Expr::val(opt_uuid(unit)));
    }
    if let Some(deleted_at) = system.deleted_at {
        let v = match deleted_at {
            Some(t) => timestamp(backend, t),
            None => codec::null(backend, SqlType::Timestamp),
        };
        statement.value(a("deleted_at"), Expr::val(v));
    }
    for field in &spec.fields {
        let Some(value) = changes.get(&field.field) else { continue };
        for (column, v) in codec::encode(backend, field, value)? {
            statement.value(a(&column), Expr::val(v));
        }
    }
    statement.and_where(Expr::col(a("id")).eq(uuid(id))).and_where(Expr::col(a("version")).eq(expected));
    let touched = tx.execute(&statement).await.map_err(|e| constraint_error(spec, e))?;
    if touched == 0 {
        let exists = Query::select()
            .column(a("version"))
            .from(a(&spec.table))
            .and_where(Expr::col(a("id")).eq(uuid(id)))
            .to_owned();
        return Ok(if tx.fetch_optional(&exists).await?.is_some() {
            UpdateOutcome::Stale
        } else {
            UpdateOutcome::NotFound
        });
    }
    for lines in spec.lines() {
        if let Some(Value::Lines(rows)) = changes.get(&lines.field) {
            replace_lines(tx, lines, id, rows).await.map_err(|e| constraint_error(spec, e))?;
        }
    }
    Ok(UpdateOutcome::Updated { version: expected + 1 })
}

/// Removes the row for good (child lines go with it; references follow their on-delete).
pub async fn purge(tx: &mut Tx, spec: &TableSpec, id: Uuid) -> Result<bool> {
    let statement = Query::delete().from_table(a(&spec.table)).and_where(Expr::col(a("id")).eq(uuid(id))).to_owned();
    Ok(tx.execute(&statement).await.map_err(|e| constraint_error(spec, e))? > 0)
}

fn select_all(spec: &TableSpec) -> SelectStatement {
    let mut select = Query::select();
    select.from(a(&spec.table));
    for (column, _) in spec.columns() {
        select.column((a(&spec.table), a(&column)));
    }
    select
}

fn decode_system(row: &DbRow) -> Result<SystemFields> {
    Ok(SystemFields {
        id: row.get("id")?,
        number: row.get("number")?,
        state: row.get("state")?,
        owner: row.get("owner")?,
        party: row.get("party")?,
        unit: row.get("unit")?,
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        deleted_at: row.get("deleted_at")?,
        created_by: row.get("created_by")?,
        updated_by: row.get("updated_by")?,
    })
}

fn decode_fields(row: &DbRow, fields: &[FieldStorage]) -> Result<BTreeMap<String, Value>> {
    let mut values = BTreeMap::new();
    for field in fields {
        if matches!(field.storage, Storage::Lines(_) | Storage::Virtual) {
            continue;
        }
        values.insert(field.field.clone(), codec::decode(row, field)?);
    }
    Ok(values)
}

/// One record by id, with its lines; soft-deleted ones only when asked.
pub async fn get(
    mut source: Source<'_>,
    spec: &TableSpec,
    id: Uuid,
    include_deleted: bool,
) -> Result<Option<StoredRecord>> {
    // Kept per table and columns (a changed declaration is another shape): an app's hook
    // reads records by id inside its transaction, on SQLite's writer thread, where rendering
    // the select afresh each time was a tenth of the writer's time.
    let columns: Vec<String> = spec.columns().into_iter().map(|(c, _)| c).collect();
    let shape = format!("get {} ({}) {}", spec.table, columns.join(","), if include_deleted { "any" } else { "live" });
    let select = shaped_variant(source.backend(), shape, 0, vec![uuid(id)], |v| {
        let mut select = select_all(spec);
        select.and_where(Expr::col((a(&spec.table), a("id"))).eq(v[0].clone()));
        if !include_deleted {
            select.and_where(Expr::col((a(&spec.table), a("deleted_at"))).is_null());
        }
        select
    });
    let Some(row) = source.lookup_all_rendered(select).await?.into_iter().next() else { return Ok(None) };
    let mut record = StoredRecord { system: decode_system(&row)?, values: decode_fields(&row, &spec.fields)? };
    for lines in spec.lines() {
        let rows = load_lines_of(&mut source, lines, id).await?;
        record.values.insert(lines.field.clone(), Value::Lines(rows));
    }
    Ok(Some(record))
}

/// The select of some lines' columns, without its condition.
fn select_lines(lines: &LinesSpec) -> SelectStatement {
    let mut select = Query::select();
    select.from(a(&lines.table)).columns([a("id"), a("record_id")]);
    for field in &lines.fields {
        for (column, _) in field.columns() {
            select.column(a(&column));
        }
    }
    select
}

/// The lines of one record, in position order (a kept shape, as `get`).
async fn load_lines_of(
    source: &mut Source<'_>,
    lines: &LinesSpec,
    record_id: Uuid,
) -> Result<Vec<BTreeMap<String, Value>>> {
    let columns: Vec<String> = lines.fields.iter().flat_map(|f| f.columns().into_iter().map(|(c, _)| c)).collect();
    let shape = format!("lines of {} ({})", lines.table, columns.join(","));
    let select = shaped_variant(source.backend(), shape, 0, vec![uuid(record_id)], |v| {
        let mut select = select_lines(lines);
        select.and_where(Expr::col(a("record_id")).eq(v[0].clone())).order_by(a("position"), Order::Asc);
        select
    });
    let mut out = Vec::new();
    for row in source.lookup_all_rendered(select).await? {
        let mut line = decode_fields(&row, &lines.fields)?;
        line.insert("id".into(), Value::Reference(row.get("id")?));
        out.push(line);
    }
    Ok(out)
}

/// Lines of several records at once, keyed by record, in position order.
async fn load_lines(
    source: &mut Source<'_>,
    lines: &LinesSpec,
    record_ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Vec<BTreeMap<String, Value>>>> {
    let mut select = select_lines(lines);
    select
        .and_where(Expr::col(a("record_id")).is_in(record_ids.iter().map(|id| uuid(*id))))
        .order_by(a("record_id"), Order::Asc)
        .order_by(a("position"), Order::Asc);
    let mut out: BTreeMap<Uuid, Vec<BTreeMap<String, Value>>> = record_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in source.lookup_all(&select).await? {
        let record_id: Uuid = row.get("record_id")?;
        let mut line = decode_fields(&row, &lines.fields)?;
        line.insert("id".into(), Value::Reference(row.get("id")?));
        out.entry(record_id).or_default().push(line);
    }
    Ok(out)
}

/// Whether a live record with this id exists (for reference checks).
pub async fn exists(tx: &mut Tx, table: &str, id: Uuid) -> Result<bool> {
    Ok(tx.fetch_optional(&exists_query(table, id)).await?.is_some())
}

/// `exists`, outside a transaction: to report bad references beside other bad fields
/// before a command is refused.
pub async fn exists_now(db: &Database, table: &str, id: Uuid) -> Result<bool> {
    Ok(db.lookup(&exists_query(table, id)).await?.is_some())
}

fn exists_query(table: &str, id: Uuid) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(a(table))
        .and_where(Expr::col(a("id")).eq(uuid(id)))
        .and_where(Expr::col(a("deleted_at")).is_null())
        .to_owned()
}

/// Live records of `spec` that reference `id` through one of `columns` (restrict checks).
pub async fn referenced_by(tx: &mut Tx, table: &str, column: &str, id: Uuid) -> Result<u64> {
    let select = Query::select()
        .expr_as(Expr::col(a("id")).count(), a("n"))
        .from(a(table))
        .and_where(Expr::col(a(column)).eq(uuid(id)))
        .and_where(Expr::col(a("deleted_at")).is_null())
        .to_owned();
    let row = tx.fetch_optional(&select).await?;
    Ok(row.map(|r| r.get::<i64>("n")).transpose()?.unwrap_or(0) as u64)
}

/// A list request: condition, order, page.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Extra condition (filter, access predicate) already rendered for SQL.
    pub condition: Option<Cond>,
    /// Sort keys (column, descending); `id` is appended as the tie-breaker.
    pub sort: Vec<(String, SqlType, bool)>,
    /// Keyset position: the sort values and id of the last row of the previous page.
    pub after: Option<(Vec<sea_query::Value>, Uuid)>,
    pub limit: u64,
    pub include_deleted: bool,
    /// The access scope as pairwise disjoint arms (one per unit, one for shares), when it
    /// has that form. `list` may then read each arm in list order through an index and
    /// merge them; `condition` still holds the whole predicate (counts, aggregates, and
    /// lists in orders an index cannot serve use it).
    pub arms: Option<ScopeArms>,
}

/// A scope `s1 OR s2 OR …` whose parts match disjoint rows, beside the rest of the
/// condition: `condition` is `rest AND (s1 OR s2 OR …)`.
#[derive(Debug, Clone, Default)]
pub struct ScopeArms {
    pub arms: Vec<Cond>,
    pub rest: Option<Cond>,
}

/// More arms than this and one predicate does better than one ordered read per arm.
const MAX_ARMS: usize = 64;

pub struct ListPage {
    pub records: Vec<StoredRecord>,
    /// Sort values and id of the last row, when more rows may follow.
    pub last: Option<(Vec<sea_query::Value>, Uuid)>,
}

fn base_condition(spec: &TableSpec, request: &ListRequest) -> Cond {
    let mut cond = Cond::all();
    if !request.include_deleted {
        cond = cond.add(Expr::col((a(&spec.table), a("deleted_at"))).is_null());
    }
    if let Some(extra) = &request.condition {
        cond = cond.add(extra.clone());
    }
    cond
}

/// System columns the table declares `NOT NULL` (`id` is the primary key). Declared
/// fields, required or not, are nullable columns.
fn not_null(column: &str) -> bool {
    matches!(column, "id" | "version" | "created_at" | "updated_at")
}

/// The `id` tie-breaker runs in the direction of the last sort key, so that an index on
/// `(…, key, id)` serves the whole order in one direction.
fn id_descending(sort: &[(String, SqlType, bool)]) -> bool {
    sort.last().is_some_and(|(_, _, descending)| *descending)
}

/// One page of records, lines included. Sort order puts nulls last on both backends
/// (nullable keys only: `NOT NULL` system columns carry no null key, so an index serves
/// the order), then `id` in the direction of the last key.
///
/// A scope of disjoint arms (a unit tree) is read in two steps: the merge of the arms
/// picks the page by its keys alone (`id` and the sort columns, which the
/// `(unit, created_at, id, deleted_at)` index holds), then the page's rows are read by id. A division
/// of 21 units thus carries 21 short index ranges through the merge instead of up to
/// 21 × 51 whole rows.
pub async fn list(db: &Database, spec: &TableSpec, request: &ListRequest) -> Result<ListPage> {
    let arms = request.arms.as_ref().filter(|arms| arms_apply(arms, &request.sort));
    let mut source = Source::Db(db);
    let (rows, keys_only) = match arms.and_then(|arms| arms_select(spec, request, arms)) {
        Some(select) => (source.fetch_all(&select).await?, true),
        None => {
            let mut select = select_all(spec);
            let mut cond = base_condition(spec, request);
            if let Some((values, last_id)) = &request.after {
                cond = cond.add(after_condition(&spec.table, &request.sort, values, *last_id));
            }
            select.cond_where(cond);
            order(&mut select, &spec.table, &request.sort);
            select.limit(request.limit + 1);
            (source.fetch_all(&select).await?, false)
        }
    };
    let more = rows.len() as u64 > request.limit;
    let page = &rows[..rows.len().min(usize::try_from(request.limit).unwrap_or(usize::MAX))];
    let mut last = None;
    if more && let Some(row) = page.last() {
        let mut keys = Vec::new();
        for (column, sql, _) in &request.sort {
            keys.push(read_key(row, column, *sql, source.backend())?);
        }
        last = Some((keys, row.get("id")?));
    }
    let mut records = Vec::with_capacity(page.len());
    if keys_only {
        let ids = page.iter().map(|row| row.get::<Uuid>("id")).collect::<Result<Vec<_>>>()?;
        let mut found = by_ids(&mut source, spec, &ids, request.include_deleted).await?;
        // A row deleted between the two reads is left out; the cursor still holds.
        records.extend(ids.iter().filter_map(|id| found.remove(id)));
    } else {
        for row in page {
            records.push(StoredRecord { system: decode_system(row)?, values: decode_fields(row, &spec.fields)? });
        }
    }
    let ids: Vec<Uuid> = records.iter().map(|r| r.system.id).collect();
    if !ids.is_empty() {
        for lines in spec.lines() {
            let mut by_record = load_lines(&mut source, lines, &ids).await?;
            for record in &mut records {
                let rows = by_record.remove(&record.system.id).unwrap_or_default();
                record.values.insert(lines.field.clone(), Value::Lines(rows));
            }
        }
    }
    Ok(ListPage { records, last })
}

/// The rows with these ids (without their lines), by id.
async fn by_ids(
    source: &mut Source<'_>,
    spec: &TableSpec,
    ids: &[Uuid],
    include_deleted: bool,
) -> Result<std::collections::HashMap<Uuid, StoredRecord>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut select = select_all(spec);
    select.and_where(Expr::col((a(&spec.table), a("id"))).is_in(ids.iter().map(|id| uuid(*id))));
    if !include_deleted {
        select.and_where(Expr::col((a(&spec.table), a("deleted_at"))).is_null());
    }
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for row in source.fetch_all(&select).await? {
        let record = StoredRecord { system: decode_system(&row)?, values: decode_fields(&row, &spec.fields)? };
        out.insert(record.system.id, record);
    }
    Ok(out)
}

/// `ORDER BY` the sort keys (nulls last for nullable ones), then `id`, on `table`.
fn order(select: &mut SelectStatement, table: &str, sort: &[(String, SqlType, bool)]) {
    for (column, _, descending) in sort {
        let col = Expr::col((a(table), a(column)));
        if !not_null(column) {
            select.order_by_expr(col.clone().is_null(), Order::Asc);
        }
        select.order_by_expr(col.into(), if *descending { Order::Desc } else { Order::Asc });
    }
    select.order_by((a(table), a("id")), if id_descending(sort) { Order::Desc } else { Order::Asc });
}

/// Arms pay when each can be read in list order off an index and stop after a page:
/// `NOT NULL` keys in one direction (creation time with `(unit, created_at, id, deleted_at)`).
fn arms_apply(arms: &ScopeArms, sort: &[(String, SqlType, bool)]) -> bool {
    let id_desc = id_descending(sort);
    !arms.arms.is_empty()
        && arms.arms.len() <= MAX_ARMS
        && sort.iter().all(|(column, _, descending)| not_null(column) && *descending == id_desc)
}

/// `SELECT * FROM (SELECT * FROM (arm 1 … ORDER BY … LIMIT n+1) UNION ALL …) ORDER BY …
/// LIMIT n+1` over the keys only (`id` and the sort columns): each arm reads at most a
/// page in order, the merge sorts the few keys read. The arms are disjoint, so no row
/// comes twice.
fn arms_select(spec: &TableSpec, request: &ListRequest, arms: &ScopeArms) -> Option<SelectStatement> {
    let mut parts = arms.arms.iter().enumerate().map(|(i, arm)| {
        let mut select = Query::select();
        select.from(a(&spec.table)).column((a(&spec.table), a("id")));
        for (column, _, _) in &request.sort {
            select.column((a(&spec.table), a(column)));
        }
        let mut cond = Cond::all();
        if !request.include_deleted {
            cond = cond.add(Expr::col((a(&spec.table), a("deleted_at"))).is_null());
        }
        if let Some(rest) = &arms.rest {
            cond = cond.add(rest.clone());
        }
        cond = cond.add(arm.clone());
        if let Some((values, last_id)) = &request.after {
            cond = cond.add(after_condition(&spec.table, &request.sort, values, *last_id));
        }
        select.cond_where(cond);
        order(&mut select, &spec.table, &request.sort);
        select.limit(request.limit + 1);
        Query::select().column(Asterisk).from_subquery(select, a(&format!("arm{i}"))).to_owned()
    });
    let mut merged = parts.next()?;
    merged.unions(parts.map(|part| (UnionType::All, part)));
    let mut select = Query::select().column(Asterisk).from_subquery(merged, a("arms")).to_owned();
    order(&mut select, "arms", &request.sort);
    select.limit(request.limit + 1);
    Some(select)
}

fn read_key(row: &DbRow, column: &str, sql: SqlType, backend: Backend) -> Result<sea_query::Value> {
    Ok(match sql {
        SqlType::Text => sea_query::Value::String(row.get::<Option<String>>(column)?.map(Box::new)),
        SqlType::BigInt => sea_query::Value::BigInt(row.get(column)?),
        SqlType::Boolean => sea_query::Value::Bool(row.get(column)?),
        SqlType::Date => sea_query::Value::TimeDate(row.get::<Option<time::Date>>(column)?.map(Box::new)),
        SqlType::Timestamp => match row.get::<Option<OffsetDateTime>>(column)? {
            Some(t) => timestamp(backend, t),
            None => codec::null(backend, SqlType::Timestamp),
        },
        SqlType::Uuid => sea_query::Value::Uuid(row.get::<Option<Uuid>>(column)?.map(Box::new)),
    })
}

fn is_null_value(v: &sea_query::Value) -> bool {
    matches!(
        v,
        sea_query::Value::String(None)
            | sea_query::Value::BigInt(None)
            | sea_query::Value::Bool(None)
            | sea_query::Value::TimeDate(None)
            | sea_query::Value::TimeDateTimeWithTimeZone(None)
            | sea_query::Value::Uuid(None)
    )
}

/// Rows strictly after (values, id) in the order (k1 nulls last, k2 nulls last, …, id in
/// the direction of the last key). When every key is `NOT NULL` and all run in one
/// direction this is one row-value comparison, `(k1, …, id) < (?, …, ?)` (`>` ascending),
/// which both engines read as an index range.
fn after_condition(table: &str, sort: &[(String, SqlType, bool)], values: &[sea_query::Value], last_id: Uuid) -> Cond {
    let col = |c: &str| Expr::col((a(table), a(c)));
    let keys = sort.len().min(values.len());
    let sort = &sort[..keys];
    let id_desc = id_descending(sort);
    let past = |c: &str, v: sea_query::Value, descending: bool| if descending { col(c).lt(v) } else { col(c).gt(v) };
    if sort.iter().all(|(column, _, descending)| not_null(column) && *descending == id_desc) {
        if sort.is_empty() {
            return Cond::all().add(past("id", uuid(last_id), id_desc));
        }
        let mut left: Vec<SimpleExpr> = sort.iter().map(|(column, _, _)| col(column).into()).collect();
        left.push(col("id").into());
        let mut right: Vec<SimpleExpr> = values[..keys].iter().map(|v| SimpleExpr::Value(v.clone())).collect();
        right.push(SimpleExpr::Value(uuid(last_id)));
        let (left, right) = (Expr::tuple(left), Expr::tuple(right));
        return Cond::all().add(if id_desc { left.lt(right) } else { left.gt(right) });
    }
    let mut any = Cond::any();
    for i in 0..=keys {
        // Equal on keys before i, then strictly after on key i (or on id when i == len).
        let mut branch = Cond::all();
        for (j, (column, _, _)) in sort.iter().enumerate().take(i) {
            let v = &values[j];
            branch = branch.add(if is_null_value(v) { col(column).is_null() } else { col(column).eq(v.clone()) });
        }
        if i == keys {
            branch = branch.add(past("id", uuid(last_id), id_desc));
        } else {
            let (column, _, descending) = &sort[i];
            let v = &values[i];
            if is_null_value(v) {
                // Nothing sorts after a null in this key: only the tie-breaker can.
                continue;
            }
            let beyond = past(column, v.clone(), *descending);
            branch = branch.add(if not_null(column) {
                Cond::all().add(beyond)
            } else {
                Cond::any().add(beyond).add(col(column).is_null())
            });
        }
        any = any.add(branch);
    }
    any
}

/// How many records match (same condition as `list`).
pub async fn count(db: &Database, spec: &TableSpec, request: &ListRequest) -> Result<u64> {
    let select = Query::select()
        .expr_as(Expr::col((a(&spec.table), a("id"))).count(), a("n"))
        .from(a(&spec.table))
        .cond_where(base_condition(spec, request))
        .to_owned();
    let row = db.fetch_optional(&select).await?;
    Ok(row.map(|r| r.get::<i64>("n")).transpose()?.unwrap_or(0) as u64)
}

/// A date bucket for grouping by a date or datetime column (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Month,
    Year,
}

#[derive(Debug, Clone)]
pub struct GroupKey {
    pub column: String,
    pub sql: SqlType,
    pub bucket: Option<Bucket>,
    /// The name in the result.
    pub alias: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFn {
    Count,
    /// Rows where the column is not null (the denominator of an average).
    CountValues,
    Sum,
    Min,
    Max,
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub function: AggregateFn,
    /// `None` for `count`.
    pub column: Option<String>,
    pub alias: String,
}

/// One group's key values (as SQL values) and metric results (integers: counts, and sums,
/// minima and maxima of integer or smallest-unit columns).
#[derive(Debug, Clone)]
pub struct GroupRow {
    pub keys: Vec<Option<String>>,
    pub metrics: Vec<Option<i64>>,
}

fn group_expr(spec: &TableSpec, key: &GroupKey, backend: Backend) -> SimpleExpr {
    let c = format!("\"{}\".\"{}\"", spec.table, key.column);
    let (len, pattern) = match key.bucket {
        None => {
            // Keys come back as text so every column type groups the same way.
            return match backend {
                Backend::Sqlite => match key.sql {
                    SqlType::Uuid => Expr::cust(format!("lower(hex({c}))")),
                    _ => Expr::cust(format!("CAST({c} AS TEXT)")),
                },
                Backend::Postgres => match key.sql {
                    SqlType::Timestamp => {
                        Expr::cust(format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"))
                    }
                    SqlType::Uuid => Expr::cust(format!("replace(CAST({c} AS TEXT), '-', '')")),
                    _ => Expr::cust(format!("CAST({c} AS TEXT)")),
                },
            };
        }
        Some(Bucket::Day) => (10, "YYYY-MM-DD"),
        Some(Bucket::Month) => (7, "YYYY-MM"),
        Some(Bucket::Year) => (4, "YYYY"),
    };
    match (backend, key.sql) {
        (Backend::Sqlite, _) => Expr::cust(format!("substr({c}, 1, {len})")),
        (Backend::Postgres, SqlType::Timestamp) => Expr::cust(format!("to_char({c} AT TIME ZONE 'UTC', '{pattern}')")),
        (Backend::Postgres, _) => Expr::cust(format!("to_char({c}, '{pattern}')")),
    }
}

/// Groups the records `request` selects and computes `metrics` per group, largest groups
/// first. The same condition as `list` and `count`: access scope included.
pub async fn aggregate(
    db: &Database,
    spec: &TableSpec,
    request: &ListRequest,
    keys: &[GroupKey],
    metrics: &[Metric],
    limit: u64,
) -> Result<Vec<GroupRow>> {
    let backend = db.backend();
    let mut select = Query::select();
    select.from(a(&spec.table)).cond_where(base_condition(spec, request));
    for (i, key) in keys.iter().enumerate() {
        let expr = group_expr(spec, key, backend);
        select.expr_as(expr.clone(), a(&format!("k{i}")));
        select.add_group_by([expr]);
    }
    for (i, metric) in metrics.iter().enumerate() {
        let expr: SimpleExpr = match (metric.function, &metric.column) {
            (AggregateFn::Count, _) | (_, None) => Expr::col((a(&spec.table), a("id"))).count(),
            (AggregateFn::CountValues, Some(c)) => Expr::col((a(&spec.table), a(c))).count(),
            (AggregateFn::Sum, Some(c)) => match backend {
                // PostgreSQL sums BIGINT into NUMERIC; the values are smallest units, so
                // bring the sum back to BIGINT (it fits whenever the total does).
                Backend::Postgres => Expr::cust(format!("CAST(SUM(\"{}\".\"{c}\") AS BIGINT)", spec.table)),
                Backend::Sqlite => Expr::col((a(&spec.table), a(c))).sum(),
            },
            (AggregateFn::Min, Some(c)) => Expr::col((a(&spec.table), a(c))).min(),
            (AggregateFn::Max, Some(c)) => Expr::col((a(&spec.table), a(c))).max(),
        };
        select.expr_as(expr, a(&format!("m{i}")));
    }
    if !keys.is_empty() {
        select.order_by_expr(Expr::col((a(&spec.table), a("id"))).count(), Order::Desc);
        for i in 0..keys.len() {
            select.order_by(a(&format!("k{i}")), Order::Asc);
        }
    }
    select.limit(limit);
    let rows = db.fetch_all(&select).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut group = GroupRow { keys: Vec::with_capacity(keys.len()), metrics: Vec::with_capacity(metrics.len()) };
        for i in 0..keys.len() {
            group.keys.push(row.get::<Option<String>>(&format!("k{i}"))?);
        }
        for i in 0..metrics.len() {
            group.metrics.push(row.get::<Option<i64>>(&format!("m{i}"))?);
        }
        out.push(group);
    }
    Ok(out)
}

/// Which of `ids` name live records of `table` (one query per `recurring_chunks` chunk).
pub async fn existing(tx: &mut Tx, table: &str, ids: &[Uuid]) -> Result<std::collections::HashSet<Uuid>> {
    let mut found = std::collections::HashSet::new();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in crate::recurring_chunks(&ids, crate::MAX_ROWS) {
        let select = Query::select()
            .column(a("id"))
            .from(a(table))
            .and_where(Expr::col(a("id")).is_in(chunk.iter().map(|id| uuid(*id))))
            .and_where(Expr::col(a("deleted_at")).is_null())
            .to_owned();
        for row in tx.fetch_all(&select).await? {
            found.insert(row.get::<Uuid>("id")?);
        }
    }
    Ok(found)
}
