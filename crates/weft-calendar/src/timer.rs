//! ISO 8601 timer expressions as BPMN engines (Camunda, Zeebe) read them: `timeDate`,
//! `timeDuration` and `timeCycle`.
//!
//! Parsing is strict about shape and generous about spelling (lower case, `,` as decimal
//! sign, surrounding whitespace from XML), and every value prints back in one canonical form
//! that parses to the same value, which is also how it is stored (serde as a string).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime};

use crate::{BusinessCalendar, Error, MAX_EXPRESSION_LEN, Result, quote};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// An ISO 8601 duration such as `P1DT2H` or `PT0.5S`.
///
/// Components are kept as written rather than normalised, because years and months are not
/// fixed lengths (`P1M` from January 31 is February 28) and because `P2W` should print back
/// as `P2W`. Days and weeks are exact (24 hours, 7 days): offsets are fixed, there is no DST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IsoDuration {
    years: u32,
    months: u32,
    weeks: u32,
    days: u32,
    hours: u32,
    minutes: u32,
    seconds: u32,
    nanos: u32,
}

impl IsoDuration {
    pub const ZERO: Self = Self { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0, nanos: 0 };

    pub const fn years(years: u32) -> Self {
        Self { years, ..Self::ZERO }
    }

    pub const fn months(months: u32) -> Self {
        Self { months, ..Self::ZERO }
    }

    pub const fn weeks(weeks: u32) -> Self {
        Self { weeks, ..Self::ZERO }
    }

    pub const fn days(days: u32) -> Self {
        Self { days, ..Self::ZERO }
    }

    pub const fn hours(hours: u32) -> Self {
        Self { hours, ..Self::ZERO }
    }

    pub const fn minutes(minutes: u32) -> Self {
        Self { minutes, ..Self::ZERO }
    }

    pub const fn seconds(seconds: u32) -> Self {
        Self { seconds, ..Self::ZERO }
    }

    /// Parses `P3D`, `PT4H30M`, `P1DT2H`, `P2W`, `PT1.5S`, `P1Y2M`.
    pub fn parse(input: &str) -> Result<Self> {
        let s = expression(input)?;
        parse_duration(s).map_err(|reason| invalid(input, reason))
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }

    /// Years and months together, the part whose length depends on the date it starts from.
    pub fn calendar_months(&self) -> u64 {
        u64::from(self.years) * 12 + u64::from(self.months)
    }

    /// Weeks and days together, in days.
    pub fn calendar_days(&self) -> u64 {
        u64::from(self.weeks) * 7 + u64::from(self.days)
    }

    /// Hours, minutes and seconds: the part that is the same length everywhere.
    pub fn time_part(&self) -> Duration {
        let seconds = i64::from(self.hours) * 3600 + i64::from(self.minutes) * 60 + i64::from(self.seconds);
        // At most 9 digits each, so this stays far inside `Duration`'s range.
        Duration::new(seconds, self.nanos as i32)
    }

    /// `at` plus this duration: months on the calendar date in `at`'s own offset (clamped to
    /// the month's last day, as `java.time` does), then days, then the time part.
    pub fn add_to(&self, at: OffsetDateTime) -> Result<OffsetDateTime> {
        let (months, days, nanos) = self.scaled(1).ok_or(OUT_OF_RANGE)?;
        shift(at, months, days, nanos)
    }

    /// `at` minus this duration, the mirror of [`IsoDuration::add_to`].
    pub fn sub_from(&self, at: OffsetDateTime) -> Result<OffsetDateTime> {
        let (months, days, nanos) = self.scaled(1).ok_or(OUT_OF_RANGE)?;
        shift(at, -months, -days, -nanos)
    }

    /// Working time knows days and hours; a working "month" or "week" would need a rule
    /// nobody agrees on, so it is refused rather than guessed.
    pub fn check_working_time(&self) -> Result<()> {
        if self.years > 0 {
            return Err(Error::NotWorkingTimeUnit { unit: "years" });
        }
        if self.months > 0 {
            return Err(Error::NotWorkingTimeUnit { unit: "months" });
        }
        if self.weeks > 0 {
            return Err(Error::NotWorkingTimeUnit { unit: "weeks" });
        }
        Ok(())
    }

