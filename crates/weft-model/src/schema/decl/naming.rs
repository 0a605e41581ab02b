//! Naming series: the human number a record gets on creation, such as `PO-2026-00042`.
//! The store allocates the counter per (type, period key); the pattern decides the period,
//! so `{YYYY}` restarts numbering each year.

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamingSeries {
    /// Literal text with tokens `{YYYY}`, `{YY}`, `{MM}`, `{DD}` and exactly one counter
    /// `{#…}` whose width is the number of `#`, e.g. `PO-{YYYY}-{#####}`.
    pub pattern: String,
}

impl NamingSeries {
    pub fn parse(&self) -> Result<NamingPattern, NamingError> {
        NamingPattern::parse(&self.pattern)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error("the pattern is empty")]
    Empty,
    #[error("the pattern is longer than {MAX_PATTERN_LEN} characters")]
    TooLong,
    #[error("unknown token `{{{0}}}`; use {{YYYY}}, {{YY}}, {{MM}}, {{DD}} or {{#…}}")]
    UnknownToken(String),
    #[error("`{{` without a closing `}}`")]
    Unclosed,
    #[error("`}}` without an opening `{{`")]
    UnopenedBrace,
    #[error("`{0}` is not allowed in a number (no spaces, control characters, `/`, `?`, `#` or `%`)")]
    BadCharacter(char),
    #[error("the pattern needs exactly one counter such as {{#####}}")]
    NoCounter,
    #[error("the pattern has more than one counter")]
    SeveralCounters,
    #[error("a counter has at most {MAX_COUNTER_WIDTH} digits")]
    CounterTooWide,
    #[error("{0} needs a larger period beside it, or numbers would repeat: {1}")]
    PeriodGap(&'static str, &'static str),
}

const MAX_PATTERN_LEN: usize = 64;
const MAX_COUNTER_WIDTH: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePart {
    Year4,
    Year2,
    Month,
    Day,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Date(DatePart),
    Counter { width: usize },
}

/// A validated naming pattern, ready to format numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamingPattern {
    pieces: Vec<Piece>,
}

impl NamingPattern {
    pub fn parse(pattern: &str) -> Result<Self, NamingError> {
        if pattern.is_empty() {
            return Err(NamingError::Empty);
        }
        if pattern.chars().count() > MAX_PATTERN_LEN {
            return Err(NamingError::TooLong);
        }
        let mut pieces = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(after_brace) = rest.strip_prefix('{') {
                let end = after_brace.find('}').ok_or(NamingError::Unclosed)?;
                pieces.push(token(&after_brace[..end])?);
                rest = &after_brace[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..end];
                if literal.contains('}') {
                    return Err(NamingError::UnopenedBrace);
                }
                if let Some(bad) = literal.chars().find(|&c| !allowed_literal(c)) {
                    return Err(NamingError::BadCharacter(bad));
                }
                pieces.push(Piece::Literal(literal.to_owned()));
                rest = &rest[end..];
            }
        }
        let counters = pieces.iter().filter(|p| matches!(p, Piece::Counter { .. })).count();
        match counters {
            0 => return Err(NamingError::NoCounter),
            1 => {}
            _ => return Err(NamingError::SeveralCounters),
        }
        let has = |part: DatePart| pieces.contains(&Piece::Date(part));
        let has_year = has(DatePart::Year4) || has(DatePart::Year2);
        if has(DatePart::Month) && !has_year {
            return Err(NamingError::PeriodGap("{MM}", "add {YYYY} or {YY}"));
        }
        if has(DatePart::Day) && !has(DatePart::Month) {
            return Err(NamingError::PeriodGap("{DD}", "add {MM}"));
        }
        Ok(NamingPattern { pieces })
    }

    /// The number for the `counter`-th record of the period containing `date`.
    pub fn format(&self, date: Date, counter: u64) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Date(part) => out.push_str(&date_part(*part, date)),
                Piece::Counter { width } => out.push_str(&format!("{counter:0width$}")),
            }
        }
        out
    }

    /// The period whose counter a record created on `date` draws from: the finest date
    /// part in the pattern (`2026`, `2026-03`, `2026-03-01`), or `""` for one counter
    /// forever.
    pub fn period_key(&self, date: Date) -> String {
        let has = |part: DatePart| self.pieces.contains(&Piece::Date(part));
        let year = date.year();
        let month = u8::from(date.month());
        if has(DatePart::Day) {
            format!("{year:04}-{month:02}-{:02}", date.day())
        } else if has(DatePart::Month) {
            format!("{year:04}-{month:02}")
        } else if has(DatePart::Year4) || has(DatePart::Year2) {
            format!("{year:04}")
        } else {
            String::new()
        }
    }
}

