//! Schema changes for object-type tables, rendered per backend.
//!
//! DDL is built as text: it carries no values, and every identifier in it has passed the
//! declaration check (`[a-z][a-z0-9_]*`) and is quoted besides.
//!
//! **Invariant:** a change never destroys data silently. Adding fields and indexes only
//! adds. Removing a field renames its columns to `_bak<revision>_<column>` (a removed
//! lines field renames its table), changing a field's type keeps the old column the same
//! way beside an empty new one, and narrowing a decimal's scale copies the column to a
//! backup before rescaling. Such steps are marked destructive, and the caller refuses
//! them unless explicitly allowed.

use weft_model::schema::OnDelete;

use super::spec::{
    FieldStorage, IndexSpec, LinesSpec, SUPERSEDED_SYSTEM_INDEXES, SYSTEM_COLUMNS, SqlType, Storage, TableSpec,
    fit_identifier, index_name, legacy_identifier, lines_index_name, raw_currency_column, raw_index_name,
    raw_lines_table_name, raw_table_name,
};
use crate::Backend;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlStep {
    pub sql: String,
    /// What the step does, for `migrate --dry-run` and the admin preview.
    pub description: String,
    pub destructive: bool,
}

fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn sql_type(backend: Backend, t: SqlType) -> &'static str {
    match backend {
        Backend::Sqlite => t.sqlite(),
        Backend::Postgres => t.postgres(),
    }
}

fn on_delete(action: OnDelete) -> &'static str {
    match action {
        OnDelete::Restrict => "RESTRICT",
        OnDelete::SetNull => "SET NULL",
        OnDelete::Cascade => "CASCADE",
    }
}

fn column_def(backend: Backend, field: &FieldStorage, column: &str, t: SqlType) -> String {
    let mut def = format!("{} {}", q(column), sql_type(backend, t));
    if let Storage::Reference { target_table, on_delete: action, .. } = &field.storage {
        def.push_str(&format!(" REFERENCES {}(\"id\") ON DELETE {}", q(target_table), on_delete(*action)));
    }
    def
}

/// Everything needed to create a new type's tables.
pub fn create_plan(spec: &TableSpec, backend: Backend) -> Vec<DdlStep> {
    let mut defs: Vec<String> = SYSTEM_COLUMNS
        .iter()
        .map(|(name, t)| {
            let mut def = format!("{} {}", q(name), sql_type(backend, *t));
            match *name {
                "id" => def.push_str(" PRIMARY KEY"),
                "version" | "created_at" | "updated_at" => def.push_str(" NOT NULL"),
                _ => {}
            }
            def
        })
        .collect();
    for field in &spec.fields {
        for (column, t) in field.columns() {
            defs.push(column_def(backend, field, &column, t));
        }
    }
    let mut steps = vec![DdlStep {
        sql: format!("CREATE TABLE {} (\n  {}\n)", q(&spec.table), defs.join(",\n  ")),
        description: format!("create table {}", spec.table),
        destructive: false,
    }];
    for lines in spec.lines() {
        steps.extend(create_lines_plan(lines, &spec.table, backend));
    }
    for index in &spec.indexes {
        steps.push(create_index(&spec.table, index));
    }
    steps
}

fn create_lines_plan(lines: &LinesSpec, parent_table: &str, backend: Backend) -> Vec<DdlStep> {
    let mut defs = vec![
        format!("\"id\" {} PRIMARY KEY", sql_type(backend, SqlType::Uuid)),
        format!(
            "\"record_id\" {} NOT NULL REFERENCES {}(\"id\") ON DELETE CASCADE",
            sql_type(backend, SqlType::Uuid),
            q(parent_table)
        ),
        format!("\"position\" {} NOT NULL", sql_type(backend, SqlType::BigInt)),
    ];
    for field in &lines.fields {
        for (column, t) in field.columns() {
            defs.push(column_def(backend, field, &column, t));
        }
    }
    vec![
        DdlStep {
            sql: format!("CREATE TABLE {} (\n  {}\n)", q(&lines.table), defs.join(",\n  ")),
            description: format!("create table {} for lines `{}`", lines.table, lines.field),
            destructive: false,
        },
        DdlStep {
            sql: format!(
                "CREATE INDEX {} ON {} (\"record_id\", \"position\")",
                q(&lines_index_name(&lines.table)),
                q(&lines.table)
            ),
            description: format!("index lines of {} by record", lines.table),
            destructive: false,
        },
    ]
}

