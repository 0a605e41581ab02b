//! Values to columns and back. See `spec` for the physical representation.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_query::Value as Sql;
use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::schema::{FieldKind, Value};

use super::spec::{FieldStorage, SqlType, Storage};
use crate::tx::{DbRow, timestamp};
use crate::{Backend, Error, Result};

/// A typed NULL: PostgreSQL needs the parameter's type even when it carries no value.
pub fn null(backend: Backend, t: SqlType) -> Sql {
    match t {
        SqlType::Text => Sql::String(None),
        SqlType::BigInt => Sql::BigInt(None),
        SqlType::Boolean => Sql::Bool(None),
        SqlType::Date => Sql::TimeDate(None),
        SqlType::Timestamp => match backend {
            Backend::Sqlite => Sql::String(None),
            Backend::Postgres => Sql::TimeDateTimeWithTimeZone(None),
        },
        SqlType::Uuid => Sql::Uuid(None),
    }
}

pub fn text(s: impl Into<String>) -> Sql {
    Sql::String(Some(Box::new(s.into())))
}

pub fn uuid(id: Uuid) -> Sql {
    Sql::Uuid(Some(Box::new(id)))
}

pub fn opt_uuid(id: Option<Uuid>) -> Sql {
    Sql::Uuid(id.map(Box::new))
}

/// `amount` in units of 10^-scale, refusing what does not fit 64 bits or has more places.
pub fn to_units(field: &str, amount: Decimal, scale: u8) -> Result<i64> {
    let out_of_range = || Error::ValueOutOfRange { field: field.to_owned() };
    let factor = Decimal::from(10_i64.pow(u32::from(scale)));
    let scaled = amount.checked_mul(factor).ok_or_else(out_of_range)?;
    if scaled.fract() != Decimal::ZERO {
        return Err(out_of_range());
    }
    scaled.to_i64().ok_or_else(out_of_range)
}

pub fn from_units(units: i64, scale: u8) -> Decimal {
    Decimal::new(units, u32::from(scale))
}

/// A money amount as shown: the currency's minor units (`1234.50` CNY, `1500` JPY), or
/// more places when the amount has them (a column kept for several currencies is wider
/// than any one of them).
pub fn present_money(amount: Decimal, currency: &str) -> Decimal {
    let minor = u32::from(weft_model::schema::minor_units(currency));
    let mut shown = amount.normalize();
    if shown.scale() < minor {
        shown.rescale(minor);
    }
    shown
}

/// The column values of one field, named.
pub fn encode(backend: Backend, field: &FieldStorage, value: &Value) -> Result<Vec<(String, Sql)>> {
    let mut values = Vec::with_capacity(2);
    encode_values(backend, field, value, &mut values)?;
    Ok(field.columns().into_iter().map(|(column, _)| column).zip(values).collect())
}

/// The column values of one field, in `FieldStorage::columns` order, appended to `out`.
/// Inserts of many rows call this for every field of every row, so it names no columns and
/// allocates nothing besides the values themselves.
pub fn encode_values(backend: Backend, field: &FieldStorage, value: &Value, out: &mut Vec<Sql>) -> Result<()> {
    let wrong = || Error::ValueOutOfRange { field: field.field.clone() };
    match (&field.storage, value) {
        (Storage::Lines(_) | Storage::Virtual, _) => {}
        (Storage::Money { .. }, Value::Null) => out.extend([Sql::BigInt(None), Sql::String(None)]),
        (Storage::Column { sql, .. }, Value::Null) => out.push(null(backend, *sql)),
        (Storage::Scaled { .. }, Value::Null) => out.push(null(backend, SqlType::BigInt)),
        (Storage::JsonText { .. }, Value::Null) => out.push(null(backend, SqlType::Text)),
        (Storage::Reference { .. }, Value::Null) => out.push(null(backend, SqlType::Uuid)),
        (Storage::Money { scale, .. }, Value::Money { amount: a, currency: c }) => {
            out.extend([Sql::BigInt(Some(to_units(&field.field, *a, *scale)?)), text(c.clone())]);
        }
        (Storage::Scaled { scale, .. }, Value::Decimal(d)) => {
            out.push(Sql::BigInt(Some(to_units(&field.field, *d, *scale)?)));
        }
        (Storage::JsonText { .. }, Value::MultiSelect(items) | Value::Attachments(items)) => {
            out.push(text(serde_json::to_string(items).map_err(|_| wrong())?));
        }
        (Storage::JsonText { .. }, Value::Json(json)) => out.push(text(json.to_string())),
        (Storage::Reference { .. }, Value::Reference(id)) => out.push(uuid(*id)),
        (Storage::Column { sql, .. }, value) => out.push(match (sql, value) {
            (SqlType::Text, Value::Text(s) | Value::Select(s)) => text(s.clone()),
            (SqlType::Text, Value::Attachments(items)) if items.len() <= 1 => {
                Sql::String(items.first().map(|s| Box::new(s.clone())))
            }
            (SqlType::BigInt, Value::Integer(i) | Value::Duration(i)) => Sql::BigInt(Some(*i)),
            (SqlType::Boolean, Value::Bool(b)) => Sql::Bool(Some(*b)),
            (SqlType::Date, Value::Date(d)) => Sql::TimeDate(Some(Box::new(*d))),
            (SqlType::Timestamp, Value::DateTime(t)) => timestamp(backend, *t),
            (SqlType::Uuid, Value::Reference(id)) => uuid(*id),
            _ => return Err(wrong()),
        }),
        _ => return Err(wrong()),
    }
    Ok(())
}

