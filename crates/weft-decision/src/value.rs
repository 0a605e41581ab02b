//! Weft's FEEL values: what goes into a decision and what comes out of it.
//!
//! Numbers are exact decimals (34 significant digits, FEEL's `number`); dates, times and
//! durations keep FEEL's own precision and time zones. The engine's types never leave this
//! module: [`Value`] is the only value type of the public interface.
//!
//! JSON mapping ([`Value::from_json`], [`Value::to_json`]):
//!
//! | FEEL                         | JSON in                         | JSON out                         |
//! |------------------------------|---------------------------------|----------------------------------|
//! | null                         | `null`                          | `null`                           |
//! | boolean                      | `true` / `false`                | `true` / `false`                 |
//! | number                       | a number, or a decimal string when the input is declared `number` | a **string** with the exact decimal (`"0.3"`, `"1500"`) |
//! | string                       | a string                        | a string                         |
//! | date, time, date and time, durations | an ISO 8601 string, when the input is declared with that type | the ISO 8601 / FEEL string (`"2026-01-31"`, `"P1DT2H"`) |
//! | list                         | an array                        | an array                         |
//! | context                      | an object                       | an object                        |
//! | function, range              | —                               | a string describing it           |

use dsntk_feel::context::FeelContext;
use dsntk_feel::values::Value as FeelValue;
use dsntk_feel::{FeelNumber, Name};
use dsntk_feel_temporal::{FeelDate, FeelDateTime, FeelDaysAndTimeDuration, FeelTime, FeelYearsAndMonthsDuration};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An exact FEEL number (decimal, 34 significant digits).
#[derive(Clone, Copy)]
pub struct Number(pub(crate) FeelNumber);

impl Number {
    /// Parses a decimal literal (`"12.50"`, `"-3"`, `"1.5E3"`).
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if text.is_empty() || text.len() > 128 {
            return None;
        }
        FeelNumber::from_str(text).ok().map(Number)
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.0 == other.0
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Number {
        Number(FeelNumber::from(n))
    }
}

