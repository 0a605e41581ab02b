//! Reading one JSON value as the value of one kind. Each function refuses with the code and
//! the reason the caller reports; none rounds, truncates or guesses silently, except where
//! a comment says why.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Number, Value as Json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::coerce::FieldErrorCode as Code;
use super::{Value, contact, duration};
use crate::schema::currency::{is_currency_code, minor_units};
pub use crate::schema::decl::PERCENT_SCALE;
use crate::schema::decl::SelectOption;

/// The most characters a long or rich text holds; larger documents belong in attachments.
pub const LONG_TEXT_MAX_CHARS: usize = 1_000_000;
/// More significant digits than an f64 can carry exactly, so a JSON number with more may
/// already have lost some before we saw it.
const MAX_EXACT_JSON_DIGITS: usize = 15;

#[derive(Debug)]
pub struct Refusal {
    pub code: Code,
    pub reason: String,
    /// A reference token below the field's pointer (`amount` of a money value).
    pub at: Option<&'static str>,
}

pub type Read<T> = Result<T, Refusal>;

fn refuse<T>(code: Code, reason: impl Into<String>) -> Read<T> {
    Err(Refusal { code, reason: reason.into(), at: None })
}

fn wrong_type<T>(expected: &str, got: &Json) -> Read<T> {
    refuse(Code::WrongType, format!("expected {expected}, got {}", json_type(got)))
}

pub fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn string<'a>(value: &'a Json, expected: &str) -> Read<&'a str> {
    match value {
        // PostgreSQL cannot store U+0000 in text and SQLite would cut C strings at it:
        // refused alike on both, as input no person types.
        Json::String(s) if s.contains('\0') => {
            refuse(Code::InvalidFormat, "contains a NUL character (U+0000), which cannot be stored")
        }
        Json::String(s) => Ok(s),
        other => wrong_type(expected, other),
    }
}

pub fn text(value: &Json, max_chars: usize) -> Read<Value> {
    let s = string(value, "a string")?;
    check_length(s, max_chars)?;
    Ok(Value::Text(s.to_owned()))
}

pub fn rich_text(value: &Json) -> Read<Value> {
    let clean = ammonia::clean(string(value, "an HTML string")?);
    check_length(&clean, LONG_TEXT_MAX_CHARS)?;
    Ok(Value::Text(clean))
}

fn check_length(s: &str, max_chars: usize) -> Read<()> {
    let chars = s.chars().count();
    if chars > max_chars {
        return refuse(Code::TooLong, format!("{chars} characters; at most {max_chars} allowed"));
    }
    Ok(())
}

pub fn integer(value: &Json, min: Option<i64>, max: Option<i64>) -> Read<Value> {
    let n = match value {
        Json::Number(n) if n.is_i64() => n.as_i64(),
        Json::Number(n) if n.is_u64() => None,
        Json::Number(_) => return refuse(Code::WrongType, "expected a whole number"),
        Json::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return refuse(Code::InvalidFormat, format!("`{s}` is not a whole number"));
            }
            i64::from_str(s).ok()
        }
        other => return wrong_type("a whole number", other),
    };
    let Some(n) = n else {
        return refuse(Code::OutOfRange, "the number is too large");
    };
    check_range(n, min, max)?;
    Ok(Value::Integer(n))
}

fn check_range<T: PartialOrd + std::fmt::Display>(n: T, min: Option<T>, max: Option<T>) -> Read<()> {
    if let Some(min) = min.filter(|min| n < *min) {
        return refuse(Code::OutOfRange, format!("must be at least {min}"));
    }
    if let Some(max) = max.filter(|max| n > *max) {
        return refuse(Code::OutOfRange, format!("must be at most {max}"));
    }
    Ok(())
}

/// An exact decimal from a JSON string (`"12.50"`) or number (`12.5`), with at most
/// `scale` places, returned with exactly `scale` places.
pub fn decimal_with_scale(value: &Json, scale: u8) -> Read<Decimal> {
    let d = decimal(value)?;
    let places = d.normalize().scale();
    if places > u32::from(scale) {
        return refuse(
            Code::TooManyDecimals,
            format!("too many decimal places ({places}); at most {scale}, and values are never rounded"),
        );
    }
    let mut d = d.normalize();
    d.rescale(u32::from(scale));
    Ok(d)
}