/// Reads one field back from a row that selected all its columns.
pub fn decode(row: &DbRow, field: &FieldStorage) -> Result<Value> {
    let kind = match &field.kind {
        FieldKind::Computed { result, .. } => result.field_kind(),
        other => other.clone(),
    };
    Ok(match &field.storage {
        Storage::Lines(_) | Storage::Virtual => Value::Null,
        Storage::Money { amount, currency, scale } => {
            match (row.get::<Option<i64>>(amount)?, row.get::<Option<String>>(currency)?) {
                (Some(units), Some(currency)) => {
                    Value::Money { amount: present_money(from_units(units, *scale), &currency), currency }
                }
                _ => Value::Null,
            }
        }
        Storage::Scaled { column, scale } => match row.get::<Option<i64>>(column)? {
            Some(units) => Value::Decimal(from_units(units, *scale)),
            None => Value::Null,
        },
        Storage::JsonText { column } => match row.get::<Option<String>>(column)? {
            None => Value::Null,
            Some(json) => match kind {
                FieldKind::MultiSelect { .. } => Value::MultiSelect(serde_json::from_str(&json).unwrap_or_default()),
                FieldKind::Attachment { .. } => Value::Attachments(serde_json::from_str(&json).unwrap_or_default()),
                _ => Value::Json(serde_json::from_str(&json).unwrap_or(serde_json::Value::Null)),
            },
        },
        Storage::Reference { column, .. } => row.get::<Option<Uuid>>(column)?.map_or(Value::Null, Value::Reference),
        Storage::Column { column, sql } => match sql {
            SqlType::Text => match row.get::<Option<String>>(column)? {
                None => Value::Null,
                Some(s) => match kind {
                    FieldKind::Select { .. } => Value::Select(s),
                    FieldKind::Attachment { .. } => Value::Attachments(vec![s]),
                    _ => Value::Text(s),
                },
            },
            SqlType::BigInt => match row.get::<Option<i64>>(column)? {
                None => Value::Null,
                Some(i) if matches!(kind, FieldKind::Duration {}) => Value::Duration(i),
                Some(i) => Value::Integer(i),
            },
            SqlType::Boolean => row.get::<Option<bool>>(column)?.map_or(Value::Null, Value::Bool),
            SqlType::Date => row.get::<Option<time::Date>>(column)?.map_or(Value::Null, Value::Date),
            SqlType::Timestamp => row.get::<Option<OffsetDateTime>>(column)?.map_or(Value::Null, Value::DateTime),
            SqlType::Uuid => row.get::<Option<Uuid>>(column)?.map_or(Value::Null, Value::Reference),
        },
    })
}

/// Brings `values` to exactly what a read of the stored row returns: every stored field
/// present (null when absent), exact numbers at their column's scale, lines likewise. A
/// command can then answer with the record as it will be read, without reading it.
pub fn normalize(fields: &[FieldStorage], values: &mut std::collections::BTreeMap<String, Value>) {
    for field in fields {
        if matches!(field.storage, Storage::Virtual) {
            continue;
        }
        // Looked up before inserting: `entry` would copy the name for every field present.
        let value = match values.get_mut(&field.field) {
            Some(value) => value,
            None => {
                let absent = match field.storage {
                    Storage::Lines(_) => Value::Lines(Vec::new()),
                    _ => Value::Null,
                };
                values.insert(field.field.clone(), absent);
                continue;
            }
        };
        match (&field.storage, value) {
            (Storage::Lines(lines), Value::Lines(rows)) => {
                for row in rows.iter_mut() {
                    normalize(&lines.fields, row);
                }
            }
            (Storage::Lines(_), other) => *other = Value::Lines(Vec::new()),
            (Storage::Scaled { scale, .. }, Value::Decimal(d)) => d.rescale(u32::from(*scale)),
            (Storage::Money { scale, .. }, Value::Money { amount, currency }) => {
                amount.rescale(u32::from(*scale));
                *amount = present_money(*amount, currency);
            }
            _ => {}
        }
    }
}
