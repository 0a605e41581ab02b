//! Renders a `weft_expr::Filter` into a SQL condition with bound parameters.
//!
//! Every node is rendered with plain SQL semantics (the lowering already placed the null
//! guards FEEL needs). Exact numbers are stored in smallest units, so a bound such as
//! `amount > 10.555` on a 2-place column is moved to the nearest unit that keeps the
//! answer the same (`> 1055`), and `amount = 10.555` can match nothing.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_query::{Alias, Cond, Expr, Query, SimpleExpr};
use weft_expr::{CmpOp, Filter};
use weft_model::schema::Value;

use super::codec;
use super::spec::{SqlType, Storage, TableSpec};
use crate::{Backend, Error, Result};

/// The column and type a filter field names.
fn column(spec: &TableSpec, field: &str) -> Result<(String, SqlType, Option<u8>)> {
    let system = match field {
        "id" | "owner" | "party" | "unit" | "created_by" | "updated_by" => Some(SqlType::Uuid),
        "number" | "state" => Some(SqlType::Text),
        "version" => Some(SqlType::BigInt),
        "created_at" | "updated_at" | "deleted_at" => Some(SqlType::Timestamp),
        _ => None,
    };
    if let Some(sql) = system {
        return Ok((field.to_owned(), sql, None));
    }
    let storage = spec.field(field).ok_or_else(|| Error::Filter(format!("unknown field `{field}`")))?;
    let scale = match &storage.storage {
        Storage::Scaled { scale, .. } | Storage::Money { scale, .. } => Some(*scale),
        _ => None,
    };
    let (col, sql) = storage
        .columns()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Filter(format!("`{field}` cannot be used in a filter")))?;
    Ok((col, sql, scale))
}

fn col(spec: &TableSpec, name: &str) -> SimpleExpr {
    Expr::col((Alias::new(&spec.table), Alias::new(name))).into()
}

/// A value bound for comparison with a column.
fn bind(backend: Backend, sql: SqlType, value: &Value) -> Result<sea_query::Value> {
    use sea_query::Value as S;
    Ok(match (sql, value) {
        (SqlType::Text, Value::Text(s) | Value::Select(s)) => codec::text(s.clone()),
        (SqlType::BigInt, Value::Integer(i) | Value::Duration(i)) => S::BigInt(Some(*i)),
        (SqlType::Boolean, Value::Bool(b)) => S::Bool(Some(*b)),
        (SqlType::Date, Value::Date(d)) => S::TimeDate(Some(Box::new(*d))),
        (SqlType::Timestamp, Value::DateTime(t)) => crate::timestamp(backend, *t),
        (SqlType::Uuid, Value::Reference(id)) => codec::uuid(*id),
        (SqlType::Text, Value::Attachments(items)) if items.len() == 1 => codec::text(items[0].clone()),
        (_, other) => return Err(Error::Filter(format!("cannot compare a {sql:?} column with {other:?}"))),
    })
}

fn compare(left: SimpleExpr, op: CmpOp, right: SimpleExpr) -> SimpleExpr {
    let left = Expr::expr(left);
    match op {
        CmpOp::Eq => left.eq(right),
        CmpOp::Ne => left.ne(right),
        CmpOp::Lt => left.lt(right),
        CmpOp::Le => left.lte(right),
        CmpOp::Gt => left.gt(right),
        CmpOp::Ge => left.gte(right),
    }
}

