//! Business calendars and ISO 8601 timers, pure.
//!
//! The process engine arms BPMN timers (`timeDate`, `timeDuration`, `timeCycle`) with
//! [`TimerSpec`], optionally counted in the working time of a [`BusinessCalendar`]; SLAs,
//! reminders, escalations and payment terms reuse the same arithmetic through [`deadline`].
//! Nothing here reads a clock or a time zone database: callers pass `now`, and calendars carry
//! a fixed UTC offset, so every answer is reproducible in tests and on any machine.
//!
//! Every loop is bounded: working time is walked by intervals, days and whole weeks, never
//! minute by minute, and stops with [`Error::BeyondHorizon`] after [`HORIZON_YEARS`].
#![forbid(unsafe_code)]

pub mod calendar;
pub mod deadline;
pub mod timer;

#[cfg(test)]
mod fixtures;

pub use calendar::{BusinessCalendar, CalendarDef, CalendarProblem, HolidayDef, WeekDef, WorkingDayDef};
pub use deadline::{DeadlineOffset, Direction};
pub use timer::{IsoDuration, TimerSpec};

/// Timer expressions come from uploaded BPMN files; a cap keeps parsing and error messages
/// small whatever the file holds. The longest sensible expression is well under 100 bytes.
pub const MAX_EXPRESSION_LEN: usize = 256;

/// Working-time arithmetic gives up this far from where it started: a deadline two centuries
/// away is a typo, and the cap is what makes every walk through a calendar finite.
pub const HORIZON_YEARS: i64 = 200;

/// Everything that can go wrong here, as values: the engine turns them into incidents and the
/// API into problem documents, so nothing in this crate panics on bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not a timer expression this crate reads; `reason` says what was expected.
    #[error("invalid timer expression `{input}`: {reason}")]
    InvalidTimer { input: String, reason: String },
    /// Not a `<duration> before|after` offset.
    #[error("invalid deadline offset `{input}`: {reason}")]
    InvalidDeadlineOffset { input: String, reason: String },
    /// Every problem of a calendar declaration at once, so one round of fixes suffices.
    #[error("invalid business calendar: {}", list_problems(.problems))]
    InvalidCalendar { problems: Vec<CalendarProblem> },
    /// Years, months and weeks have no fixed amount of working time.
    #[error("{unit} cannot be counted in working time; use working days (`P5D`) or hours (`PT40H`)")]
    NotWorkingTimeUnit { unit: &'static str },
    /// The result would fall outside the dates this crate represents (years -9999 to 9999).
    #[error("{what} is outside the supported date range")]
    OutOfRange { what: &'static str },
    /// A walk through working time went further than [`HORIZON_YEARS`].
    #[error("working-time arithmetic stops {HORIZON_YEARS} years from its start; the duration is implausibly long")]
    BeyondHorizon,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn list_problems(problems: &[CalendarProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Error messages quote the input; a bounded quote keeps a megabyte of junk out of logs.
pub(crate) fn quote(input: &str) -> String {
    const MAX: usize = 64;
    match input.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}
