//! When timers fire: ISO 8601 dates, durations and repeating cycles, computed from the
//! moment a timer starts, optionally in a business calendar's working time.
//!
//! Working time is a hook ([`WorkingTime`]) rather than a dependency, so the engine stays
//! pure and a test can stand in a calendar of its own; [`Elapsed`] counts plain time.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::model::TimerKind;

/// An ISO 8601 duration. Years and months stay apart from days because they have no fixed
/// length (`P1M` from 31 January is 28 or 29 February); weeks are kept as days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IsoDuration {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days: u32,
    /// Hours, minutes and seconds, in milliseconds.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub millis: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

impl IsoDuration {
    /// Reads `P1Y2M3W4DT5H6M7.5S` and its shorter forms.
    pub fn parse(text: &str) -> Option<IsoDuration> {
        let body = text.trim().strip_prefix('P')?;
        let (date, time) = match body.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return None,
            None => (body, None),
        };
        let mut out = IsoDuration::default();
        let mut any = false;
        for (number, unit) in components(date)? {
            let whole = whole(number)?;
            match unit {
                'Y' => out.months = out.months.checked_add(whole.checked_mul(12)?)?,
                'M' => out.months = out.months.checked_add(whole)?,
                'W' => out.days = out.days.checked_add(whole.checked_mul(7)?)?,
                'D' => out.days = out.days.checked_add(whole)?,
                _ => return None,
            }
            any = true;
        }
        for (number, unit) in time.map(components).unwrap_or(Some(Vec::new()))? {
            let scale: u64 = match unit {
                'H' => 3_600_000,
                'M' => 60_000,
                'S' => 1_000,
                _ => return None,
            };
            let millis = match number.split_once(['.', ',']) {
                Some((int, frac)) if unit == 'S' => {
                    let int: u64 = int.parse().ok()?;
                    let frac = format!("{frac:0<3}");
                    let frac: u64 = frac.get(..3)?.parse().ok()?;
                    int.checked_mul(scale)?.checked_add(frac)?
                }
                Some(_) => return None,
                None => number.parse::<u64>().ok()?.checked_mul(scale)?,
            };
            out.millis = out.millis.checked_add(millis)?;
            any = true;
        }
        any.then_some(out)
    }

    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.days == 0 && self.millis == 0
    }

    /// `from` plus this duration in plain calendar time: months first (clamping the day to
    /// the month's length), then days, then the time part. `None` past the year 9999.
    pub fn after(&self, from: OffsetDateTime) -> Option<OffsetDateTime> {
        let shifted = add_months(from, self.months)?;
        let shifted = shifted.checked_add(time::Duration::days(i64::from(self.days)))?;
        let millis = i64::try_from(self.millis).ok()?;
        let at = shifted.checked_add(time::Duration::milliseconds(millis))?;
        (at.year() <= 9999).then_some(at)
    }
}

fn whole(number: &str) -> Option<u32> {
    number.parse().ok()
}

/// `(number, unit)` pairs of `3W4D`; `None` when malformed.
fn components(text: &str) -> Option<Vec<(&str, char)>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_alphabetic() {
            let number = text.get(start..i)?;
            if number.is_empty() {
                return None;
            }
            out.push((number, c));
            start = i + c.len_utf8();
        } else if !(c.is_ascii_digit() || c == '.' || c == ',') {
            return None;
        }
    }
    (start == text.len()).then_some(out)
}

fn add_months(from: OffsetDateTime, months: u32) -> Option<OffsetDateTime> {
    if months == 0 {
        return Some(from);
    }
    let index = i64::from(from.year()) * 12 + i64::from(u8::from(from.month())) - 1 + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = from.day().min(time::util::days_in_month(month, year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(from.replace_date(date))
}

/// `R<n>/<duration>`, `R/<duration>` (unbounded), or `R<n>/<start>/<duration>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    /// How many times it fires; `None` for ever.
    pub repetitions: Option<u32>,
    pub start: Option<OffsetDateTime>,
    pub every: IsoDuration,
}

/// A timer's value once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerSpec {
    At(OffsetDateTime),
    After(IsoDuration),
    Cycle(Cycle),
}

/// Reads a timer's text for its kind. Zone ids (`@Europe/Berlin`) and cron cycles are not
/// read: an offset (`+08:00`) says the same without a time-zone database.
pub fn read_timer(kind: TimerKind, text: &str) -> Result<TimerSpec, String> {
    let text = text.trim();
    match kind {
        TimerKind::Date => read_instant(text)
            .map(TimerSpec::At)
            .ok_or_else(|| format!("`{text}` is not an ISO 8601 date and time such as 2026-03-01T09:00:00+08:00")),
        TimerKind::Duration => IsoDuration::parse(text)
            .map(TimerSpec::After)
            .ok_or_else(|| format!("`{text}` is not an ISO 8601 duration such as PT4H or P2D")),
        TimerKind::Cycle => read_cycle(text).map(TimerSpec::Cycle),
    }
}

fn read_cycle(text: &str) -> Result<Cycle, String> {
    let malformed = || {
        if text.split_whitespace().count() >= 5 {
            format!("`{text}` looks like a cron expression; cycles are ISO 8601 repetitions such as R3/PT1H")
        } else {
            format!("`{text}` is not an ISO 8601 cycle such as R3/PT1H or R/P1D")
        }
    };
    let mut parts = text.split('/');
    let repeat = parts.next().and_then(|r| r.strip_prefix('R')).ok_or_else(malformed)?;
    let repetitions = if repeat.is_empty() { None } else { Some(repeat.parse::<u32>().map_err(|_| malformed())?) };
    let rest: Vec<&str> = parts.collect();
    let (start, every) = match rest.as_slice() {
        [every] => (None, *every),
        [start, every] => (Some(read_instant(start).ok_or_else(malformed)?), *every),
        _ => return Err(malformed()),
    };
    let every = IsoDuration::parse(every).filter(|d| !d.is_zero()).ok_or_else(malformed)?;
    if repetitions == Some(0) {
        return Err(format!("`{text}` repeats zero times"));
    }
    Ok(Cycle { repetitions, start, every })
}