fn create_index(table: &str, index: &IndexSpec) -> DdlStep {
    let columns: Vec<String> = index.columns.iter().map(|c| q(c)).collect();
    DdlStep {
        sql: format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            q(&index.name),
            q(table),
            columns.join(", ")
        ),
        description: format!(
            "add {}index on {}({})",
            if index.unique { "unique " } else { "" },
            table,
            index.columns.join(", ")
        ),
        destructive: false,
    }
}

/// The columns `table` has in the database now.
pub async fn table_columns(db: &crate::Database, table: &str) -> crate::Result<Vec<String>> {
    use sea_query::{Alias, Expr, Query};
    let select = match db.backend() {
        // The `arg` hidden column of the table-valued pragma names the table.
        Backend::Sqlite => Query::select()
            .expr_as(Expr::col(Alias::new("name")), Alias::new("column_name"))
            .from(Alias::new("pragma_table_info"))
            .and_where(Expr::col(Alias::new("arg")).eq(table))
            .to_owned(),
        // `column_name` is an `sql_identifier`; as text it decodes as a string.
        Backend::Postgres => Query::select()
            .expr_as(Expr::cust("column_name::text"), Alias::new("column_name"))
            .from((Alias::new("information_schema"), Alias::new("columns")))
            .and_where(Expr::col(Alias::new("table_name")).eq(table))
            .and_where(Expr::col(Alias::new("table_schema")).eq(Expr::cust("current_schema()")))
            .to_owned(),
    };
    db.fetch_all(&select).await?.iter().map(|row| row.get::<String>("column_name")).collect()
}

/// The names of the indexes on `table` in the database now.
pub async fn table_indexes(db: &crate::Database, table: &str) -> crate::Result<Vec<String>> {
    use sea_query::{Alias, Expr, Query};
    let select = match db.backend() {
        Backend::Sqlite => Query::select()
            .expr_as(Expr::col(Alias::new("name")), Alias::new("index_name"))
            .from(Alias::new("pragma_index_list"))
            .and_where(Expr::col(Alias::new("arg")).eq(table))
            .to_owned(),
        Backend::Postgres => Query::select()
            .expr_as(Expr::cust("indexname::text"), Alias::new("index_name"))
            .from(Alias::new("pg_indexes"))
            .and_where(Expr::col(Alias::new("tablename")).eq(table))
            .and_where(Expr::col(Alias::new("schemaname")).eq(Expr::cust("current_schema()")))
            .to_owned(),
    };
    db.fetch_all(&select).await?.iter().map(|row| row.get::<String>("index_name")).collect()
}

/// Steps that give a table made by an older Weft the system columns added since (a
/// nullable column each). Nothing when it has them all; `system_indexes_plan` adds their
/// indexes.
pub fn system_columns_plan(spec: &TableSpec, backend: Backend, existing: &[String]) -> Vec<DdlStep> {
    SYSTEM_COLUMNS
        .iter()
        .filter(|(name, _)| !existing.iter().any(|c| c == name))
        .map(|(name, t)| DdlStep {
            sql: format!("ALTER TABLE {} ADD COLUMN {} {}", q(&spec.table), q(name), sql_type(backend, *t)),
            description: format!("add system column {}.{name}", spec.table),
            destructive: false,
        })
        .collect()
}

/// Steps that give a table made by an older Weft the non-unique system indexes it lacks
/// (`existing` names the indexes it has), and drop the single-column ones they supersede
/// (under their names of today, or as an older Weft named them: whole, or cut by
/// PostgreSQL). Nothing when it has them all.
pub fn system_indexes_plan(spec: &TableSpec, backend: Backend, existing: &[String]) -> Vec<DdlStep> {
    let mut steps = Vec::new();
    let system = |c: &String| SYSTEM_COLUMNS.iter().any(|(name, _)| name == c);
    for index in spec.indexes.iter().filter(|i| !i.unique && i.columns.iter().all(system)) {
        if !existing.contains(&index.name) {
            steps.push(create_index(&spec.table, index));
        }
    }
    let raw_table = raw_table_name(&spec.type_name);
    let mut dropped = Vec::new();
    for columns in SUPERSEDED_SYSTEM_INDEXES {
        let names = [
            index_name(&spec.table, columns, false),
            legacy_identifier(&raw_index_name(&raw_table, columns, false), backend),
        ];
        for name in names {
            let current = spec.indexes.iter().any(|i| i.name == name);
            if existing.contains(&name) && !current && !dropped.contains(&name) {
                let by =
                    spec.indexes.iter().find(|i| i.columns.first().map(String::as_str) == columns.first().copied());
                let by = by.map_or_else(String::new, |i| format!(", superseded by ({})", i.columns.join(", ")));
                steps.push(DdlStep {
                    sql: format!("DROP INDEX {}", q(&name)),
                    description: format!("drop index {name}{by}"),
                    destructive: false,
                });
                dropped.push(name);
            }
        }
    }
    steps
}