fn decimal(value: &Json) -> Read<Decimal> {
    match value {
        Json::String(s) => decimal_text(s),
        Json::Number(n) => decimal_number(n),
        other => wrong_type("a decimal number (preferably as a string such as \"12.50\")", other),
    }
}

fn decimal_text(s: &str) -> Read<Decimal> {
    let plain = s.strip_prefix(['-', '+']).unwrap_or(s);
    let well_formed = !plain.is_empty()
        && plain.chars().all(|c| c.is_ascii_digit() || c == '.')
        && plain.matches('.').count() <= 1
        && plain.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return refuse(Code::InvalidFormat, format!("`{s}` is not a decimal number"));
    }
    Decimal::from_str_exact(s)
        .or_else(|_| refuse(Code::OutOfRange, "too many digits for an exact decimal (at most 28)"))
}

fn decimal_number(n: &Number) -> Read<Decimal> {
    if let Some(i) = n.as_i64() {
        return Ok(Decimal::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Decimal::from(u));
    }
    let text = n.to_string();
    let (mantissa, _) = text.split_once(['e', 'E']).unwrap_or((&text, ""));
    let digits = mantissa.trim_start_matches('-').replace('.', "");
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    if significant > MAX_EXACT_JSON_DIGITS {
        return refuse(
            Code::InvalidFormat,
            format!(
                "numbers with more than {MAX_EXACT_JSON_DIGITS} significant digits lose precision in JSON; send it as a string"
            ),
        );
    }
    let parsed =
        if text.contains(['e', 'E']) { Decimal::from_scientific(&text) } else { Decimal::from_str_exact(&text) };
    parsed.or_else(|_| refuse(Code::OutOfRange, "the number is out of the decimal range"))
}

pub fn decimal_field(value: &Json, scale: u8, min: Option<Decimal>, max: Option<Decimal>) -> Read<Value> {
    let d = decimal_with_scale(value, scale)?;
    check_range(d, min, max)?;
    Ok(Value::Decimal(d))
}

pub fn money(value: &Json, fixed: Option<&str>, scale: Option<u8>) -> Read<Value> {
    let (amount, currency) = match (value, fixed) {
        (Json::Object(map), _) => {
            if let Some(key) = map.keys().find(|k| *k != "amount" && *k != "currency") {
                return refuse(Code::UnknownField, format!("unknown key `{key}`; money has `amount` and `currency`"));
            }
            let amount = map.get("amount").ok_or_else(|| Refusal {
                code: Code::Required,
                reason: "money needs an `amount`".into(),
                at: Some("amount"),
            })?;
            let currency = match (map.get("currency"), fixed) {
                (Some(c), _) => currency(c, fixed)?,
                (None, Some(fixed)) => fixed.to_owned(),
                (None, None) => {
                    return Err(Refusal {
                        code: Code::Required,
                        reason: "money needs a `currency` such as \"CNY\"".into(),
                        at: Some("currency"),
                    });
                }
            };
            (amount, currency)
        }
        // With a fixed currency, a bare amount is unambiguous.
        (Json::String(_) | Json::Number(_), Some(fixed)) => (value, fixed.to_owned()),
        (other, _) => return wrong_type("money as {\"amount\": \"12.50\", \"currency\": \"CNY\"}", other),
    };
    let scale = scale.unwrap_or_else(|| minor_units(&currency));
    let amount = decimal_with_scale(amount, scale).map_err(|r| Refusal { at: Some("amount"), ..r })?;
    Ok(Value::Money { amount, currency })
}

