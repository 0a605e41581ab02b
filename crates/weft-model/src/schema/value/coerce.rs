//! Reading a record's JSON input into typed values, reporting every bad field at once.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;

use super::Value;
use super::scalar::{self, LONG_TEXT_MAX_CHARS, PERCENT_SCALE, Refusal};
use crate::schema::decl::{DefaultValue, FieldDecl, FieldKind, ObjectTypeDecl, TransitionDecl};
use crate::schema::ident::{is_line_system_column, is_system_column};
use crate::schema::pointer::child;

/// More lines than any real document has; a guard against runaway imports.
pub const MAX_LINES: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new record: required fields must be present, literal defaults fill the gaps.
    Create,
    /// A partial change: only the given fields are read.
    Update,
}

/// One bad value in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer into the input: `/qty`, `/lines/2/qty`, `/total/amount`.
    pub pointer: String,
    pub code: FieldErrorCode,
    /// For people; clients branch on `code`.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    UnknownField,
    /// A computed or system field, which input cannot set.
    ReadOnly,
    Required,
    WrongType,
    TooLong,
    OutOfRange,
    TooManyDecimals,
    InvalidFormat,
    UnknownOption,
    Duplicate,
    InvalidCurrency,
    /// A reference to a record that does not exist (or is deleted).
    UnknownReference,
    /// A field that cannot be changed in the record's current state.
    NotEditable,
    /// A transition whose guard does not hold for this record.
    GuardFailed,
}

/// Input read into values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coerced {
    /// The fields given (and, on create, the literal defaults of those not given).
    pub values: BTreeMap<String, Value>,
    /// Absent fields whose default is a FEEL expression: the caller evaluates each one and
    /// reads the result with `coerce_value`, then checks `required` itself.
    pub feel_defaults: Vec<PendingDefault>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDefault {
    /// Where the value goes: `/discount`, or `/lines/0/amount` for a line's field.
    pub pointer: String,
    pub field: String,
    pub expression: String,
}

/// Reads a create or update body of a record of `decl`.
pub fn coerce_record(decl: &ObjectTypeDecl, input: &Map<String, Json>, mode: Mode) -> Result<Coerced, Vec<FieldError>> {
    let mut out = Outcome::default();
    let values = coerce_object(&decl.fields, input, mode, "", Level::Record, &mut out);
    out.finish(values)
}

/// Reads the inputs of `transition`; all of them are read as on create.
pub fn coerce_transition_inputs(
    transition: &TransitionDecl,
    input: &Map<String, Json>,
) -> Result<Coerced, Vec<FieldError>> {
    let mut out = Outcome::default();
    let values = coerce_object(&transition.inputs, input, Mode::Create, "", Level::Inputs, &mut out);
    out.finish(values)
}

/// Reads one value of `field`, found at `pointer`. A computed field reads its result kind,
/// so the caller can use this for the results of FEEL defaults and computed fields.
/// `null` reads as `Value::Null` whatever the field; `required` is the caller's concern.
pub fn coerce_value(field: &FieldDecl, value: &Json, pointer: &str) -> Result<Value, Vec<FieldError>> {
    let mut out = Outcome::default();
    match read_at(field, value, &|| pointer.to_owned(), &mut out) {
        Some(value) if out.errors.is_empty() => Ok(value),
        _ => Err(out.errors),
    }
}

#[derive(Default)]
struct Outcome {
    errors: Vec<FieldError>,
    feel_defaults: Vec<PendingDefault>,
}

impl Outcome {
    fn error(&mut self, pointer: String, code: FieldErrorCode, reason: impl Into<String>) {
        self.errors.push(FieldError { pointer, code, reason: reason.into() });
    }

    fn finish(self, values: BTreeMap<String, Value>) -> Result<Coerced, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(Coerced { values, feel_defaults: self.feel_defaults })
        } else {
            Err(self.errors)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Record,
    Line,
    Inputs,
}

