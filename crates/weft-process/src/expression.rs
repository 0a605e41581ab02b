//! Expressions in a process: compiled once at deployment through `weft-expr` (strict: every
//! name known), evaluated by the engine over the instance's JSON variables.
//!
//! Variables are JSON in Weft's API shape (decimals and amounts as strings, dates as ISO
//! text) because that is what forms, webhooks and child processes hand over and what the
//! state is stored as. FEEL needs typed values, so a lookup converts the JSON it finds by the
//! type the caller's schema declares for that variable; without a declared type (paths into
//! objects, engine variables) a plain reading applies: numbers are exact decimals, strings
//! text, `{amount, currency}` money.
//!
//! A bare name or path (`approvers`, `=order.lines`) is read straight from the JSON, because
//! FEEL values in `weft-expr` have no lists or contexts and collections are exactly what
//! multi-instance inputs and mappings move around.

use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use weft_expr::{Bindings, Checked, Context, EvalError, ExprError, FeelValue, FieldType, Limits, Schema};
use weft_model::schema::Value;

use crate::model::{ExprRole, Expression};

/// An expression ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Compiled {
    /// Literal text (an assignee's login, an ISO 8601 duration).
    Text(String),
    /// A variable, or a path into one.
    Path(Vec<String>),
    Feel(Checked),
}

/// Where names are looked up during evaluation: the scopes an element sees, innermost first.
pub(crate) trait Variables {
    fn get(&self, name: &str) -> Option<Cow<'_, Json>>;
}

impl Variables for Map<String, Json> {
    fn get(&self, name: &str) -> Option<Cow<'_, Json>> {
        Map::get(self, name).map(Cow::Borrowed)
    }
}

const KEYWORDS: [&str; 8] = ["and", "or", "not", "in", "between", "true", "false", "null"];

/// `name` or `a.b.c`, each part a FEEL name that is not a keyword.
pub(crate) fn simple_path(text: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = text.split('.').collect();
    let ok = parts.iter().all(|p| {
        let mut chars = p.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !KEYWORDS.contains(p)
    });
    ok.then(|| parts.into_iter().map(str::to_owned).collect())
}

fn describe(source: &str, e: &ExprError) -> String {
    let near: String = source.get(e.span.start..e.span.end).unwrap_or_default().chars().take(40).collect();
    if near.is_empty() { e.message.clone() } else { format!("{} (at `{near}`)", e.message) }
}

/// Compiles `expr` against the names in `schema`, or says everything wrong with it.
pub(crate) fn compile(expr: &Expression, schema: &Schema) -> Result<Compiled, Vec<String>> {
    let text = expr.text.as_str();
    let feel_value = |schema: &Schema| {
        let parsed = weft_expr::parse_with(text, &Limits::default()).map_err(|e| vec![describe(text, &e)])?;
        weft_expr::check_value(&parsed, schema)
            .map(Compiled::Feel)
            .map_err(|errors| errors.iter().map(|e| describe(text, e)).collect::<Vec<_>>())
    };
    match expr.role {
        ExprRole::Condition | ExprRole::Completion => {
            let parsed = weft_expr::parse_with(text, &Limits::default()).map_err(|e| vec![describe(text, &e)])?;
            weft_expr::check(&parsed, schema)
                .map(Compiled::Feel)
                .map_err(|errors| errors.iter().map(|e| describe(text, e)).collect())
        }
        ExprRole::TextOrValue | ExprRole::Timer if !expr.feel => Ok(Compiled::Text(text.to_owned())),
        ExprRole::Output => match simple_path(text) {
            Some(path) => Ok(Compiled::Path(path)),
            None => feel_value(schema),
        },
        ExprRole::Value | ExprRole::TextOrValue | ExprRole::Timer => match simple_path(text) {
            Some(path) if path.first().is_some_and(|head| schema.field_type(head).is_some()) => {
                Ok(Compiled::Path(path))
            }
            _ => feel_value(schema),
        },
    }
}

/// The FEEL view of an element's variables.
struct FeelContext<'a> {
    vars: &'a dyn Variables,
    schema: &'a Schema,
    bindings: Bindings,
}

