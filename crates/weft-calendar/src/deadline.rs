//! Deadlines: when something is due, and when to remind before it or escalate after it.
//!
//! User tasks, SLAs and payment terms all say "due two working days after X, remind two
//! hours before, escalate one day after"; this module is that sentence, with or without a
//! business calendar. It only computes instants: whether a reminder already in the past
//! still fires is the caller's decision.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::timer::parse_duration;
use crate::{BusinessCalendar, Error, IsoDuration, MAX_EXPRESSION_LEN, Result, quote};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A reminder.
    Before,
    /// An escalation.
    After,
}

/// `PT2H before` or `P1D after` the due instant; stored as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeadlineOffset {
    pub duration: IsoDuration,
    pub direction: Direction,
}

impl DeadlineOffset {
    pub const fn before(duration: IsoDuration) -> Self {
        Self { duration, direction: Direction::Before }
    }

    pub const fn after(duration: IsoDuration) -> Self {
        Self { duration, direction: Direction::After }
    }

    /// `<ISO 8601 duration> before|after`, the word in any case.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidDeadlineOffset { input: quote(input.trim()), reason };
        let s = input.trim();
        if s.len() > MAX_EXPRESSION_LEN {
            return Err(invalid(format!("longer than {MAX_EXPRESSION_LEN} bytes")));
        }
        let words: Vec<&str> = s.split_whitespace().take(3).collect();
        let [duration, word] = words[..] else {
            return Err(invalid("expected a duration and `before` or `after`, e.g. `PT2H before`".to_owned()));
        };
        let direction = if word.eq_ignore_ascii_case("before") {
            Direction::Before
        } else if word.eq_ignore_ascii_case("after") {
            Direction::After
        } else {
            return Err(invalid(format!("`{}` is neither `before` nor `after`", quote(word))));
        };
        let duration = parse_duration(duration).map_err(invalid)?;
        Ok(Self { duration, direction })
    }

    /// The instant this offset names relative to `due`, in working time when a calendar is
    /// given (days are working days, hours working hours).
    pub fn apply(&self, due: OffsetDateTime, calendar: Option<&BusinessCalendar>) -> Result<OffsetDateTime> {
        match (self.direction, calendar) {
            (Direction::Before, None) => self.duration.sub_from(due),
            (Direction::After, None) => self.duration.add_to(due),
            (Direction::Before, Some(calendar)) => calendar.sub_working(due, &self.duration),
            (Direction::After, Some(calendar)) => calendar.add_working(due, &self.duration),
        }
    }
}

impl fmt::Display for DeadlineOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.direction {
            Direction::Before => "before",
            Direction::After => "after",
        };
        write!(f, "{} {word}", self.duration)
    }
}

impl FromStr for DeadlineOffset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for DeadlineOffset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeadlineOffset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The due instant `duration` after `start`, in working time when a calendar is given:
/// "resolve within 2 working days" is `due_after(opened, P2D, Some(calendar))`.
pub fn due_after(
    start: OffsetDateTime,
    duration: &IsoDuration,
    calendar: Option<&BusinessCalendar>,
) -> Result<OffsetDateTime> {
    DeadlineOffset::after(*duration).apply(start, calendar)
}

/// The instant of each offset around `due`, in the order given.
pub fn schedule(
    due: OffsetDateTime,
    offsets: &[DeadlineOffset],
    calendar: Option<&BusinessCalendar>,
) -> Result<Vec<OffsetDateTime>> {
    offsets.iter().map(|offset| offset.apply(due, calendar)).collect()
}

#[cfg(test)]
mod tests;
