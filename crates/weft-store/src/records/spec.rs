//! How an object type's declaration maps onto tables and typed columns.
//!
//! - Each type has a table `r_<type>` with the system columns every record has, then one
//!   column per stored field; child lines live in `r_<type>__<field>`.
//! - Exact numbers (decimal, percent, money amounts) are 64-bit integers counted in the
//!   field's smallest unit (`12.50` CNY is `1250`), so sums and comparisons are exact and
//!   identical on SQLite and PostgreSQL. A money field has a second column
//!   `<field>__currency`.
//! - Multi-selects, attachment lists and JSON are JSON text.
//! - Computed fields have a column only when declared `stored`.

use weft_model::schema::{FieldDecl, FieldKind, ObjectTypeDecl, OnDelete};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Text,
    BigInt,
    Boolean,
    Date,
    /// UTC instant: fixed-width text on SQLite, `timestamptz` on PostgreSQL.
    Timestamp,
    Uuid,
}

impl SqlType {
    pub fn sqlite(self) -> &'static str {
        match self {
            SqlType::Text | SqlType::Date | SqlType::Timestamp => "TEXT",
            SqlType::BigInt | SqlType::Boolean => "INTEGER",
            SqlType::Uuid => "BLOB",
        }
    }

    pub fn postgres(self) -> &'static str {
        match self {
            SqlType::Text => "TEXT",
            SqlType::BigInt => "BIGINT",
            SqlType::Boolean => "BOOLEAN",
            SqlType::Date => "DATE",
            SqlType::Timestamp => "TIMESTAMPTZ",
            SqlType::Uuid => "UUID",
        }
    }
}

/// How one field is kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// One column holding the value as is.
    Column { column: String, sql: SqlType },
    /// A decimal or percent as an integer of 10^-scale units.
    Scaled { column: String, scale: u8 },
    /// An amount in 10^-scale units plus its currency.
    Money { amount: String, currency: String, scale: u8 },
    /// A JSON document in a text column (multi-select, attachment list, JSON).
    JsonText { column: String },
    /// A reference to another record, with a foreign key.
    Reference { column: String, target_table: String, on_delete: OnDelete },
    /// Child lines in their own table.
    Lines(Box<LinesSpec>),
    /// Not stored (computed on read).
    Virtual,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldStorage {
    pub field: String,
    pub kind: FieldKind,
    pub storage: Storage,
}

impl FieldStorage {
    /// The physical columns of this field, with their types.
    pub fn columns(&self) -> Vec<(String, SqlType)> {
        match &self.storage {
            Storage::Column { column, sql } => vec![(column.clone(), *sql)],
            Storage::Scaled { column, .. } => vec![(column.clone(), SqlType::BigInt)],
            Storage::Money { amount, currency, .. } => {
                vec![(amount.clone(), SqlType::BigInt), (currency.clone(), SqlType::Text)]
            }
            Storage::JsonText { column } => vec![(column.clone(), SqlType::Text)],
            Storage::Reference { column, .. } => vec![(column.clone(), SqlType::Uuid)],
            Storage::Lines(_) | Storage::Virtual => Vec::new(),
        }
    }