fn token(inner: &str) -> Result<Piece, NamingError> {
    let piece = match inner {
        "YYYY" => Piece::Date(DatePart::Year4),
        "YY" => Piece::Date(DatePart::Year2),
        "MM" => Piece::Date(DatePart::Month),
        "DD" => Piece::Date(DatePart::Day),
        hashes if !hashes.is_empty() && hashes.chars().all(|c| c == '#') => {
            if hashes.len() > MAX_COUNTER_WIDTH {
                return Err(NamingError::CounterTooWide);
            }
            Piece::Counter { width: hashes.len() }
        }
        other => return Err(NamingError::UnknownToken(other.to_owned())),
    };
    Ok(piece)
}

// Numbers appear in URLs, file names and e-mail subjects, so keep them to printable text
// that needs no escaping there.
fn allowed_literal(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%'))
}

fn date_part(part: DatePart, date: Date) -> String {
    match part {
        DatePart::Year4 => format!("{:04}", date.year()),
        DatePart::Year2 => format!("{:02}", date.year().rem_euclid(100)),
        DatePart::Month => format!("{:02}", u8::from(date.month())),
        DatePart::Day => format!("{:02}", date.day()),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn formats_numbers() {
        let cases = [
            ("PO-{YYYY}-{#####}", date!(2026 - 03 - 14), 42, "PO-2026-00042"),
            ("PO-{YYYY}-{#####}", date!(2026 - 03 - 14), 123_456, "PO-2026-123456"),
            ("INV{YY}{MM}-{####}", date!(2027 - 01 - 05), 7, "INV2701-0007"),
            ("T{YYYY}{MM}{DD}{###}", date!(2026 - 12 - 31), 1, "T20261231001"),
            ("TCK-{#}", date!(2026 - 03 - 14), 99, "TCK-99"),
            ("采购-{YYYY}-{###}", date!(2026 - 03 - 14), 5, "采购-2026-005"),
        ];
        for (pattern, date, counter, expected) in cases {
            let parsed = NamingPattern::parse(pattern).unwrap();
            assert_eq!(parsed.format(date, counter), expected, "{pattern}");
        }
    }

    #[test]
    fn period_key_follows_the_finest_date_part() {
        let cases = [
            ("PO-{YYYY}-{#####}", date!(2026 - 03 - 14), "2026"),
            ("PO-{YYYY}-{#####}", date!(2027 - 01 - 01), "2027"),
            ("INV{YY}{MM}-{####}", date!(2026 - 03 - 14), "2026-03"),
            ("T{YYYY}{MM}{DD}{###}", date!(2026 - 03 - 14), "2026-03-14"),
            ("TCK-{#####}", date!(2026 - 03 - 14), ""),
        ];
        for (pattern, date, expected) in cases {
            let parsed = NamingPattern::parse(pattern).unwrap();
            assert_eq!(parsed.period_key(date), expected, "{pattern}");
        }
        let po = NamingPattern::parse("PO-{YYYY}-{#####}").unwrap();
        assert_ne!(po.period_key(date!(2026 - 12 - 31)), po.period_key(date!(2027 - 01 - 01)));
        assert_eq!(po.period_key(date!(2026 - 01 - 01)), po.period_key(date!(2026 - 12 - 31)));
    }

    #[test]
    fn refuses_bad_patterns() {
        let cases = [
            ("", NamingError::Empty),
            ("PO-{YYYY}", NamingError::NoCounter),
            ("{###}-{###}", NamingError::SeveralCounters),
            ("PO-{YEAR}-{###}", NamingError::UnknownToken("YEAR".into())),
            ("PO-{}-{###}", NamingError::UnknownToken(String::new())),
            ("PO-{YYYY-{###}", NamingError::UnknownToken("YYYY-{###".into())),
            ("PO-{###", NamingError::Unclosed),
            ("PO}-{###}", NamingError::UnopenedBrace),
            ("PO {###}", NamingError::BadCharacter(' ')),
            ("PO/{###}", NamingError::BadCharacter('/')),
            ("{#############}", NamingError::CounterTooWide),
            ("{MM}-{###}", NamingError::PeriodGap("{MM}", "add {YYYY} or {YY}")),
            ("{YYYY}{DD}-{###}", NamingError::PeriodGap("{DD}", "add {MM}")),
        ];
        for (pattern, expected) in cases {
            assert_eq!(NamingPattern::parse(pattern), Err(expected), "{pattern:?}");
        }
        assert_eq!(NamingPattern::parse(&format!("{}{{#}}", "A".repeat(64))), Err(NamingError::TooLong));
    }

    #[test]
    fn series_parses_its_pattern() {
        let series: NamingSeries = serde_json::from_str(r#"{"pattern": "PO-{YYYY}-{#####}"}"#).unwrap();
        assert_eq!(series.parse().unwrap().format(date!(2026 - 03 - 14), 42), "PO-2026-00042");
    }
}