    /// `times` copies of this duration as (months, days, nanoseconds); `None` on overflow.
    /// Cycles multiply instead of adding repeatedly so that `P1M` from January 31 gives
    /// March 31 for the second occurrence, not March 28.
    pub(crate) fn scaled(&self, times: u64) -> Option<(i128, i128, i128)> {
        let times = i128::from(times);
        let months = i128::from(self.calendar_months()).checked_mul(times)?;
        let days = i128::from(self.calendar_days()).checked_mul(times)?;
        let nanos = self.time_part().whole_nanoseconds().checked_mul(times)?;
        Some((months, days, nanos))
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        for (value, unit) in [(self.years, 'Y'), (self.months, 'M'), (self.weeks, 'W'), (self.days, 'D')] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        let has_time = self.hours > 0 || self.minutes > 0 || self.seconds > 0 || self.nanos > 0;
        if has_time {
            f.write_str("T")?;
            if self.hours > 0 {
                write!(f, "{}H", self.hours)?;
            }
            if self.minutes > 0 {
                write!(f, "{}M", self.minutes)?;
            }
            if self.seconds > 0 || self.nanos > 0 {
                write!(f, "{}", self.seconds)?;
                write_fraction(f, self.nanos)?;
                f.write_str("S")?;
            }
        } else if self.calendar_months() == 0 && self.calendar_days() == 0 {
            f.write_str("T0S")?;
        }
        Ok(())
    }
}

impl FromStr for IsoDuration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A BPMN timer definition: when a timer event fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerSpec {
    /// `timeDate`: once, at this instant.
    Date(OffsetDateTime),
    /// `timeDuration`: once, this long after the timer is armed.
    Duration(IsoDuration),
    /// `timeCycle`: `R3/PT10M`, `R/P1D` (unbounded), `R5/2026-12-01T09:00:00Z/PT1H`.
    Cycle {
        /// `None` repeats for ever.
        repetitions: Option<u32>,
        /// With a start the occurrences are a fixed schedule (`start + k × every`); without
        /// one each occurrence is `every` after the previous one fired.
        start: Option<OffsetDateTime>,
        every: IsoDuration,
    },
}

impl TimerSpec {
    /// Reads any of the three forms, telling them apart by their first letter (`R` cycle,
    /// `P` duration, otherwise a date), which is how they round-trip through storage.
    pub fn parse(input: &str) -> Result<Self> {
        let s = expression(input)?;
        let parsed = match s.as_bytes()[0] {
            b'R' | b'r' => parse_cycle(s),
            b'P' | b'p' | b'-' => parse_duration(s).map(Self::Duration),
            _ => parse_date(s).map(Self::Date),
        };
        parsed.map_err(|reason| invalid(input, reason))
    }

    /// The content of a BPMN `timeDate` element.
    pub fn parse_date(input: &str) -> Result<Self> {
        let s = expression(input)?;
        parse_date(s).map(Self::Date).map_err(|reason| invalid(input, reason))
    }

    /// The content of a BPMN `timeDuration` element.
    pub fn parse_duration(input: &str) -> Result<Self> {
        let s = expression(input)?;
        parse_duration(s).map(Self::Duration).map_err(|reason| invalid(input, reason))
    }

    /// The content of a BPMN `timeCycle` element.
    pub fn parse_cycle(input: &str) -> Result<Self> {
        let s = expression(input)?;
        parse_cycle(s).map_err(|reason| invalid(input, reason))
    }

    /// When the timer fires next, or `None` once it is done.
    ///
    /// `now` is when the timer was armed or, for a cycle, when its previous occurrence fired;
    /// `fired_so_far` counts the occurrences already fired. A date in the past is returned as
    /// is (it is due at once). A cycle with a start is a fixed schedule: the first occurrence
    /// at or after `now`, later ones strictly after it; occurrences missed while the engine
    /// was down are skipped rather than fired in a burst, and count against the repetitions.
    pub fn next_after(&self, now: OffsetDateTime, fired_so_far: u32) -> Result<Option<OffsetDateTime>> {
        self.next(now, fired_so_far, None)
    }

    /// [`TimerSpec::next_after`] with durations counted in the calendar's working time:
    /// days are working days, hours are working hours. A date stays the date it names.
    pub fn next_after_in(
        &self,
        calendar: &BusinessCalendar,
        now: OffsetDateTime,
        fired_so_far: u32,
    ) -> Result<Option<OffsetDateTime>> {
        self.check_working_time()?;
        self.next(now, fired_so_far, Some(calendar))
    }