impl Context for FeelContext<'_> {
    fn lookup(&self, path: &[String]) -> Result<Option<Cow<'_, Value>>, EvalError> {
        let Some((head, rest)) = path.split_first() else { return Ok(None) };
        let Some(root) = self.vars.get(head) else { return Ok(None) };
        let mut current: &Json = &root;
        for part in rest {
            match current.get(part) {
                Some(next) => current = next,
                None => return Ok(None),
            }
        }
        let declared = if rest.is_empty() { self.schema.field_type(head) } else { None };
        Ok(Some(Cow::Owned(to_value(current, declared))))
    }

    fn bindings(&self) -> &Bindings {
        &self.bindings
    }
}

/// Evaluates a compiled expression to JSON; the error says why, for an incident.
pub(crate) fn value(
    compiled: &Compiled,
    vars: &dyn Variables,
    schema: &Schema,
    now: OffsetDateTime,
) -> Result<Json, String> {
    match compiled {
        Compiled::Text(text) => Ok(Json::String(text.clone())),
        Compiled::Path(path) => Ok(read_path(vars, path).unwrap_or(Json::Null)),
        Compiled::Feel(checked) => {
            let context = FeelContext { vars, schema, bindings: Bindings::new(now) };
            weft_expr::evaluate(checked, &context).map(|v| feel_to_json(&v)).map_err(|e| e.to_string())
        }
    }
}

/// Whether a compiled condition holds (is `true`; false and null do not).
pub(crate) fn holds(
    compiled: &Compiled,
    vars: &dyn Variables,
    schema: &Schema,
    now: OffsetDateTime,
) -> Result<bool, String> {
    match compiled {
        Compiled::Feel(checked) => {
            let context = FeelContext { vars, schema, bindings: Bindings::new(now) };
            weft_expr::matches(checked, &context).map_err(|e| e.to_string())
        }
        other => Ok(value(other, vars, schema, now)? == Json::Bool(true)),
    }
}

fn read_path(vars: &dyn Variables, path: &[String]) -> Option<Json> {
    let (head, rest) = path.split_first()?;
    let root = vars.get(head)?;
    let mut current: &Json = &root;
    for part in rest {
        current = current.get(part)?;
    }
    Some(current.clone())
}

fn decimal(n: &serde_json::Number) -> Option<Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    let text = n.to_string();
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

fn money(map: &Map<String, Json>) -> Option<Value> {
    let amount = match map.get("amount")? {
        Json::String(s) => Decimal::from_str(s).ok()?,
        Json::Number(n) => decimal(n)?,
        _ => return None,
    };
    let currency = map.get("currency")?.as_str()?.to_owned();
    Some(Value::Money { amount, currency })
}

/// JSON read as a Weft value, by the declared type when there is one. A value that does not
/// read as its type is handed over as JSON, which evaluation reports as a mismatch.
pub(crate) fn to_value(json: &Json, declared: Option<&FieldType>) -> Value {
    let typed = match (declared, json) {
        (_, Json::Null) => Some(Value::Null),
        (Some(FieldType::Integer | FieldType::Decimal), Json::String(s)) => {
            Decimal::from_str(s).ok().map(Value::Decimal)
        }
        (Some(FieldType::Money), Json::Object(map)) => money(map),
        (Some(FieldType::Date), Json::String(s)) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &format).ok().map(Value::Date)
        }
        (Some(FieldType::DateTime), Json::String(s)) => {
            OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| Value::DateTime(t.to_offset(time::UtcOffset::UTC)))
        }
        (Some(FieldType::Duration), Json::String(s)) => {
            weft_model::schema::value::parse_duration(s).ok().map(Value::Duration)
        }
        (Some(FieldType::Duration), Json::Number(n)) => n.as_i64().map(Value::Duration),
        (Some(FieldType::Reference(_)), Json::String(s)) => uuid::Uuid::parse_str(s).ok().map(Value::Reference),
        (Some(FieldType::Opaque(_)), other) => Some(Value::Json(other.clone())),
        _ => None,
    };
    typed.unwrap_or_else(|| plain_value(json))
}