/// `column op amount` where the column counts 10^-scale units.
fn compare_scaled(column: SimpleExpr, op: CmpOp, amount: Decimal, scale: u8) -> Result<SimpleExpr> {
    let factor = Decimal::from(10_i64.pow(u32::from(scale)));
    let units = amount.checked_mul(factor).ok_or_else(|| Error::Filter("number too large".into()))?;
    let exact = units.fract() == Decimal::ZERO;
    let to_i64 = |d: Decimal| d.to_i64().ok_or_else(|| Error::Filter("number too large".into()));
    let (op, bound) = match (op, exact) {
        (op, true) => (op, to_i64(units)?),
        // No stored value equals a number finer than the column: `=` is FALSE and `!=` TRUE,
        // each NULL on a null column, as plain SQL would have it.
        (CmpOp::Eq, false) => return Ok(Expr::expr(column.clone()).ne(column)),
        (CmpOp::Ne, false) => return Ok(Expr::expr(column.clone()).eq(column)),
        // Between two units: below it means at most the unit under it, above it at least the
        // unit over it.
        (CmpOp::Lt | CmpOp::Le, false) => (CmpOp::Le, to_i64(units.floor())?),
        (CmpOp::Gt | CmpOp::Ge, false) => (CmpOp::Ge, to_i64(units.ceil())?),
    };
    Ok(compare(column, op, Expr::val(bound).into()))
}

fn is_text_order(sql: SqlType, op: CmpOp) -> bool {
    sql == SqlType::Text && !matches!(op, CmpOp::Eq | CmpOp::Ne)
}

/// Text ordering by code point on both backends (SQLite's `BINARY` already is).
fn text_column(spec: &TableSpec, name: &str, backend: Backend) -> SimpleExpr {
    match backend {
        Backend::Sqlite => col(spec, name),
        Backend::Postgres => Expr::cust(format!("\"{}\".\"{}\" COLLATE \"C\"", spec.table, name)),
    }
}

/// What rendering a [`Filter::Via`] needs from the caller: the referenced type's table and
/// which of its rows the reader may see.
pub trait Targets {
    /// The table of `type_name` and the condition on its rows the reader may see (`None`:
    /// all of them); an error when the reader may not filter through it.
    fn target(&self, type_name: &str) -> Result<(&TableSpec, Option<Cond>)>;
}

/// For filters that never follow references (access conditions): a `Via` is refused.
pub struct NoTargets;

impl Targets for NoTargets {
    fn target(&self, type_name: &str) -> Result<(&TableSpec, Option<Cond>)> {
        Err(Error::Filter(format!("the fields of `{type_name}` cannot be used here")))
    }
}

/// `filter` as a condition on `spec`'s table; a `Via` is refused.
pub fn render(filter: &Filter, spec: &TableSpec, backend: Backend) -> Result<SimpleExpr> {
    render_with(filter, spec, backend, &NoTargets)
}