/// Renames what an older Weft named past [`super::spec::MAX_IDENTIFIER`] bytes — a
/// type's table, its lines tables, a money field's currency column, indexes — to the names
/// [`fit_identifier`] gives them now. On PostgreSQL those objects carry the first 63 bytes
/// of the long name (the server cut it); on SQLite the long name whole. Tables and columns
/// are renamed (their rows stay); an index is dropped and made again under its new name,
/// because SQLite cannot rename one and on PostgreSQL a cut name may have stood for either
/// of two indexes. Each step is applied as it is planned (later ones look at the renamed
/// tables); returns what was done. Nothing for a type whose names always fitted.
pub async fn adopt_fitted_names(db: &crate::Database, spec: &TableSpec) -> crate::Result<Vec<String>> {
    let backend = db.backend();
    let mut done = Vec::new();
    let raw_table = raw_table_name(&spec.type_name);
    rename_table(db, &legacy_identifier(&raw_table, backend), &spec.table, &mut done).await?;
    rename_currency_columns(db, &spec.table, &spec.fields, &mut done).await?;
    let mut fitted: Vec<(String, IndexSpec, String)> = spec
        .indexes
        .iter()
        .map(|i| {
            let columns: Vec<&str> = i.columns.iter().map(String::as_str).collect();
            let raw = raw_index_name(&raw_table, &columns, i.unique);
            (spec.table.clone(), i.clone(), raw)
        })
        .collect();
    for lines in spec.lines() {
        let raw_lines = raw_lines_table_name(&spec.type_name, &lines.field);
        rename_table(db, &legacy_identifier(&raw_lines, backend), &lines.table, &mut done).await?;
        rename_currency_columns(db, &lines.table, &lines.fields, &mut done).await?;
        let index = IndexSpec {
            name: lines_index_name(&lines.table),
            columns: vec!["record_id".into(), "position".into()],
            unique: false,
            fields: Vec::new(),
        };
        fitted.push((lines.table.clone(), index, format!("ix_{raw_lines}__record")));
    }
    let mut before: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (table, index, raw) in fitted {
        let legacy = legacy_identifier(&raw, backend);
        if legacy == index.name {
            continue;
        }
        if !before.contains_key(&table) {
            before.insert(table.clone(), table_indexes(db, &table).await?);
        }
        let existing = &before[&table];
        if !existing.contains(&legacy) || existing.contains(&index.name) {
            continue;
        }
        let now = table_indexes(db, &table).await?;
        let mut sql = Vec::new();
        if now.contains(&legacy) {
            sql.push(format!("DROP INDEX {}", q(&legacy)));
        }
        sql.push(create_index(&table, &index).sql);
        apply(db, sql).await?;
        done.push(format!("index {legacy} made again as {}", index.name));
    }
    Ok(done)
}

async fn rename_table(db: &crate::Database, legacy: &str, fitted: &str, done: &mut Vec<String>) -> crate::Result<()> {
    if legacy == fitted || !table_columns(db, fitted).await?.is_empty() || table_columns(db, legacy).await?.is_empty() {
        return Ok(());
    }
    apply(db, vec![format!("ALTER TABLE {} RENAME TO {}", q(legacy), q(fitted))]).await?;
    done.push(format!("table {legacy} renamed to {fitted}"));
    Ok(())
}

async fn rename_currency_columns(
    db: &crate::Database,
    table: &str,
    fields: &[FieldStorage],
    done: &mut Vec<String>,
) -> crate::Result<()> {
    let mut columns: Option<Vec<String>> = None;
    for field in fields {
        let Storage::Money { amount, currency, .. } = &field.storage else { continue };
        let legacy = legacy_identifier(&raw_currency_column(amount), db.backend());
        if &legacy == currency {
            continue;
        }
        if columns.is_none() {
            columns = Some(table_columns(db, table).await?);
        }
        let existing = columns.as_deref().unwrap_or_default();
        if existing.contains(&legacy) && !existing.contains(currency) {
            apply(db, vec![format!("ALTER TABLE {} RENAME COLUMN {} TO {}", q(table), q(&legacy), q(currency))])
                .await?;
            done.push(format!("column {table}.{legacy} renamed to {currency}"));
        }
    }
    Ok(())
}

