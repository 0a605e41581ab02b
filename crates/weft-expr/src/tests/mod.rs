//! Data-driven tests: each table row is an input and what must come out, so a new case is
//! one line.

mod check;
mod eval;
mod filter;
mod parse;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use time::macros::datetime;
use uuid::Uuid;
use weft_model::schema::{ObjectTypeDecl, Value};

use crate::{Bindings, FieldType, Schema};

pub(crate) const ORDER: &str = include_str!("../../tests/fixtures/order.json");

pub(crate) const PARTY_A: Uuid = Uuid::from_u128(0xa);
pub(crate) const PARTY_B: Uuid = Uuid::from_u128(0xb);
pub(crate) const ME: Uuid = Uuid::from_u128(0x1);
pub(crate) const UNIT: Uuid = Uuid::from_u128(0x2);

pub(crate) fn decl() -> ObjectTypeDecl {
    serde_json::from_str(ORDER).expect("the fixture declaration reads")
}

/// The fixture type, with the fields of the contract its `contract` field refers to.
pub(crate) fn schema() -> Schema {
    let contract = Schema::new().with_var("title", FieldType::Text).with_var("value", FieldType::Decimal);
    Schema::for_type(&decl()).with_target("contract", contract)
}

pub(crate) fn bindings() -> Bindings {
    Bindings { me: Some(ME), party: Some(PARTY_A), unit: Some(UNIT), now: datetime!(2026-01-03 12:00 UTC) }
}

pub(crate) fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

pub(crate) fn record(values: &[(&str, Value)]) -> BTreeMap<String, Value> {
    values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}