/// `filter` as a condition on `spec`'s table, following references through `targets`: a
/// `Via` becomes `reference IN (SELECT id FROM target WHERE … AND deleted_at IS NULL AND
/// <what the reader may see>)`.
pub fn render_with(filter: &Filter, spec: &TableSpec, backend: Backend, targets: &dyn Targets) -> Result<SimpleExpr> {
    let render = |f: &Filter, spec: &TableSpec, backend: Backend| render_with(f, spec, backend, targets);
    Ok(match filter {
        Filter::Via { reference, target, filter } => {
            let (name, sql, _) = column(spec, reference)?;
            if sql != SqlType::Uuid {
                return Err(Error::Filter(format!("`{reference}` is not a reference")));
            }
            let (target_spec, visible) = targets.target(target)?;
            let inner = render_with(filter, target_spec, backend, &NoTargets)?;
            let table = Alias::new(&target_spec.table);
            let mut cond = Cond::all().add(inner).add(Expr::col((table.clone(), Alias::new("deleted_at"))).is_null());
            if let Some(visible) = visible {
                cond = cond.add(visible);
            }
            let ids = Query::select().column((table.clone(), Alias::new("id"))).from(table).cond_where(cond).to_owned();
            Expr::expr(col(spec, &name)).in_subquery(ids)
        }
        Filter::True => Expr::value(true),
        Filter::False => Expr::value(false),
        Filter::And(parts) => {
            let mut cond = Cond::all();
            for p in parts {
                cond = cond.add(render(p, spec, backend)?);
            }
            cond.into()
        }
        Filter::Or(parts) => {
            let mut cond = Cond::any();
            for p in parts {
                cond = cond.add(render(p, spec, backend)?);
            }
            cond.into()
        }
        Filter::Not(inner) => Expr::expr(render(inner, spec, backend)?).not(),
        Filter::Compare { field, op, value } => {
            let (name, sql, scale) = column(spec, field)?;
            match (scale, value) {
                (Some(scale), Value::Decimal(d) | Value::Money { amount: d, .. }) => {
                    compare_scaled(col(spec, &name), *op, *d, scale)?
                }
                _ => {
                    let left =
                        if is_text_order(sql, *op) { text_column(spec, &name, backend) } else { col(spec, &name) };
                    compare(left, *op, Expr::val(bind(backend, sql, value)?).into())
                }
            }
        }
        Filter::In { field, values } => {
            let (name, sql, scale) = column(spec, field)?;
            match scale {
                Some(scale) => {
                    let mut any = Cond::any();
                    for v in values {
                        if let Value::Decimal(d) | Value::Money { amount: d, .. } = v {
                            any = any.add(compare_scaled(col(spec, &name), CmpOp::Eq, *d, scale)?);
                        }
                    }
                    any.into()
                }
                None => {
                    let bound: Vec<sea_query::Value> =
                        values.iter().map(|v| bind(backend, sql, v)).collect::<Result<_>>()?;
                    Expr::expr(col(spec, &name)).is_in(bound)
                }
            }
        }
        Filter::IsNull { field, negated } => {
            let (name, _, _) = column(spec, field)?;
            if *negated { Expr::expr(col(spec, &name)).is_not_null() } else { Expr::expr(col(spec, &name)).is_null() }
        }
        // Custom SQL: SQLite numbers `?` in order, PostgreSQL's `$n` name this expression's
        // own values.
        Filter::StartsWith { field, prefix } => {
            let (name, _, _) = column(spec, field)?;
            let c = format!("\"{}\".\"{}\"", spec.table, name);
            match backend {
                Backend::Sqlite => {
                    Expr::cust_with_values(format!("substr({c}, 1, length(?)) = ?"), [prefix.clone(), prefix.clone()])
                }
                Backend::Postgres => Expr::cust_with_values(format!("left({c}, length($1)) = $1"), [prefix.clone()]),
            }
        }
        Filter::EndsWith { field, suffix } => {
            let (name, _, _) = column(spec, field)?;
            let c = format!("\"{}\".\"{}\"", spec.table, name);
            match backend {
                Backend::Sqlite => Expr::cust_with_values(
                    format!("(length({c}) >= length(?) AND substr({c}, length({c}) - length(?) + 1) = ?)"),
                    [suffix.clone(), suffix.clone(), suffix.clone()],
                ),
                Backend::Postgres => Expr::cust_with_values(format!("right({c}, length($1)) = $1"), [suffix.clone()]),
            }
        }
        Filter::Contains { field, needle } => {
            let (name, _, _) = column(spec, field)?;
            let c = format!("\"{}\".\"{}\"", spec.table, name);
            match backend {
                Backend::Sqlite => Expr::cust_with_values(format!("instr({c}, ?) > 0"), [needle.clone()]),
                Backend::Postgres => Expr::cust_with_values(format!("strpos({c}, $1) > 0"), [needle.clone()]),
            }
        }
        Filter::CompareFields { left, op, right } => {
            let (l, lsql, lscale) = column(spec, left)?;
            let (r, _, rscale) = column(spec, right)?;
            if lscale != rscale {
                return Err(Error::Filter(format!("`{left}` and `{right}` have different scales")));
            }
            if is_text_order(lsql, *op) {
                compare(text_column(spec, &l, backend), *op, text_column(spec, &r, backend))
            } else {
                compare(col(spec, &l), *op, col(spec, &r))
            }
        }
    })
}
