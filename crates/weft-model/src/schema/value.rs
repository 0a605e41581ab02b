//! The typed values a record holds, and how API input becomes them.
//!
//! `Value::to_json` gives the API's JSON shape, which `coerce_record` reads back to the same
//! value: decimals and money amounts travel as strings so they stay exact, dates and
//! instants as ISO 8601 text, durations as ISO 8601 durations.

mod coerce;
mod contact;
mod duration;
mod scalar;
#[cfg(test)]
mod tests;

pub use coerce::MAX_LINES;
pub use coerce::{
    Coerced, FieldError, FieldErrorCode, Mode, PendingDefault, coerce_record, coerce_transition_inputs, coerce_value,
};
pub use duration::{format_duration, parse_duration};
pub use scalar::{LONG_TEXT_MAX_CHARS, PERCENT_SCALE};

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json, json};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    /// Decimal and percent fields; carries the declared scale (`12.50`, not `12.5`).
    Decimal(Decimal),
    Money {
        amount: Decimal,
        currency: String,
    },
    Bool(bool),
    Date(Date),
    /// Always UTC, at most microsecond precision.
    DateTime(OffsetDateTime),
    /// Whole seconds.
    Duration(i64),
    Select(String),
    MultiSelect(Vec<String>),
    /// A record, party, principal or org unit id.
    Reference(Uuid),
    Json(Json),
    /// Child lines in order; each line may carry its `id` as a `Reference`.
    Lines(Vec<BTreeMap<String, Value>>),
    /// SHA-256 hex digests of attachment blobs.
    Attachments(Vec<String>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Text(s) | Value::Select(s) => Json::String(s.clone()),
            Value::Integer(i) => Json::from(*i),
            Value::Decimal(d) => Json::String(d.to_string()),
            Value::Money { amount, currency } => {
                json!({ "amount": amount.to_string(), "currency": currency })
            }
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(format_date(*d)),
            Value::DateTime(t) => Json::String(format_datetime(*t)),
            Value::Duration(seconds) => Json::String(format_duration(*seconds)),
            Value::MultiSelect(items) | Value::Attachments(items) => {
                Json::Array(items.iter().cloned().map(Json::String).collect())
            }
            Value::Reference(id) => Json::String(id.to_string()),
            Value::Json(j) => j.clone(),
            Value::Lines(lines) => Json::Array(lines.iter().map(|line| Json::Object(map_to_json(line))).collect()),
        }
    }
}

/// A record's values as the API's JSON object.
pub fn map_to_json(values: &BTreeMap<String, Value>) -> Map<String, Json> {
    values.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
}

fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

// Written by hand rather than with `time`'s RFC 3339 formatter, which can fail: values are
// always UTC with whole microseconds, so this cannot.
fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let date = format_date(t.date());
    let (h, m, s, micro) = t.time().as_hms_micro();
    if micro == 0 {
        format!("{date}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{date}T{h:02}:{m:02}:{s:02}.{micro:06}Z")
    }
}