macro_rules! temporal {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub(crate) $inner);

        impl $name {
            /// Parses the ISO 8601 / FEEL literal form.
            pub fn parse(text: &str) -> Option<$name> {
                if text.len() > 128 {
                    return None;
                }
                let parse: fn(&str) -> Option<$inner> = $parse;
                parse(text.trim()).map($name)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                FeelValue::from(self.clone()) == FeelValue::from(other.clone())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

temporal!(
    /// A FEEL `date`.
    Date, FeelDate, |s| FeelDate::from_str(s).ok()
);
temporal!(
    /// A FEEL `time` (local, with an offset or with a zone id).
    Time, FeelTime, |s| FeelTime::from_str(s).ok()
);
temporal!(
    /// A FEEL `date and time`.
    DateTime, FeelDateTime, |s| FeelDateTime::try_from(s).ok()
);
temporal!(
    /// A FEEL `days and time duration` (`P1DT2H`).
    DaysTimeDuration, FeelDaysAndTimeDuration, |s| FeelDaysAndTimeDuration::try_from(s).ok()
);
temporal!(
    /// A FEEL `years and months duration` (`P1Y2M`).
    YearsMonthsDuration, FeelYearsAndMonthsDuration, |s| FeelYearsAndMonthsDuration::try_from(s).ok()
);

impl From<Date> for FeelValue {
    fn from(v: Date) -> FeelValue {
        FeelValue::Date(v.0)
    }
}
impl From<Time> for FeelValue {
    fn from(v: Time) -> FeelValue {
        FeelValue::Time(v.0)
    }
}
impl From<DateTime> for FeelValue {
    fn from(v: DateTime) -> FeelValue {
        FeelValue::DateTime(v.0)
    }
}
impl From<DaysTimeDuration> for FeelValue {
    fn from(v: DaysTimeDuration) -> FeelValue {
        FeelValue::DaysAndTimeDuration(v.0)
    }
}
impl From<YearsMonthsDuration> for FeelValue {
    fn from(v: YearsMonthsDuration) -> FeelValue {
        FeelValue::YearsAndMonthsDuration(v.0)
    }
}

/// A FEEL value, as given to and returned by a decision.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Date(Date),
    Time(Time),
    DateTime(DateTime),
    DaysTimeDuration(DaysTimeDuration),
    YearsMonthsDuration(YearsMonthsDuration),
    List(Vec<Value>),
    Context(BTreeMap<String, Value>),
    /// A value JSON cannot carry (a function, a range, a type): its kind and a description.
    Other {
        kind: String,
        text: String,
    },
}

/// The deepest JSON / value nesting accepted as input or produced as output.
pub const MAX_VALUE_DEPTH: usize = 64;

impl Value {
    /// An exact number from its decimal text; `None` when it is not one.
    pub fn number(text: &str) -> Option<Value> {
        Number::parse(text).map(Value::Number)
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// FEEL's name of this value's type (`number`, `date and time`, `list`, …).
    pub fn type_name(&self) -> &str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::DateTime(_) => "date and time",
            Value::DaysTimeDuration(_) => "days and time duration",
            Value::YearsMonthsDuration(_) => "years and months duration",
            Value::List(_) => "list",
            Value::Context(_) => "context",
            Value::Other { kind, .. } => kind,
        }
    }

    /// Reads plain JSON: numbers become exact FEEL numbers (from their JSON text), strings
    /// stay strings, arrays become lists and objects contexts. Typed inputs (dates,
    /// decimals given as strings) are converted later, against the model's declared types.
    /// Deeper than [`MAX_VALUE_DEPTH`] becomes null.
    pub fn from_json(json: &serde_json::Value) -> Value {
        from_json_at(json, 0)
    }

    /// Renders this value as JSON (see the module documentation for the mapping).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => J::String(n.to_string()),
            Value::String(s) => J::String(s.clone()),
            Value::Date(v) => J::String(v.to_string()),
            Value::Time(v) => J::String(v.to_string()),
            Value::DateTime(v) => J::String(v.to_string()),
            Value::DaysTimeDuration(v) => J::String(v.to_string()),
            Value::YearsMonthsDuration(v) => J::String(v.to_string()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Context(entries) => J::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Other { text, .. } => J::String(text.clone()),
        }
    }

    /// Converts a record field value of Weft's schema.
    pub fn from_field(value: &weft_model::schema::Value) -> Value {
        use weft_model::schema::Value as F;
        match value {
            F::Null => Value::Null,
            F::Text(s) | F::Select(s) => Value::String(s.clone()),
            F::Integer(i) => Value::Number(Number::from(*i)),
            F::Decimal(d) => Value::number(&d.to_string()).unwrap_or_default(),
            F::Money { amount, currency } => {
                let mut ctx = BTreeMap::new();
                ctx.insert("amount".to_string(), Value::number(&amount.to_string()).unwrap_or_default());
                ctx.insert("currency".to_string(), Value::String(currency.clone()));
                Value::Context(ctx)
            }
            F::Bool(b) => Value::Bool(*b),
            F::Date(d) => Date::parse(&d.to_string()).map(Value::Date).unwrap_or_default(),
            F::DateTime(dt) => {
                let text = dt.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                DateTime::parse(&text).map(Value::DateTime).unwrap_or_default()
            }
            F::Duration(secs) => {
                let text = if *secs < 0 { format!("-PT{}S", secs.unsigned_abs()) } else { format!("PT{secs}S") };
                DaysTimeDuration::parse(&text).map(Value::DaysTimeDuration).unwrap_or_default()
            }
            F::MultiSelect(items) => Value::List(items.iter().cloned().map(Value::String).collect()),
            F::Reference(id) => Value::String(id.to_string()),
            F::Json(json) => Value::from_json(json),
            F::Lines(lines) => Value::List(
                lines
                    .iter()
                    .map(|line| Value::Context(line.iter().map(|(k, v)| (k.clone(), Value::from_field(v))).collect()))
                    .collect(),
            ),
            F::Attachments(items) => Value::List(items.iter().cloned().map(Value::String).collect()),
        }
    }

    pub(crate) fn to_feel(&self) -> FeelValue {
        match self {
            Value::Null => FeelValue::Null(None),
            Value::Bool(b) => FeelValue::Boolean(*b),
            Value::Number(n) => FeelValue::Number(n.0),
            Value::String(s) => FeelValue::String(s.clone()),
            Value::Date(v) => v.clone().into(),
            Value::Time(v) => v.clone().into(),
            Value::DateTime(v) => v.clone().into(),
            Value::DaysTimeDuration(v) => v.clone().into(),
            Value::YearsMonthsDuration(v) => v.clone().into(),
            Value::List(items) => FeelValue::List(items.iter().map(Value::to_feel).collect()),
            Value::Context(entries) => FeelValue::Context(context_to_feel(entries)),
            Value::Other { .. } => FeelValue::Null(None),
        }
    }

    pub(crate) fn from_feel(value: &FeelValue) -> Value {
        from_feel_at(value, 0)
    }
}