fn currency(value: &Json, fixed: Option<&str>) -> Read<String> {
    let at = Some("currency");
    let code = string(value, "a currency code such as \"CNY\"").map_err(|r| Refusal { at, ..r })?;
    if !is_currency_code(code) {
        return Err(Refusal {
            code: Code::InvalidCurrency,
            reason: format!("`{code}` is not a currency code of three capital letters such as CNY"),
            at,
        });
    }
    if let Some(fixed) = fixed.filter(|f| *f != code) {
        return Err(Refusal {
            code: Code::InvalidCurrency,
            reason: format!("this field is always in {fixed}, not {code}"),
            at,
        });
    }
    Ok(code.to_owned())
}

pub fn boolean(value: &Json) -> Read<Value> {
    match value {
        Json::Bool(b) => Ok(Value::Bool(*b)),
        other => wrong_type("true or false", other),
    }
}

pub fn date(value: &Json) -> Read<Value> {
    let s = string(value, "a date such as \"2026-03-14\"")?;
    parse_date(s).map(Value::Date).ok_or_else(|| Refusal {
        code: Code::InvalidFormat,
        reason: format!("`{s}` is not a date such as 2026-03-14"),
        at: None,
    })
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

pub fn datetime(value: &Json) -> Read<Value> {
    let s = string(value, "a date-time such as \"2026-03-14T09:30:00+08:00\"")?;
    let parsed = OffsetDateTime::parse(s, &Rfc3339).ok().filter(|t| (1..=9999).contains(&t.year()));
    let Some(t) = parsed else {
        return refuse(
            Code::InvalidFormat,
            format!(
                "`{s}` is not a date-time with an offset such as 2026-03-14T09:30:00+08:00 or 2026-03-14T01:30:00Z"
            ),
        );
    };
    let utc = t.to_offset(UtcOffset::UTC);
    // Both databases keep microseconds; dropping the nanoseconds here means a value reads
    // back from either exactly as it was accepted.
    let micros = utc.microsecond();
    let utc = utc.replace_microsecond(micros).unwrap_or(utc);
    Ok(Value::DateTime(utc))
}

pub fn duration(value: &Json) -> Read<Value> {
    match value {
        Json::String(s) => {
            duration::parse_duration(s).map(Value::Duration).or_else(|reason| refuse(Code::InvalidFormat, reason))
        }
        Json::Number(n) => match n.as_i64() {
            Some(seconds) => Ok(Value::Duration(seconds)),
            None => refuse(Code::WrongType, "a duration in seconds is a whole number"),
        },
        other => wrong_type("an ISO 8601 duration such as \"PT1H30M\" or a number of seconds", other),
    }
}

pub fn email(value: &Json) -> Read<Value> {
    let s = string(value, "an e-mail address")?;
    contact::email(s).map(Value::Text).or_else(|reason| refuse(Code::InvalidFormat, reason))
}

pub fn phone(value: &Json) -> Read<Value> {
    let s = string(value, "a phone number")?;
    contact::phone(s).or_else(|reason| refuse(Code::InvalidFormat, reason))?;
    Ok(Value::Text(s.to_owned()))
}

pub fn url(value: &Json) -> Read<Value> {
    let s = string(value, "a URL")?;
    contact::url(s).or_else(|reason| refuse(Code::InvalidFormat, reason))?;
    Ok(Value::Text(s.to_owned()))
}

pub fn option(value: &Json, options: &[SelectOption]) -> Read<String> {
    let s = string(value, "one of the options' values")?;
    if options.iter().any(|o| o.value == s) {
        return Ok(s.to_owned());
    }
    let known: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
    refuse(Code::UnknownOption, format!("`{s}` is not one of: {}", known.join(", ")))
}

pub fn reference(value: &Json) -> Read<Value> {
    let s = string(value, "an id")?;
    Uuid::parse_str(s)
        .map(Value::Reference)
        .or_else(|_| refuse(Code::InvalidFormat, format!("`{s}` is not an id (a UUID)")))
}

/// A SHA-256 digest in lower-case hex.
pub fn attachment(value: &Json) -> Read<String> {
    let s = string(value, "an attachment's SHA-256 digest")?;
    if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(s.to_ascii_lowercase());
    }
    refuse(Code::InvalidFormat, format!("`{s}` is not a SHA-256 digest (64 hex digits)"))
}