    /// The column filters and sorts on this field use (the amount for money).
    pub fn primary_column(&self) -> Option<&str> {
        match &self.storage {
            Storage::Column { column, .. }
            | Storage::Scaled { column, .. }
            | Storage::JsonText { column }
            | Storage::Reference { column, .. } => Some(column),
            Storage::Money { amount, .. } => Some(amount),
            Storage::Lines(_) | Storage::Virtual => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinesSpec {
    pub field: String,
    pub table: String,
    pub fields: Vec<FieldStorage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// The declared fields this index covers (for naming them in a conflict).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub type_name: String,
    pub table: String,
    pub fields: Vec<FieldStorage>,
    pub indexes: Vec<IndexSpec>,
    pub has_naming: bool,
}

/// System columns, in table order.
pub const SYSTEM_COLUMNS: [(&str, SqlType); 12] = [
    ("id", SqlType::Uuid),
    ("number", SqlType::Text),
    ("state", SqlType::Text),
    ("owner", SqlType::Uuid),
    ("party", SqlType::Uuid),
    ("unit", SqlType::Uuid),
    ("version", SqlType::BigInt),
    ("created_at", SqlType::Timestamp),
    ("updated_at", SqlType::Timestamp),
    ("deleted_at", SqlType::Timestamp),
    ("created_by", SqlType::Uuid),
    ("updated_by", SqlType::Uuid),
];

/// The longest identifier PostgreSQL keeps whole: it cuts longer ones to this many bytes,
/// silently, in every statement.
pub const MAX_IDENTIFIER: usize = 63;

/// `name` made to fit [`MAX_IDENTIFIER`] bytes without losing what tells it apart. A name
/// that fits is kept as it is; a longer one keeps its first 54 bytes and ends in `_` and
/// 8 hex digits of its SHA-256. Cutting alone (what PostgreSQL does) would make two long
/// names that share their first 63 bytes one object — two types with long names, or the
/// unique indexes of two long field names of one type. The same on both backends, so a
/// database moved from SQLite to PostgreSQL keeps its names.
pub fn fit_identifier(name: String) -> String {
    if name.len() <= MAX_IDENTIFIER {
        return name;
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut keep = MAX_IDENTIFIER - 9;
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}_{}", &name[..keep], hex::encode(&digest[..4]))
}

/// The name an older Weft gave an object whose full name is `raw`, as the database holds
/// it: whole on SQLite, cut to [`MAX_IDENTIFIER`] bytes by PostgreSQL.
pub fn legacy_identifier(raw: &str, backend: crate::Backend) -> String {
    let mut keep = raw.len();
    if backend == crate::Backend::Postgres && keep > MAX_IDENTIFIER {
        keep = MAX_IDENTIFIER;
        while !raw.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    raw[..keep].to_owned()
}

pub fn table_name(type_name: &str) -> String {
    fit_identifier(raw_table_name(type_name))
}

pub(crate) fn raw_table_name(type_name: &str) -> String {
    format!("r_{type_name}")
}

pub fn lines_table_name(type_name: &str, field: &str) -> String {
    fit_identifier(raw_lines_table_name(type_name, field))
}

pub(crate) fn raw_lines_table_name(type_name: &str, field: &str) -> String {
    format!("r_{type_name}__{field}")
}

/// The index of a lines table by its record and position.
pub fn lines_index_name(lines_table: &str) -> String {
    fit_identifier(format!("ix_{lines_table}__record"))
}

/// The column of a money field's currency.
pub fn currency_column(amount_column: &str) -> String {
    fit_identifier(raw_currency_column(amount_column))
}

pub(crate) fn raw_currency_column(amount_column: &str) -> String {
    format!("{amount_column}__currency")
}

impl TableSpec {
    pub fn from_decl(decl: &ObjectTypeDecl) -> TableSpec {
        let table = table_name(&decl.name);
        let fields: Vec<FieldStorage> = decl.fields.iter().map(|f| field_storage(&decl.name, f)).collect();
        // Party, unit and creation time carry `created_at, id` so that a scoped list in
        // creation order reads its page off the index; the leading column still serves
        // equality lookups.
        let mut indexes = vec![
            index(&table, &["state"], false),
            index(&table, &["party", "created_at", "id"], false),
            index(&table, &["owner"], false),
            // `deleted_at` last: a unit tree's list reads one arm per unit, and the arm
            // then finds its live rows' keys in the index alone, without a row per key.
            index(&table, &["unit", "created_at", "id", "deleted_at"], false),
            index(&table, &["created_at", "id"], false),
        ];
        if decl.naming.is_some() {
            indexes.push(index(&table, &["number"], true));
        }
        for (f, storage) in decl.fields.iter().zip(&fields) {
            let Some(column) = storage.primary_column() else { continue };
            if f.unique {
                indexes.push(IndexSpec { fields: vec![f.name.clone()], ..index(&table, &[column], true) });
            } else if f.indexed || matches!(storage.storage, Storage::Reference { .. }) {
                indexes.push(IndexSpec { fields: vec![f.name.clone()], ..index(&table, &[column], false) });
            }
        }
        for group in &decl.unique {
            let columns: Vec<&str> = group
                .iter()
                .filter_map(|name| fields.iter().find(|s| &s.field == name).and_then(FieldStorage::primary_column))
                .collect();
            if columns.len() == group.len() {
                indexes.push(IndexSpec { fields: group.clone(), ..index(&table, &columns, true) });
            }
        }
        TableSpec { type_name: decl.name.clone(), table, fields, indexes, has_naming: decl.naming.is_some() }
    }

    pub fn field(&self, name: &str) -> Option<&FieldStorage> {
        self.fields.iter().find(|f| f.field == name)
    }

    pub fn lines(&self) -> impl Iterator<Item = &LinesSpec> {
        self.fields.iter().filter_map(|f| match &f.storage {
            Storage::Lines(spec) => Some(spec.as_ref()),
            _ => None,
        })
    }

    /// Every physical column of the main table, system columns first.
    pub fn columns(&self) -> Vec<(String, SqlType)> {
        let mut out: Vec<(String, SqlType)> = SYSTEM_COLUMNS.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect();
        out.extend(self.fields.iter().flat_map(FieldStorage::columns));
        out
    }

    /// Columns whose names collide (a field `price__currency` beside a money field `price`).
    pub fn column_collisions(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut dup = Vec::new();
        for (name, _) in self.columns() {
            if !seen.insert(name.clone()) {
                dup.push(name);
            }
        }
        dup
    }
}

/// System indexes an older Weft made, superseded by the composite ones above
/// (`Workspace::migrate` drops them): the single-column ones, and the unit index before it
/// carried `deleted_at`.
pub const SUPERSEDED_SYSTEM_INDEXES: [&[&str]; 4] =
    [&["party"], &["unit"], &["created_at"], &["unit", "created_at", "id"]];

/// The name of the index `index` gives `columns` of `table`.
pub fn index_name(table: &str, columns: &[&str], unique: bool) -> String {
    fit_identifier(raw_index_name(table, columns, unique))
}

pub(crate) fn raw_index_name(table: &str, columns: &[&str], unique: bool) -> String {
    format!("{}_{table}__{}", if unique { "ux" } else { "ix" }, columns.join("__"))
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexSpec {
    IndexSpec {
        name: index_name(table, columns, unique),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        unique,
        fields: columns.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn field_storage(type_name: &str, f: &FieldDecl) -> FieldStorage {
    let column = f.name.clone();
    let storage = match &f.kind {
        FieldKind::Text { .. }
        | FieldKind::LongText {}
        | FieldKind::RichText {}
        | FieldKind::Email {}
        | FieldKind::Phone {}
        | FieldKind::Url {}
        | FieldKind::Select { .. } => Storage::Column { column, sql: SqlType::Text },
        FieldKind::Integer { .. } | FieldKind::Duration {} => Storage::Column { column, sql: SqlType::BigInt },
        FieldKind::Boolean {} => Storage::Column { column, sql: SqlType::Boolean },
        FieldKind::Date {} => Storage::Column { column, sql: SqlType::Date },
        FieldKind::Datetime {} => Storage::Column { column, sql: SqlType::Timestamp },
        FieldKind::Party {} | FieldKind::Principal {} | FieldKind::OrgUnit {} => {
            Storage::Column { column, sql: SqlType::Uuid }
        }
        FieldKind::Decimal { .. } | FieldKind::Percent {} => {
            Storage::Scaled { column, scale: f.kind.decimal_places().unwrap_or(0) }
        }
        FieldKind::Money { .. } => Storage::Money {
            currency: currency_column(&column),
            amount: column,
            scale: f.kind.decimal_places().unwrap_or(2),
        },
        FieldKind::MultiSelect { .. } | FieldKind::Json {} => Storage::JsonText { column },
        FieldKind::Attachment { multiple: true } => Storage::JsonText { column },
        FieldKind::Attachment { multiple: false } => Storage::Column { column, sql: SqlType::Text },
        FieldKind::Reference { target, on_delete } => {
            Storage::Reference { column, target_table: table_name(target), on_delete: *on_delete }
        }
        FieldKind::Lines { fields } => Storage::Lines(Box::new(LinesSpec {
            field: f.name.clone(),
            table: lines_table_name(type_name, &f.name),
            fields: fields.iter().map(|lf| field_storage(type_name, lf)).collect(),
        })),
        FieldKind::Computed { stored: false, .. } => Storage::Virtual,
        FieldKind::Computed { result, stored: true, .. } => {
            let as_field = FieldDecl { kind: result.field_kind(), ..f.clone() };
            return FieldStorage { kind: f.kind.clone(), ..field_storage(type_name, &as_field) };
        }
    };
    FieldStorage { field: f.name.clone(), kind: f.kind.clone(), storage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_fit_are_kept_and_long_ones_stay_apart() {
        assert_eq!(table_name("purchase_order"), "r_purchase_order");
        assert_eq!(fit_identifier("a".repeat(63)), "a".repeat(63));
        let one = fit_identifier(format!("{}_one", "a".repeat(60)));
        let two = fit_identifier(format!("{}_two", "a".repeat(60)));
        assert_ne!(one, two);
        assert_eq!((one.len(), two.len()), (63, 63));
        assert!(one.starts_with(&"a".repeat(54)), "{one}");
        // Stable: the name an installation made must be found again by the next release
        // (the first 4 bytes of SHA-256, in hex).
        assert_eq!(one, format!("{}_d8ed041d", "a".repeat(54)));
    }

    #[test]
    fn legacy_names_are_what_each_database_kept() {
        let raw = format!("r_{}", "b".repeat(70));
        assert_eq!(legacy_identifier(&raw, crate::Backend::Sqlite), raw);
        assert_eq!(legacy_identifier(&raw, crate::Backend::Postgres), raw[..63]);
    }
}
