//! Statements whose SQL text never changes, only their values: rendered once per backend.
//!
//! sea-query renders a statement afresh on every use, quoting each identifier and writing
//! each placeholder through `fmt`. On the processes benchmark that rendering was about a
//! tenth of all CPU (`perf`, 2026-12-04): every step renders the same few statements (save
//! the state, insert a task, close a task, read an instance by id) with new values. A shape
//! is rendered the first time it is used and its text kept; later uses bind their own values
//! to the kept text.
//!
//! The caller gives the values, in placeholder order, and a function that builds the
//! statement from them. The first rendering checks that the statement's placeholders carry
//! exactly those values in that order; a shape that does not (a builder that reorders them
//! or adds one) is never kept, each use is then rendered in full: slower, never wrong.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use sea_query::Value;
use sea_query_binder::SqlxBinder;

use crate::{Backend, Rendered};

/// A shape's name (unique per statement; for a declared type's table, its name and columns),
/// its variant (a row count for multi-row inserts, else 0) and the backend.
type Key = (Cow<'static, str>, usize, Backend);

static KEPT: LazyLock<RwLock<HashMap<Key, Arc<str>>>> = LazyLock::new(|| RwLock::new(HashMap::new()));

/// `build(&values)` rendered for `backend`, its text kept under `shape` for later uses.
pub fn shaped<S: SqlxBinder>(
    backend: Backend,
    shape: &'static str,
    values: Vec<Value>,
    build: impl FnOnce(&[Value]) -> S,
) -> Rendered {
    shaped_variant(backend, shape, 0, values, build)
}

/// `shaped` for a shape with variants: the same statement with `variant` rows, say.
pub fn shaped_variant<S: SqlxBinder>(
    backend: Backend,
    shape: impl Into<Cow<'static, str>>,
    variant: usize,
    values: Vec<Value>,
    build: impl FnOnce(&[Value]) -> S,
) -> Rendered {
    let key = (shape.into(), variant, backend);
    if let Some(sql) = KEPT.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
        return Rendered::from_parts(Arc::clone(sql), values);
    }
    let rendered = Rendered::new(backend, &build(&values));
    if rendered.values() == values.as_slice() {
        KEPT.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, rendered.sql());
    } else {
        let shape = &key.0;
        // A defect in the shape's builder; the tests (debug builds) stop on it.
        debug_assert!(false, "shape {shape} binds other values than it was given");
        tracing::error!(%shape, "a statement shape binds other values than it was given; it is rendered on every use");
    }
    rendered
}

#[cfg(test)]
mod tests {
    use sea_query::{Alias, Expr, Query};

    use super::*;

    fn select(values: &[Value]) -> sea_query::SelectStatement {
        Query::select()
            .column(Alias::new("a"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("b")).eq(values[0].clone()))
            .and_where(Expr::col(Alias::new("c")).eq(values[1].clone()))
            .to_owned()
    }

    #[test]
    fn a_shape_is_rendered_once_and_bound_each_time() {
        let first = shaped(Backend::Sqlite, "test.select", vec![1.into(), "x".into()], select);
        let mut built = false;
        let second = shaped(Backend::Sqlite, "test.select", vec![2.into(), "y".into()], |v| {
            built = true;
            select(v)
        });
        assert!(!built, "the kept text is reused");
        assert_eq!(first.sql(), second.sql());
        assert_eq!(second.values(), &[Value::from(2), Value::from("y")]);
        let pg = shaped(Backend::Postgres, "test.select", vec![3.into(), "z".into()], select);
        assert!(pg.sql().contains("$2"), "each backend has its own text: {}", pg.sql());
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "binds other values"))]
    fn a_builder_that_reorders_its_values_is_rendered_every_time() {
        let swapped = |v: &[Value]| select(&[v[1].clone(), v[0].clone()]);
        let first = shaped(Backend::Sqlite, "test.swapped", vec![1.into(), "x".into()], swapped);
        // Rendered in full: the values are bound as the statement has them, never misplaced.
        assert_eq!(first.values(), &[Value::from("x"), Value::from(1)]);
        let mut built = false;
        let second = shaped(Backend::Sqlite, "test.swapped", vec![2.into(), "y".into()], |v| {
            built = true;
            swapped(v)
        });
        assert!(built, "not kept");
        assert_eq!(second.values(), &[Value::from("y"), Value::from(2)]);
    }
}