async fn apply(db: &crate::Database, sql: Vec<String>) -> crate::Result<()> {
    db.write(move |tx| {
        Box::pin(async move {
            for statement in &sql {
                tx.execute_ddl(statement).await?;
            }
            Ok::<(), crate::Error>(())
        })
    })
    .await
}

fn backup_name(revision: i64, name: &str) -> String {
    fit_identifier(format!("_bak{revision}_{name}"))
}

/// The steps from `old` to `new`. `revision` is the revision being replaced (it names
/// backups, so repeated changes never collide).
pub fn alter_plan(old: &TableSpec, new: &TableSpec, backend: Backend, revision: i64) -> Vec<DdlStep> {
    let mut steps = Vec::new();
    // Indexes go first, so columns they cover can be renamed or rescaled freely.
    for index in old.indexes.iter().filter(|i| !new.indexes.contains(i)) {
        steps.push(DdlStep {
            sql: format!("DROP INDEX {}", q(&index.name)),
            description: format!("drop index {}", index.name),
            destructive: false,
        });
    }
    alter_fields(&old.table, &old.fields, &new.fields, backend, revision, &mut steps);
    for index in new.indexes.iter().filter(|i| !old.indexes.contains(i)) {
        steps.push(create_index(&new.table, index));
    }
    steps
}

fn alter_fields(
    table: &str,
    old: &[FieldStorage],
    new: &[FieldStorage],
    backend: Backend,
    revision: i64,
    steps: &mut Vec<DdlStep>,
) {
    for before in old {
        match new.iter().find(|f| f.field == before.field) {
            None => retire_field(table, before, revision, steps),
            Some(after) if after.storage != before.storage => {
                change_field(table, before, after, backend, revision, steps);
            }
            Some(_) => {}
        }
    }
    for after in new.iter().filter(|f| !old.iter().any(|o| o.field == f.field)) {
        add_field(table, after, backend, steps);
    }
}

fn add_field(table: &str, field: &FieldStorage, backend: Backend, steps: &mut Vec<DdlStep>) {
    if let Storage::Lines(lines) = &field.storage {
        steps.extend(create_lines_plan(lines, table, backend));
        return;
    }
    for (column, t) in field.columns() {
        steps.push(DdlStep {
            sql: format!("ALTER TABLE {} ADD COLUMN {}", q(table), column_def(backend, field, &column, t)),
            description: format!("add column {table}.{column} for field `{}`", field.field),
            destructive: false,
        });
    }
}

fn retire_field(table: &str, field: &FieldStorage, revision: i64, steps: &mut Vec<DdlStep>) {
    if let Storage::Lines(lines) = &field.storage {
        steps.push(DdlStep {
            sql: format!("ALTER TABLE {} RENAME TO {}", q(&lines.table), q(&backup_name(revision, &lines.table))),
            description: format!(
                "remove lines `{}`: table {} kept as {}",
                field.field,
                lines.table,
                backup_name(revision, &lines.table)
            ),
            destructive: true,
        });
        return;
    }
    for (column, _) in field.columns() {
        steps.push(DdlStep {
            sql: format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(&column),
                q(&backup_name(revision, &column))
            ),
            description: format!(
                "remove field `{}`: column {table}.{column} kept as {}",
                field.field,
                backup_name(revision, &column)
            ),
            destructive: true,
        });
    }
}

fn change_field(
    table: &str,
    before: &FieldStorage,
    after: &FieldStorage,
    backend: Backend,
    revision: i64,
    steps: &mut Vec<DdlStep>,
) {
    match (&before.storage, &after.storage) {
        (Storage::Lines(old_lines), Storage::Lines(new_lines)) => {
            alter_fields(&old_lines.table, &old_lines.fields, &new_lines.fields, backend, revision, steps);
        }
        (Storage::Scaled { column, scale: old }, Storage::Scaled { column: new_column, scale: new })
        | (Storage::Money { amount: column, scale: old, .. }, Storage::Money { amount: new_column, scale: new, .. })
            if column == new_column =>
        {
            rescale(table, column, *old, *new, revision, backend, steps)
        }
        (a, b)
            if same_columns(before, after)
                && !matches!((a, b), (Storage::Reference { .. }, _) | (_, Storage::Reference { .. })) =>
        {
            // Same physical columns (a label, a length limit, the options of a select):
            // nothing to change in the table.
        }
        _ => {
            retire_field(table, before, revision, steps);
            add_field(table, after, backend, steps);
        }
    }
}