    /// Lets a process definition be rejected when it is deployed, not when the timer is armed.
    pub fn check_working_time(&self) -> Result<()> {
        match self {
            Self::Date(_) => Ok(()),
            Self::Duration(every) | Self::Cycle { every, .. } => every.check_working_time(),
        }
    }

    fn next(
        &self,
        now: OffsetDateTime,
        fired: u32,
        calendar: Option<&BusinessCalendar>,
    ) -> Result<Option<OffsetDateTime>> {
        match *self {
            Self::Date(at) => Ok((fired == 0).then_some(at)),
            Self::Duration(after) => {
                if fired > 0 {
                    return Ok(None);
                }
                advance(now, &after, 1, calendar).map(Some)
            }
            Self::Cycle { repetitions, start: None, every } => {
                if repetitions.is_some_and(|n| fired >= n) {
                    return Ok(None);
                }
                advance(now, &every, 1, calendar).map(Some)
            }
            Self::Cycle { repetitions, start: Some(start), every } => {
                let due = |at: OffsetDateTime| if fired == 0 { at >= now } else { at > now };
                // An occurrence too far out to compute is certainly after `now`; the search
                // then lands on it and reports the error.
                let is_due = |k: u64| advance(start, &every, k, calendar).map_or(true, due);
                match first_index(u64::from(fired), repetitions.map(u64::from), is_due) {
                    Some(k) => advance(start, &every, k, calendar).map(Some),
                    None => Ok(None),
                }
            }
        }
    }
}

impl fmt::Display for TimerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date(at) => write_instant(f, *at),
            Self::Duration(after) => write!(f, "{after}"),
            Self::Cycle { repetitions, start, every } => {
                f.write_str("R")?;
                if let Some(n) = repetitions {
                    write!(f, "{n}")?;
                }
                f.write_str("/")?;
                if let Some(start) = start {
                    write_instant(f, *start)?;
                    f.write_str("/")?;
                }
                write!(f, "{every}")
            }
        }
    }
}

impl FromStr for TimerSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for TimerSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimerSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

const OUT_OF_RANGE: Error = Error::OutOfRange { what: "the timer's instant" };

/// `at` plus `times` copies of `every`, on the calendar's working time when there is one.
fn advance(
    at: OffsetDateTime,
    every: &IsoDuration,
    times: u64,
    calendar: Option<&BusinessCalendar>,
) -> Result<OffsetDateTime> {
    let (months, days, nanos) = every.scaled(times).ok_or(OUT_OF_RANGE)?;
    match calendar {
        None => shift(at, months, days, nanos),
        Some(calendar) => {
            every.check_working_time()?;
            if times == 0 {
                // A schedule's first occurrence waits for working time like the others do.
                return calendar.next_working_instant(at);
            }
            calendar.shift_working(at, days, nanos)
        }
    }
}

/// Calendar arithmetic in `at`'s own offset, every step checked.
fn shift(at: OffsetDateTime, months: i128, days: i128, nanos: i128) -> Result<OffsetDateTime> {
    let mut date = at.date();
    if months != 0 {
        let index = i128::from(date.year()) * 12 + i128::from(u8::from(date.month()) - 1) + months;
        let year = i32::try_from(index.div_euclid(12)).map_err(|_| OUT_OF_RANGE)?;
        // `rem_euclid(12)` is 0..=11, so the month number is 1..=12.
        let month = Month::try_from(index.rem_euclid(12) as u8 + 1).map_err(|_| OUT_OF_RANGE)?;
        let day = date.day().min(month.length(year));
        date = Date::from_calendar_date(year, month, day).map_err(|_| OUT_OF_RANGE)?;
    }
    if days != 0 {
        date = add_days(date, days).ok_or(OUT_OF_RANGE)?;
    }
    let local = PrimitiveDateTime::new(date, at.time()).assume_offset(at.offset());
    if nanos == 0 {
        return Ok(local);
    }
    duration_from_nanos(nanos).and_then(|d| local.checked_add(d)).ok_or(OUT_OF_RANGE)
}

pub(crate) fn add_days(date: Date, days: i128) -> Option<Date> {
    let julian = i128::from(date.to_julian_day()).checked_add(days)?;
    Date::from_julian_day(i32::try_from(julian).ok()?).ok()
}

pub(crate) fn duration_from_nanos(nanos: i128) -> Option<Duration> {
    let seconds = i64::try_from(nanos / NANOS_PER_SECOND).ok()?;
    // Same sign as `seconds` and below one second, so `Duration::new` cannot overflow.
    let rest = (nanos % NANOS_PER_SECOND) as i32;
    Some(Duration::new(seconds, rest))
}