// Fields are visited in declaration order and stray keys in name order, so errors come out
// in the order of the form whatever map type the JSON library was built with.
fn coerce_object(
    fields: &[FieldDecl],
    input: &Map<String, Json>,
    mode: Mode,
    base: &str,
    level: Level,
    out: &mut Outcome,
) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    // Keys of `input` that name a field: when that is all of them, nothing is stray.
    let mut known = 0;
    for field in fields {
        let pointer = || child(base, &field.name);
        match input.get(&field.name) {
            Some(_) if matches!(field.kind, FieldKind::Computed { .. }) => {
                known += 1;
                out.error(pointer(), FieldErrorCode::ReadOnly, "a computed field cannot be set");
            }
            Some(json) => {
                known += 1;
                if let Some(value) = read_value(field, json, base, out) {
                    if field.required && is_empty(&value) {
                        out.error(pointer(), FieldErrorCode::Required, "required");
                    } else {
                        values.insert(field.name.clone(), value);
                    }
                }
            }
            None if mode == Mode::Create => absent_on_create(field, base, &mut values, out),
            None => {}
        }
    }
    if known == input.len() {
        return values;
    }
    let mut stray: Vec<(&String, &Json)> =
        input.iter().filter(|(key, _)| !fields.iter().any(|f| f.name == **key)).collect();
    stray.sort_by_key(|(key, _)| *key);
    for (key, json) in stray {
        let pointer = child(base, key);
        match level {
            // A line keeps its id across edits so history can tell a changed line from a
            // removed one and a new one.
            Level::Line if key == "id" => {
                if let Some(id) = refusal_to_error(scalar::reference(json), &pointer, out) {
                    values.insert(key.clone(), id);
                }
            }
            Level::Record if is_system_column(key) => {
                out.error(pointer, FieldErrorCode::ReadOnly, format!("`{key}` is set by the system"));
            }
            Level::Line if is_line_system_column(key) => {
                out.error(pointer, FieldErrorCode::ReadOnly, format!("`{key}` is set by the system"));
            }
            _ => out.error(pointer, FieldErrorCode::UnknownField, format!("there is no field `{key}`")),
        }
    }
    values
}

/// `base`: the pointer of the object `field` belongs to.
fn absent_on_create(field: &FieldDecl, base: &str, values: &mut BTreeMap<String, Value>, out: &mut Outcome) {
    if matches!(field.kind, FieldKind::Computed { .. }) {
        return;
    }
    match &field.default {
        Some(DefaultValue::Literal(literal)) => {
            if let Some(value) = read_value(field, literal, base, out) {
                values.insert(field.name.clone(), value);
            }
        }
        Some(DefaultValue::Feel { feel }) => out.feel_defaults.push(PendingDefault {
            pointer: child(base, &field.name),
            field: field.name.clone(),
            expression: feel.clone(),
        }),
        None if field.required => out.error(child(base, &field.name), FieldErrorCode::Required, "required"),
        None => {}
    }
}

/// A required field holding one of these is as good as absent.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Text(s) => s.trim().is_empty(),
        Value::MultiSelect(items) | Value::Attachments(items) => items.is_empty(),
        Value::Lines(lines) => lines.is_empty(),
        _ => false,
    }
}

fn refusal_to_error(read: Result<Value, Refusal>, pointer: &str, out: &mut Outcome) -> Option<Value> {
    match read {
        Ok(value) => Some(value),
        Err(Refusal { code, reason, at }) => {
            let pointer = at.map_or_else(|| pointer.to_owned(), |token| child(pointer, token));
            out.error(pointer, code, reason);
            None
        }
    }
}

/// `base`: the pointer of the object `field` belongs to; the field's own is made only when
/// needed (an error, or the items of a list), as every field of every input comes here.
fn read_value(field: &FieldDecl, json: &Json, base: &str, out: &mut Outcome) -> Option<Value> {
    read_at(field, json, &|| child(base, &field.name), out)
}

