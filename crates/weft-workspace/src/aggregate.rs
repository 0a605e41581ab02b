//! Aggregates over records: group by fields (dates by day, month or year) and compute
//! count, sum, avg, min and max, under the same access scope and filter as lists, so a
//! dashboard never shows a number its reader could not reach record by record.

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::FieldKind;
use weft_store::records::rows::{self, AggregateFn, Bucket, GroupKey, Metric};
use weft_store::records::{SqlType, Storage};

use crate::catalog::TypeEntry;
use crate::reads::ListQuery;
use crate::{Error, Result, Workspace};

#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    pub filter: Option<String>,
    /// `state`, `order_date:month` (buckets: `day`, `month`, `year`).
    pub group_by: Vec<String>,
    /// `count`, `sum:amount`, `avg:amount`, `min:qty`, `max:qty`.
    pub metrics: Vec<String>,
    pub include_deleted: bool,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AggregateGroup {
    /// The group's key, by field (absent when not grouping).
    #[schema(value_type = Object)]
    pub key: Map<String, Json>,
    /// `count`, `sum_amount`, `avg_amount`…: exact decimals travel as strings.
    #[schema(value_type = Object)]
    pub values: Map<String, Json>,
}

struct NumericColumn {
    column: String,
    scale: u8,
}

/// The column a metric reads, with its scale; only numbers can be summed or averaged.
fn numeric(entry: &TypeEntry, field: &str, group_by: &[String]) -> Result<NumericColumn> {
    if field == "version" {
        return Ok(NumericColumn { column: "version".into(), scale: 0 });
    }
    let storage = entry
        .spec
        .field(field)
        .ok_or_else(|| Error::BadRequest(format!("`{}` has no field `{field}`", entry.decl.name)))?;
    match &storage.storage {
        Storage::Scaled { column, scale } => Ok(NumericColumn { column: column.clone(), scale: *scale }),
        Storage::Money { amount, scale, .. } => {
            let fixed = matches!(&storage.kind, FieldKind::Money { currency: Some(_), .. });
            if !fixed && !group_by.iter().any(|g| g == &format!("{field}__currency")) {
                return Err(Error::BadRequest(format!(
                    "`{field}` holds several currencies; add its currency to the group (`group_by={field}__currency`)"
                )));
            }
            Ok(NumericColumn { column: amount.clone(), scale: *scale })
        }
        Storage::Column { column, sql: SqlType::BigInt } => Ok(NumericColumn { column: column.clone(), scale: 0 }),
        _ => Err(Error::BadRequest(format!("`{field}` is not a number; only count works on it"))),
    }
}

fn group_key(entry: &TypeEntry, spec: &str) -> Result<(GroupKey, Option<u8>)> {
    let (field, bucket) = match spec.split_once(':') {
        Some((f, b)) => (f, Some(b)),
        None => (spec, None),
    };
    let bucket = match bucket {
        None => None,
        Some("day") => Some(Bucket::Day),
        Some("month") => Some(Bucket::Month),
        Some("year") => Some(Bucket::Year),
        Some(other) => return Err(Error::BadRequest(format!("unknown date bucket `{other}` (day, month or year)"))),
    };
    let (column, sql, scale) = match field {
        "state" | "number" => (field.to_owned(), SqlType::Text, None),
        "owner" | "party" | "unit" | "created_by" | "updated_by" => (field.to_owned(), SqlType::Uuid, None),
        "created_at" | "updated_at" => (field.to_owned(), SqlType::Timestamp, None),
        _ => {
            let (storage, currency_column) = match field.strip_suffix("__currency") {
                Some(money) => (entry.spec.field(money), true),
                None => (entry.spec.field(field), false),
            };
            let storage =
                storage.ok_or_else(|| Error::BadRequest(format!("`{}` has no field `{field}`", entry.decl.name)))?;
            let columns = storage.columns();
            let (column, sql) = if currency_column { columns.get(1).cloned() } else { columns.first().cloned() }
                .ok_or_else(|| Error::BadRequest(format!("cannot group by `{field}`")))?;
            let scale = match (&storage.storage, currency_column) {
                (Storage::Scaled { scale, .. } | Storage::Money { scale, .. }, false) => Some(*scale),
                _ => None,
            };
            if matches!(storage.storage, Storage::JsonText { .. }) {
                return Err(Error::BadRequest(format!("cannot group by `{field}`: it holds several values")));
            }
            (column, sql, scale)
        }
    };
    if bucket.is_some() && !matches!(sql, SqlType::Date | SqlType::Timestamp) {
        return Err(Error::BadRequest(format!("`{field}` is not a date; buckets need a date or datetime field")));
    }
    Ok((GroupKey { column, sql, bucket, alias: field.to_owned() }, scale))
}