fn same_columns(a: &FieldStorage, b: &FieldStorage) -> bool {
    a.columns() == b.columns()
}

fn rescale(table: &str, column: &str, old: u8, new: u8, revision: i64, backend: Backend, steps: &mut Vec<DdlStep>) {
    if old == new {
        return;
    }
    let factor = 10_i64.pow(u32::from(old.abs_diff(new)));
    if new > old {
        steps.push(DdlStep {
            sql: format!("UPDATE {} SET {col} = {col} * {factor}", q(table), col = q(column)),
            description: format!("widen {table}.{column} from {old} to {new} decimal places"),
            destructive: false,
        });
        return;
    }
    let backup = backup_name(revision, column);
    steps.push(DdlStep {
        sql: format!("ALTER TABLE {} ADD COLUMN {} {}", q(table), q(&backup), sql_type(backend, SqlType::BigInt)),
        description: format!("keep {table}.{column} as {backup} before narrowing it"),
        destructive: true,
    });
    steps.push(DdlStep {
        sql: format!("UPDATE {} SET {} = {}", q(table), q(&backup), q(column)),
        description: format!("copy {table}.{column} to {backup}"),
        destructive: true,
    });
    // Integer division truncates toward zero on both backends.
    steps.push(DdlStep {
        sql: format!("UPDATE {} SET {col} = {col} / {factor}", q(table), col = q(column)),
        description: format!("narrow {table}.{column} from {old} to {new} decimal places (truncating)"),
        destructive: true,
    });
}

#[cfg(test)]
mod tests {
    use weft_model::schema::ObjectTypeDecl;

    use super::*;

    fn spec(type_name: &str) -> TableSpec {
        let decl: ObjectTypeDecl = serde_json::from_value(serde_json::json!({
            "name": type_name, "label": { "en": "T", "zh": "T" },
            "fields": [ { "name": "title", "label": { "en": "Title", "zh": "标题" }, "type": "text" } ]
        }))
        .expect("a declaration");
        TableSpec::from_decl(&decl)
    }

    fn drops(steps: &[DdlStep]) -> Vec<&str> {
        steps.iter().filter(|s| s.sql.starts_with("DROP INDEX")).map(|s| s.sql.as_str()).collect()
    }

    #[test]
    fn the_three_column_unit_index_gives_way_to_the_covering_one() {
        let spec = spec("work_order");
        let mut existing: Vec<String> = spec.indexes.iter().map(|i| i.name.clone()).collect();
        existing.retain(|n| !n.ends_with("__deleted_at"));
        existing.push("ix_r_work_order__unit__created_at__id".into());
        let steps = system_indexes_plan(&spec, Backend::Sqlite, &existing);
        assert_eq!(drops(&steps), ["DROP INDEX \"ix_r_work_order__unit__created_at__id\""]);
        assert!(steps.iter().any(|s| s.sql.contains("ix_r_work_order__unit__created_at__id__deleted_at")));
    }

    #[test]
    fn a_long_type_names_indexes_keep_distinct_names_within_63_bytes() {
        // 40 characters: PostgreSQL would cut both unit index names to the same 63 bytes.
        let spec = spec("supplier_quality_inspection_report_lines");
        let names: std::collections::BTreeSet<&str> = spec.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names.len(), spec.indexes.len(), "{names:?}");
        assert!(names.iter().all(|n| n.len() <= 63), "{names:?}");
        let existing: Vec<String> = spec.indexes.iter().map(|i| i.name.clone()).collect();
        assert!(system_indexes_plan(&spec, Backend::Postgres, &existing).is_empty());
    }

    #[test]
    fn a_superseded_index_under_its_cut_name_is_dropped() {
        let name = "supplier_quality_inspection_report_lines";
        let spec = spec(name);
        let mut existing: Vec<String> = spec.indexes.iter().map(|i| i.name.clone()).collect();
        let cut = legacy_identifier(&format!("ix_r_{name}__unit__created_at__id"), Backend::Postgres);
        assert_eq!(cut.len(), 63);
        existing.push(cut.clone());
        let steps = system_indexes_plan(&spec, Backend::Postgres, &existing);
        assert_eq!(drops(&steps), [format!("DROP INDEX \"{cut}\"")]);
    }
}