/// The smallest `k >= from` (and `< limit`) for which `is_due(k)` holds, given that
/// `is_due` is monotonic. Galloping then bisecting needs at most ~128 probes whatever `k`
/// is, so an hourly cycle started decades ago costs the same as one started today.
fn first_index(from: u64, limit: Option<u64>, is_due: impl Fn(u64) -> bool) -> Option<u64> {
    let last = match limit {
        Some(0) => return None,
        Some(n) => n - 1,
        None => u64::MAX,
    };
    if from > last {
        return None;
    }
    if is_due(from) {
        return Some(from);
    }
    let mut below = from;
    let mut step: u64 = 1;
    let mut above = loop {
        let candidate = below.saturating_add(step).min(last);
        if candidate == below {
            return None;
        }
        if is_due(candidate) {
            break candidate;
        }
        below = candidate;
        step = step.saturating_mul(2);
    };
    while above - below > 1 {
        let middle = below + (above - below) / 2;
        if is_due(middle) {
            above = middle;
        } else {
            below = middle;
        }
    }
    Some(above)
}

/// Trimmed and bounded; XML text content often carries surrounding whitespace.
fn expression(input: &str) -> Result<&str> {
    let s = input.trim();
    if s.len() > MAX_EXPRESSION_LEN {
        return Err(invalid(input, format!("longer than {MAX_EXPRESSION_LEN} bytes")));
    }
    if s.is_empty() {
        return Err(invalid(input, "empty".to_owned()));
    }
    Ok(s)
}

fn invalid(input: &str, reason: String) -> Error {
    Error::InvalidTimer { input: quote(input.trim()), reason }
}

fn parse_date(s: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(at);
    }
    if let Ok(date) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Ok(date.midnight().assume_utc());
    }
    if PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"),
    )
    .is_ok()
    {
        return Err("a date-time needs an offset such as `Z` or `+08:00`".to_owned());
    }
    if s.starts_with(['P', 'p', 'R', 'r']) {
        return Err("expected a date-time; this looks like a duration or a cycle".to_owned());
    }
    Err("expected an RFC 3339 date-time such as `2026-12-01T09:00:00Z` or \
         `2026-12-01T09:00:00+08:00`, or a date such as `2026-12-01`"
        .to_owned())
}

pub(crate) fn parse_duration(s: &str) -> Result<IsoDuration, String> {
    let Some(body) = s.strip_prefix(['P', 'p']) else {
        return Err(if s.starts_with('-') {
            "negative durations are not supported".to_owned()
        } else if s.starts_with(['R', 'r']) {
            "expected a duration; this looks like a cycle".to_owned()
        } else {
            "a duration starts with `P`, e.g. `P3D` or `PT4H30M`".to_owned()
        });
    };
    if body.is_empty() {
        return Err("`P` needs at least one component, e.g. `P1D` or `PT1H`".to_owned());
    }
    let mut duration = IsoDuration::ZERO;
    match body.find(['T', 't']) {
        None => components(body, false, &mut duration)?,
        Some(t) => {
            components(&body[..t], false, &mut duration)?;
            let time = &body[t + 1..];
            if time.is_empty() {
                return Err("`T` must be followed by hours, minutes or seconds, e.g. `PT30M`".to_owned());
            }
            components(time, true, &mut duration)?;
        }
    }
    Ok(duration)
}