/// RFC 3339, a date and time without offset (read as UTC), or a date (its midnight UTC).
pub fn read_instant(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = PrimitiveDateTime::parse(text, &local) {
        return Some(t.assume_utc());
    }
    let date = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &date).ok().map(|d| d.midnight().assume_utc())
}

/// Adds durations in working time. The engine asks it for every delay, naming the business
/// calendar the timer declares (`weft:calendar`), so reminders and escalations can skip
/// weekends, holidays and nights.
pub trait WorkingTime: Send + Sync {
    /// `from` plus `duration`, counted in `calendar`'s working time when one is named; `None`
    /// when the result cannot be computed (the timer then raises an incident).
    fn add(&self, calendar: Option<&str>, from: OffsetDateTime, duration: IsoDuration) -> Option<OffsetDateTime>;
}

/// Plain elapsed time; calendars are ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Elapsed;

impl WorkingTime for Elapsed {
    fn add(&self, _calendar: Option<&str>, from: OffsetDateTime, duration: IsoDuration) -> Option<OffsetDateTime> {
        duration.after(from)
    }
}

/// When a timer set at `now` first fires, and the cycle state left after that.
pub(crate) fn first_fire(
    spec: TimerSpec,
    calendar: Option<&str>,
    now: OffsetDateTime,
    working: &dyn WorkingTime,
) -> Option<(OffsetDateTime, Option<CycleLeft>)> {
    match spec {
        TimerSpec::At(at) => Some((at, None)),
        TimerSpec::After(d) => Some((working.add(calendar, now, d)?, None)),
        TimerSpec::Cycle(c) => {
            let at = match c.start {
                Some(start) if start > now => start,
                _ => working.add(calendar, now, c.every)?,
            };
            let remaining = c.repetitions.map(|n| n.saturating_sub(1));
            let left = (remaining != Some(0)).then_some(CycleLeft { remaining, every: c.every });
            Some((at, left))
        }
    }
}

/// What remains of a cycle after a firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleLeft {
    /// Firings still to come; `None` for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
    pub every: IsoDuration,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn durations_read_every_unit() {
        let d = IsoDuration::parse("P1Y2M3W4DT5H6M7.5S").unwrap();
        assert_eq!(d, IsoDuration { months: 14, days: 25, millis: ((5 * 60 + 6) * 60 + 7) * 1000 + 500 });
        assert_eq!(IsoDuration::parse("PT15M").unwrap().millis, 900_000);
        for bad in ["", "P", "PT", "1D", "P1H", "PT1D", "P-1D", "P1.5D", "PT1.5H", "P1DT"] {
            assert_eq!(IsoDuration::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn months_clamp_to_the_length_of_the_month() {
        let d = IsoDuration::parse("P1M").unwrap();
        assert_eq!(d.after(datetime!(2026-01-31 10:00 UTC)), Some(datetime!(2026-02-28 10:00 UTC)));
        assert_eq!(d.after(datetime!(2028-01-31 10:00 UTC)), Some(datetime!(2028-02-29 10:00 UTC)));
        assert_eq!(IsoDuration::parse("P1Y").unwrap().after(datetime!(9999-06-01 0:00 UTC)), None);
    }

    #[test]
    fn cycles_read_repetitions_start_and_period() {
        let c = read_cycle("R3/PT1H").unwrap();
        assert_eq!((c.repetitions, c.start, c.every.millis), (Some(3), None, 3_600_000));
        let c = read_cycle("R/2026-03-02T09:00:00Z/P1D").unwrap();
        assert_eq!((c.repetitions, c.start, c.every.days), (None, Some(datetime!(2026-03-02 9:00 UTC)), 1));
        assert!(read_cycle("0 0 9 * * MON").unwrap_err().contains("cron"));
        assert!(read_cycle("R0/PT1H").is_err());
        assert!(read_cycle("R2/PT0S").is_err());
    }

    #[test]
    fn instants_accept_offsets_dates_and_local_times() {
        assert_eq!(read_instant("2026-03-02T09:00:00+08:00"), Some(datetime!(2026-03-02 1:00 UTC)));
        assert_eq!(read_instant("2026-03-02"), Some(datetime!(2026-03-02 0:00 UTC)));
        assert_eq!(read_instant("2026-03-02T09:00:00"), Some(datetime!(2026-03-02 9:00 UTC)));
        assert_eq!(read_instant("2026-02-30"), None);
    }

    #[test]
    fn a_bounded_cycle_counts_down_and_ends() {
        let now = datetime!(2026-03-02 9:00 UTC);
        let spec = read_timer(TimerKind::Cycle, "R2/PT1H").unwrap();
        let (at, left) = first_fire(spec, None, now, &Elapsed).unwrap();
        assert_eq!(at, datetime!(2026-03-02 10:00 UTC));
        assert_eq!(left.unwrap().remaining, Some(1));
        let spec = read_timer(TimerKind::Cycle, "R1/PT1H").unwrap();
        assert_eq!(first_fire(spec, None, now, &Elapsed).unwrap().1, None);
    }
}