fn key_json(raw: Option<String>, key: &GroupKey, scale: Option<u8>) -> Json {
    let Some(raw) = raw else { return Json::Null };
    if key.bucket.is_some() {
        return json!(raw);
    }
    match key.sql {
        SqlType::Boolean => json!(raw == "1" || raw == "true"),
        SqlType::BigInt => match (raw.parse::<i64>(), scale) {
            (Ok(units), Some(scale)) => json!(Decimal::new(units, u32::from(scale)).to_string()),
            (Ok(i), None) => json!(i),
            _ => json!(raw),
        },
        SqlType::Uuid => Uuid::parse_str(&raw).map_or(json!(raw), |id| json!(id)),
        _ => json!(raw),
    }
}

impl Workspace {
    pub async fn aggregate(
        &self,
        principal: &Principal,
        type_name: &str,
        query: &AggregateQuery,
    ) -> Result<Vec<AggregateGroup>> {
        let entry = self.entry(type_name)?;
        let list =
            ListQuery { filter: query.filter.clone(), include_deleted: query.include_deleted, ..ListQuery::default() };
        let request = self.list_request(principal, &entry, &list)?;
        // A field hidden from the caller cannot be grouped or summed: it is as if it did
        // not exist, so the answer cannot reveal its values.
        let hidden = self.field_rules(principal, &entry).hidden;
        let named = |spec: &str| {
            let field = spec.split_once(':').map_or(spec, |(f, _)| f);
            field.strip_suffix("__currency").unwrap_or(field).to_owned()
        };
        let unknown = |field: &str| Error::BadRequest(format!("`{}` has no field `{field}`", entry.decl.name));
        for spec in &query.group_by {
            if hidden.contains(&named(spec)) {
                return Err(unknown(&named(spec)));
            }
        }
        for spec in &query.metrics {
            if let Some((_, field)) = spec.split_once(':')
                && hidden.contains(field)
            {
                return Err(unknown(field));
            }
        }
        let mut keys = Vec::new();
        for spec in &query.group_by {
            keys.push(group_key(&entry, spec)?);
        }
        // What to compute in SQL, and how to present each requested metric.
        let mut sql_metrics: Vec<Metric> = Vec::new();
        let mut plan: Vec<(String, &'static str, Vec<usize>, u8)> = Vec::new();
        let metric_specs = if query.metrics.is_empty() { vec!["count".to_owned()] } else { query.metrics.clone() };
        for spec in &metric_specs {
            let mut push = |function: AggregateFn, column: Option<String>| {
                sql_metrics.push(Metric { function, column, alias: String::new() });
                sql_metrics.len() - 1
            };
            match spec.split_once(':') {
                None if spec == "count" => {
                    let i = push(AggregateFn::Count, None);
                    plan.push(("count".into(), "count", vec![i], 0));
                }
                Some((function @ ("sum" | "avg" | "min" | "max"), field)) => {
                    let column = numeric(&entry, field, &query.group_by)?;
                    let indexes = match function {
                        "sum" => vec![push(AggregateFn::Sum, Some(column.column.clone()))],
                        "min" => vec![push(AggregateFn::Min, Some(column.column.clone()))],
                        "max" => vec![push(AggregateFn::Max, Some(column.column.clone()))],
                        _ => vec![
                            push(AggregateFn::Sum, Some(column.column.clone())),
                            push(AggregateFn::CountValues, Some(column.column.clone())),
                        ],
                    };
                    let kind = match function {
                        "sum" => "sum",
                        "min" => "min",
                        "max" => "max",
                        _ => "avg",
                    };
                    plan.push((format!("{function}_{field}"), kind, indexes, column.scale));
                }
                _ => {
                    return Err(Error::BadRequest(format!(
                        "unknown metric `{spec}` (count, sum:FIELD, avg:FIELD, min:FIELD, max:FIELD)"
                    )));
                }
            }
        }
        let group_keys: Vec<GroupKey> = keys.iter().map(|(k, _)| k.clone()).collect();
        let limit = query.limit.unwrap_or(1_000).clamp(1, 10_000);
        let rows = rows::aggregate(&self.db, &entry.spec, &request, &group_keys, &sql_metrics, limit).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut key = Map::new();
                for ((k, scale), raw) in keys.iter().zip(row.keys) {
                    key.insert(k.alias.clone(), key_json(raw, k, *scale));
                }
                let mut values = Map::new();
                for (name, kind, indexes, scale) in &plan {
                    let at = |i: usize| row.metrics.get(indexes[i]).copied().flatten();
                    let value = match *kind {
                        "count" => json!(at(0).unwrap_or(0)),
                        "avg" => match (at(0), at(1)) {
                            (Some(sum), Some(n)) if n > 0 => {
                                let avg = Decimal::new(sum, u32::from(*scale)) / Decimal::from(n);
                                json!(avg.round_dp(u32::from(*scale) + 4).normalize().to_string())
                            }
                            _ => Json::Null,
                        },
                        _ => at(0).map_or(Json::Null, |units| {
                            if *scale == 0 {
                                json!(units)
                            } else {
                                json!(Decimal::new(units, u32::from(*scale)).to_string())
                            }
                        }),
                    };
                    values.insert(name.clone(), value);
                }
                AggregateGroup { key, values }
            })
            .collect())
    }
}