/// One half of a duration: `1Y2M3W4D` before the `T`, `5H6M7.5S` after it.
fn components(part: &str, time: bool, duration: &mut IsoDuration) -> Result<(), String> {
    let order: &[char] = if time { &['H', 'M', 'S'] } else { &['Y', 'M', 'W', 'D'] };
    let mut allowed_from = 0;
    let mut rest = part;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int, after) = rest.split_at(int_len);
        let (fraction, after) = match after.strip_prefix(['.', ',']) {
            Some(after) => {
                let len = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
                (Some(&after[..len]), &after[len..])
            }
            None => (None, after),
        };
        let mut chars = after.chars();
        let Some(unit) = chars.next() else {
            return Err(format!("`{rest}` has no unit"));
        };
        rest = chars.as_str();
        let unit = unit.to_ascii_uppercase();
        let Some(position) = order.iter().position(|&u| u == unit) else {
            return Err(misplaced(unit, time));
        };
        if int.is_empty() {
            return Err(format!("expected a number before `{unit}`"));
        }
        if position < allowed_from {
            return Err(format!("`{unit}` is repeated or out of order; the order is Y, M, W, D, T, H, M, S"));
        }
        allowed_from = position + 1;
        if int.len() > 9 {
            return Err(format!("`{int}` is too large; at most 9 digits per component"));
        }
        let value: u32 = int.parse().map_err(|_| format!("`{int}` is not a number"))?;
        if let Some(fraction) = fraction {
            if unit != 'S' || !time {
                return Err("only seconds may have a fraction, e.g. `PT1.5S`".to_owned());
            }
            if fraction.is_empty() || fraction.len() > 9 {
                return Err("a decimal fraction needs 1 to 9 digits".to_owned());
            }
            let digits: u32 = fraction.parse().map_err(|_| "bad fraction".to_owned())?;
            duration.nanos = digits * 10u32.pow(9 - fraction.len() as u32);
        }
        match (time, unit) {
            (false, 'Y') => duration.years = value,
            (false, 'M') => duration.months = value,
            (false, 'W') => duration.weeks = value,
            (false, _) => duration.days = value,
            (true, 'H') => duration.hours = value,
            (true, 'M') => duration.minutes = value,
            (true, _) => duration.seconds = value,
        }
    }
    Ok(())
}

fn misplaced(unit: char, time: bool) -> String {
    match (time, unit) {
        (true, 'Y' | 'W' | 'D') => format!("`{unit}` belongs before `T`, e.g. `P1DT2H`"),
        (false, 'H' | 'S') => format!("`{unit}` belongs after `T`, e.g. `PT4H`"),
        (true, 'T') => "`T` appears twice".to_owned(),
        _ => format!("unexpected `{unit}`; the units are Y, M, W, D, T, H, M, S"),
    }
}

fn parse_cycle(s: &str) -> Result<TimerSpec, String> {
    let Some(rest) = s.strip_prefix(['R', 'r']) else {
        return Err(if s.contains([' ', '*', '?']) {
            "cron expressions are not supported; use an ISO 8601 cycle such as `R/PT1H`".to_owned()
        } else {
            "a cycle starts with `R`, e.g. `R3/PT10M` or `R/P1D`".to_owned()
        });
    };
    let Some((count, rest)) = rest.split_once('/') else {
        return Err("expected `/` after the repetitions, e.g. `R3/PT10M`".to_owned());
    };
    let repetitions = if count.is_empty() {
        None
    } else if count.len() <= 9 && count.bytes().all(|b| b.is_ascii_digit()) {
        Some(count.parse::<u32>().map_err(|_| "bad repetitions".to_owned())?)
    } else {
        return Err(format!(
            "repetitions `{count}` must be a whole number below 10^9, e.g. `R3`; `R/` repeats for ever"
        ));
    };
    let is_duration = |p: &str| p.starts_with(['P', 'p']);
    let (start, every) = match rest.split('/').collect::<Vec<_>>()[..] {
        [every] => (None, every),
        [start, every] if !is_duration(start) && is_duration(every) => (Some(start), every),
        [_, _] => {
            return Err("only `R[n]/<duration>` and `R[n]/<start>/<duration>` are supported; \
                 an end date is not"
                .to_owned());
        }
        _ => return Err("too many `/`; expected `R[n]/<start>/<duration>` at most".to_owned()),
    };
    let start = start.map(parse_date).transpose()?;
    let every = parse_duration(every)?;
    if every.is_zero() {
        return Err("a cycle's period must be longer than zero".to_owned());
    }
    Ok(TimerSpec::Cycle { repetitions, start, every })
}

fn write_fraction(f: &mut fmt::Formatter<'_>, nanos: u32) -> fmt::Result {
    if nanos == 0 {
        return Ok(());
    }
    let digits = format!("{nanos:09}");
    write!(f, ".{}", digits.trim_end_matches('0'))
}

/// RFC 3339 by hand: `time`'s formatter refuses some representable values, and printing
/// must not fail.
fn write_instant(f: &mut fmt::Formatter<'_>, at: OffsetDateTime) -> fmt::Result {
    write!(
        f,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )?;
    write_fraction(f, at.nanosecond())?;
    let offset = at.offset();
    if offset.is_utc() {
        return f.write_str("Z");
    }
    let (h, m, s) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    write!(f, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())?;
    if s != 0 {
        write!(f, ":{:02}", s.unsigned_abs())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