/// `read_value` with the field's pointer made by `pointer`.
fn read_at(field: &FieldDecl, json: &Json, pointer: &dyn Fn() -> String, out: &mut Outcome) -> Option<Value> {
    if json.is_null() {
        return Some(Value::Null);
    }
    let read = match &field.kind {
        FieldKind::Text { max_length, .. } => scalar::text(json, usize::try_from(*max_length).unwrap_or(usize::MAX)),
        FieldKind::LongText {} => scalar::text(json, LONG_TEXT_MAX_CHARS),
        FieldKind::RichText {} => scalar::rich_text(json),
        FieldKind::Integer { min, max } => scalar::integer(json, *min, *max),
        FieldKind::Decimal { scale, min, max } => scalar::decimal_field(json, *scale, *min, *max),
        FieldKind::Money { currency, scale } => scalar::money(json, currency.as_deref(), *scale),
        FieldKind::Percent {} => scalar::decimal_field(json, PERCENT_SCALE, None, None),
        FieldKind::Boolean {} => scalar::boolean(json),
        FieldKind::Date {} => scalar::date(json),
        FieldKind::Datetime {} => scalar::datetime(json),
        FieldKind::Duration {} => scalar::duration(json),
        FieldKind::Email {} => scalar::email(json),
        FieldKind::Phone {} => scalar::phone(json),
        FieldKind::Url {} => scalar::url(json),
        FieldKind::Select { options } => scalar::option(json, options).map(Value::Select),
        FieldKind::MultiSelect { options } => {
            return read_list(json, &pointer(), out, |item| scalar::option(item, options)).map(Value::MultiSelect);
        }
        FieldKind::Reference { .. } | FieldKind::Party {} | FieldKind::Principal {} | FieldKind::OrgUnit {} => {
            scalar::reference(json)
        }
        FieldKind::Lines { fields } => return read_lines(fields, json, &pointer(), out),
        FieldKind::Attachment { multiple: true } => {
            return read_list(json, &pointer(), out, scalar::attachment).map(Value::Attachments);
        }
        FieldKind::Attachment { multiple: false } => match json {
            // The API writes every attachment value as a list; a single one may come back
            // that way.
            Json::Array(items) if items.len() <= 1 => {
                return read_list(json, &pointer(), out, scalar::attachment).map(Value::Attachments);
            }
            Json::Array(_) => Err(Refusal {
                code: FieldErrorCode::TooLong,
                reason: "this field holds one attachment".into(),
                at: None,
            }),
            single => scalar::attachment(single).map(|digest| Value::Attachments(vec![digest])),
        },
        FieldKind::Json {} => Ok(Value::Json(json.clone())),
        FieldKind::Computed { result, .. } => {
            let as_field = FieldDecl { kind: result.field_kind(), ..field.clone() };
            return read_at(&as_field, json, pointer, out);
        }
    };
    match read {
        Ok(value) => Some(value),
        Err(refusal) => refusal_to_error(Err(refusal), &pointer(), out),
    }
}

/// A JSON array of distinct items, each read by `item`.
fn read_list(
    json: &Json,
    pointer: &str,
    out: &mut Outcome,
    item: impl Fn(&Json) -> Result<String, Refusal>,
) -> Option<Vec<String>> {
    let Json::Array(items) = json else {
        out.error(
            pointer.to_owned(),
            FieldErrorCode::WrongType,
            format!("expected an array, got {}", scalar::json_type(json)),
        );
        return None;
    };
    let errors_before = out.errors.len();
    let mut read: Vec<String> = Vec::with_capacity(items.len());
    for (i, json) in items.iter().enumerate() {
        let at = child(pointer, i);
        match item(json) {
            Ok(value) if read.contains(&value) => {
                out.error(at, FieldErrorCode::Duplicate, format!("`{value}` is listed twice"));
            }
            Ok(value) => read.push(value),
            Err(refusal) => {
                refusal_to_error(Err(refusal), &at, out);
            }
        }
    }
    (out.errors.len() == errors_before).then_some(read)
}

/// Lines are always given whole: each line is read as a new one, so required fields and
/// defaults apply to every line.
fn read_lines(fields: &[FieldDecl], json: &Json, pointer: &str, out: &mut Outcome) -> Option<Value> {
    let Json::Array(items) = json else {
        out.error(
            pointer.to_owned(),
            FieldErrorCode::WrongType,
            format!("expected an array of lines, got {}", scalar::json_type(json)),
        );
        return None;
    };
    if items.len() > MAX_LINES {
        out.error(
            pointer.to_owned(),
            FieldErrorCode::TooLong,
            format!("{} lines; at most {MAX_LINES} allowed", items.len()),
        );
        return None;
    }
    let errors_before = out.errors.len();
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = child(pointer, i);
        match item {
            Json::Object(line) => lines.push(coerce_object(fields, line, Mode::Create, &at, Level::Line, out)),
            other => out.error(
                at,
                FieldErrorCode::WrongType,
                format!("expected a line object, got {}", scalar::json_type(other)),
            ),
        }
    }
    (out.errors.len() == errors_before).then_some(Value::Lines(lines))
}