pub(crate) fn context_to_feel(entries: &BTreeMap<String, Value>) -> FeelContext {
    let mut ctx = FeelContext::default();
    for (k, v) in entries {
        ctx.set_entry(&Name::from(k.as_str()), v.to_feel());
    }
    ctx
}

fn from_json_at(json: &serde_json::Value, depth: usize) -> Value {
    use serde_json::Value as J;
    if depth > MAX_VALUE_DEPTH {
        return Value::Null;
    }
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::number(&n.to_string()).unwrap_or_default(),
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(items.iter().map(|v| from_json_at(v, depth + 1)).collect()),
        J::Object(entries) => {
            Value::Context(entries.iter().map(|(k, v)| (k.clone(), from_json_at(v, depth + 1))).collect())
        }
    }
}

fn from_feel_at(value: &FeelValue, depth: usize) -> Value {
    if depth > MAX_VALUE_DEPTH {
        return Value::Other { kind: "value".into(), text: "(nested too deeply)".into() };
    }
    match value {
        FeelValue::Null(_) => Value::Null,
        FeelValue::Boolean(b) => Value::Bool(*b),
        FeelValue::Number(n) => Value::Number(Number(*n)),
        FeelValue::String(s) => Value::String(s.clone()),
        FeelValue::Date(v) => Value::Date(Date(v.clone())),
        FeelValue::Time(v) => Value::Time(Time(v.clone())),
        FeelValue::DateTime(v) => Value::DateTime(DateTime(v.clone())),
        FeelValue::DaysAndTimeDuration(v) => Value::DaysTimeDuration(DaysTimeDuration(v.clone())),
        FeelValue::YearsAndMonthsDuration(v) => Value::YearsMonthsDuration(YearsMonthsDuration(v.clone())),
        FeelValue::List(items) => Value::List(items.iter().map(|v| from_feel_at(v, depth + 1)).collect()),
        FeelValue::Context(ctx) => {
            Value::Context(ctx.iter().map(|(k, v)| (k.to_string(), from_feel_at(v, depth + 1))).collect())
        }
        FeelValue::Range(..) => Value::Other { kind: "range".into(), text: truncate(value.to_string()) },
        FeelValue::FunctionDefinition(..) | FeelValue::BuiltInFunction(_) => {
            Value::Other { kind: "function".into(), text: "function".into() }
        }
        other => Value::Other { kind: other.type_of().to_string(), text: truncate(other.to_string()) },
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > 1024 {
        let mut end = 1024;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// FEEL's built-in types, as a model declares them with `typeRef`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    Any,
    String,
    Number,
    Boolean,
    Date,
    Time,
    DateTime,
    DaysTimeDuration,
    YearsMonthsDuration,
}

impl BuiltinType {
    /// Recognises DMN / FEEL built-in type names (and Camunda's Java names for numbers).
    pub fn from_type_ref(type_ref: &str) -> Option<BuiltinType> {
        let t = type_ref.trim();
        let t = t.strip_prefix("feel:").unwrap_or(t);
        Some(match t {
            "" | "Any" | "any" => BuiltinType::Any,
            "string" => BuiltinType::String,
            "number" | "integer" | "long" | "double" => BuiltinType::Number,
            "boolean" => BuiltinType::Boolean,
            "date" => BuiltinType::Date,
            "time" => BuiltinType::Time,
            "dateTime" | "date and time" => BuiltinType::DateTime,
            "dayTimeDuration" | "days and time duration" | "duration" => BuiltinType::DaysTimeDuration,
            "yearMonthDuration" | "years and months duration" => BuiltinType::YearsMonthsDuration,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BuiltinType::Any => "Any",
            BuiltinType::String => "string",
            BuiltinType::Number => "number",
            BuiltinType::Boolean => "boolean",
            BuiltinType::Date => "date",
            BuiltinType::Time => "time",
            BuiltinType::DateTime => "date and time",
            BuiltinType::DaysTimeDuration => "days and time duration",
            BuiltinType::YearsMonthsDuration => "years and months duration",
        }
    }

    /// Does `value` conform (null conforms to every type)?
    pub(crate) fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (BuiltinType::Any, _)
                | (_, Value::Null)
                | (BuiltinType::String, Value::String(_))
                | (BuiltinType::Number, Value::Number(_))
                | (BuiltinType::Boolean, Value::Bool(_))
                | (BuiltinType::Date, Value::Date(_))
                | (BuiltinType::Time, Value::Time(_))
                | (BuiltinType::DateTime, Value::DateTime(_))
                | (BuiltinType::DaysTimeDuration, Value::DaysTimeDuration(_))
                | (BuiltinType::YearsMonthsDuration, Value::YearsMonthsDuration(_))
        )
    }

    /// Reads a JSON string as a value of this type (`"12.50"` for a number, ISO text for a
    /// date); other values are returned unchanged.
    pub(crate) fn read_text(self, value: Value) -> Value {
        let Value::String(text) = &value else { return value };
        let parsed = match self {
            BuiltinType::Number => Value::number(text),
            BuiltinType::Date => Date::parse(text).map(Value::Date),
            BuiltinType::Time => Time::parse(text).map(Value::Time),
            BuiltinType::DateTime => DateTime::parse(text).map(Value::DateTime),
            BuiltinType::DaysTimeDuration => DaysTimeDuration::parse(text).map(Value::DaysTimeDuration),
            BuiltinType::YearsMonthsDuration => YearsMonthsDuration::parse(text).map(Value::YearsMonthsDuration),
            BuiltinType::Boolean => match text.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            BuiltinType::Any | BuiltinType::String => None,
        };
        parsed.unwrap_or(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact_and_compare_numerically() {
        let a = Value::number("0.10").unwrap();
        let b = Value::number("0.1").unwrap();
        assert_eq!(a, b);
        assert_eq!(Value::from_json(&serde_json::json!(0.1)), b);
        assert_eq!(Value::number("abc"), None);
    }

    #[test]
    fn json_round_trip_keeps_exact_decimals_as_strings() {
        let v = Value::from_json(&serde_json::json!({"a": [1, "x", null, true], "b": {"c": 2.5}}));
        assert_eq!(v.to_json(), serde_json::json!({"a": ["1", "x", null, true], "b": {"c": "2.5"}}));
    }

    #[test]
    fn declared_types_read_strings() {
        assert_eq!(BuiltinType::Number.read_text(Value::string("12.50")), Value::number("12.5").unwrap());
        assert!(matches!(BuiltinType::Date.read_text(Value::string("2026-01-31")), Value::Date(_)));
        assert_eq!(BuiltinType::Date.read_text(Value::string("not a date")), Value::string("not a date"));
        let d = BuiltinType::DaysTimeDuration.read_text(Value::string("P1DT2H"));
        assert_eq!(d.to_json(), serde_json::json!("P1DT2H"));
    }

    #[test]
    fn deep_json_is_cut_not_overflowed() {
        let mut json = serde_json::json!(1);
        for _ in 0..10_000 {
            json = serde_json::Value::Array(vec![json]);
        }
        let v = Value::from_json(&json);
        let mut depth = 0;
        let mut cur = &v;
        while let Value::List(items) = cur {
            depth += 1;
            cur = &items[0];
        }
        assert!(depth <= MAX_VALUE_DEPTH + 1);
        // dropping deep serde_json values recursively is serde_json's concern; forget it.
        std::mem::forget(json);
    }
}