fn plain_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => decimal(n).map_or_else(|| Value::Json(json.clone()), Value::Decimal),
        Json::String(s) => Value::Text(s.clone()),
        Json::Object(map) => money(map).unwrap_or_else(|| Value::Json(json.clone())),
        Json::Array(_) => Value::Json(json.clone()),
    }
}

/// A FEEL value in Weft's API JSON: whole numbers as numbers, other decimals as strings (so
/// they stay exact), temporal values as ISO 8601 text.
pub(crate) fn feel_to_json(value: &FeelValue) -> Json {
    match value {
        FeelValue::Null => Json::Null,
        FeelValue::Bool(b) => Json::Bool(*b),
        FeelValue::Number(n) => number_json(*n),
        FeelValue::String(s) => Json::String(s.clone()),
        FeelValue::Date(d) => Value::Date(*d).to_json(),
        FeelValue::DateTime(t) => Value::DateTime(*t).to_json(),
        FeelValue::Duration(s) => Value::Duration(*s).to_json(),
        FeelValue::Money { amount, currency } => {
            serde_json::json!({ "amount": amount.to_string(), "currency": currency })
        }
        FeelValue::Reference(id) => Json::String(id.to_string()),
    }
}

fn number_json(n: Decimal) -> Json {
    if n.fract().is_zero()
        && let Ok(i) = i64::try_from(n)
    {
        return Json::from(i);
    }
    Json::String(n.normalize().to_string())
}

/// A JSON scalar as text (a correlation key, an assignee); `None` for null, lists and objects.
pub(crate) fn as_text(json: &Json) -> Option<String> {
    match json {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn expr(text: &str, role: ExprRole) -> Expression {
        let (feel, text) = match text.strip_prefix('=') {
            Some(t) => (true, t),
            None => (false, text),
        };
        Expression { text: text.to_owned(), feel, role, element: "e".into(), line: 1 }
    }

    fn schema() -> Schema {
        Schema::new()
            .with_var("amount", FieldType::Decimal)
            .with_var("due", FieldType::Date)
            .with_var("approvers", FieldType::Opaque("json"))
    }

    #[test]
    fn conditions_compile_with_or_without_the_equals_sign() {
        let vars: Map<String, Json> = serde_json::from_value(json!({"amount": "12000.50"})).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        for text in ["amount > 10000", "=amount > 10000"] {
            let c = compile(&expr(text, ExprRole::Condition), &schema()).unwrap();
            assert!(holds(&c, &vars, &schema(), now).unwrap(), "{text}");
        }
        let errors = compile(&expr("amout > 1", ExprRole::Condition), &schema()).unwrap_err();
        assert!(errors[0].contains("amount"), "{errors:?}");
        assert!(compile(&expr("amount +", ExprRole::Condition), &schema()).is_err());
    }

    #[test]
    fn declared_types_read_json_strings_as_dates_and_decimals() {
        let vars: Map<String, Json> = serde_json::from_value(json!({"due": "2026-03-01", "amount": 5})).unwrap();
        let c = compile(&expr("due < date(\"2026-04-01\") and amount = 5", ExprRole::Condition), &schema()).unwrap();
        assert!(holds(&c, &vars, &schema(), OffsetDateTime::UNIX_EPOCH).unwrap());
    }

    #[test]
    fn bare_paths_read_lists_and_literals_stay_text() {
        let vars: Map<String, Json> = serde_json::from_value(json!({"approvers": ["a", "b"]})).unwrap();
        let c = compile(&expr("=approvers", ExprRole::Value), &schema()).unwrap();
        assert_eq!(value(&c, &vars, &schema(), OffsetDateTime::UNIX_EPOCH).unwrap(), json!(["a", "b"]));
        let c = compile(&expr("alice", ExprRole::TextOrValue), &schema()).unwrap();
        assert_eq!(c, Compiled::Text("alice".into()));
        let c = compile(&expr("=amount * 2", ExprRole::Value), &schema()).unwrap();
        let vars: Map<String, Json> = serde_json::from_value(json!({"amount": "1.25"})).unwrap();
        assert_eq!(value(&c, &vars, &schema(), OffsetDateTime::UNIX_EPOCH).unwrap(), json!("2.5"));
    }
}
