//! Business calendars: when people work, declared as data and compiled once.
//!
//! A calendar is a weekly pattern of working intervals, holidays that remove days from it
//! and adjusted working days that add days to it (China's 调休 weekends, or a short day
//! before a holiday). Offsets are fixed, so there is no DST and no time zone database.
//!
//! All arithmetic walks whole intervals and days, and skips whole weeks between special
//! dates (holidays, adjusted days), so a duration costs about as much as the number of special
//! dates it crosses, never the number of minutes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::timer::{add_days, duration_from_nanos};
use crate::{Error, HORIZON_YEARS, IsoDuration, Result};

/// Nanoseconds in a day, the unit of time-of-day positions.
const DAY: i64 = 86_400 * 1_000_000_000;
const HORIZON_DAYS: i64 = HORIZON_YEARS * 366;
/// Bounds the work of validation (which compares working days with holidays pairwise);
/// fifty years of public holidays fit comfortably.
const MAX_ENTRIES: usize = 1000;
const MAX_INTERVALS_PER_DAY: usize = 24;
/// A longer "holiday" is almost certainly a typo in a year.
const MAX_HOLIDAY_DAYS: i64 = 366;
const MAX_NAME_LEN: usize = 200;

const OUT_OF_RANGE: Error = Error::OutOfRange { what: "the working-time result" };

/// A calendar as people write it (JSON). Every field is text so that validation can report
/// every mistake at once with its path, instead of stopping at the first parse error.
///
/// ```json
/// {
///   "name": "China 2026",
///   "offset": "+08:00",
///   "week": { "monday": ["09:00-12:00", "13:00-18:00"], "tuesday": ["09:00-18:00"] },
///   "holidays": [{ "name": "National Day", "dates": "2026-10-01/2026-10-07" }],
///   "working_days": [{ "date": "2026-09-27", "name": "National Day make-up day" }]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub name: String,
    /// `Z`, `+08:00`, `-05:30`: a fixed offset, not a zone, so the calendar never shifts.
    pub offset: String,
    pub week: WeekDef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<HolidayDef>,
    /// Days that are worked although the weekly pattern (or nothing) says otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub working_days: Vec<WorkingDayDef>,
}

/// Working intervals per weekday, `"09:00-12:00"` (an en dash works too, and `24:00` ends a
/// day). A day without intervals is not worked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekDef {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tuesday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wednesday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thursday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub friday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saturday: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sunday: Vec<String>,
}

impl WeekDef {
    /// The same hours Monday to Friday, the common case.
    pub fn weekdays(intervals: &[&str]) -> Self {
        let day = || intervals.iter().map(|&s| s.to_owned()).collect::<Vec<_>>();
        Self {
            monday: day(),
            tuesday: day(),
            wednesday: day(),
            thursday: day(),
            friday: day(),
            saturday: Vec::new(),
            sunday: Vec::new(),
        }
    }

    /// Monday first, matching `Weekday::number_days_from_monday`.
    fn days(&self) -> [(&'static str, &[String]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayDef {
    pub name: String,
    /// `2026-01-01`, or an inclusive ISO 8601 range `2026-10-01/2026-10-07`.
    pub dates: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingDayDef {
    /// `2026-09-27`
    pub date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Left out, the day has the normal weekday hours (those most weekdays share), which is
    /// what a make-up working day in China has; given, it overrides them (a short day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<String>>,
}

/// One mistake in a calendar declaration, located by a path such as `week.monday[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for CalendarProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A validated calendar. It is (de)serialised as its [`CalendarDef`], and deserialising
/// validates, so a `BusinessCalendar` value is always usable.
///
/// Every instant-returning function answers in the offset of the instant it was given, like
/// `OffsetDateTime + Duration` does; comparisons are by instant anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarDef", into = "CalendarDef")]
pub struct BusinessCalendar {
    def: CalendarDef,
    offset: UtcOffset,
    /// Sorted, disjoint, non-touching intervals per weekday, Monday first.
    week: [Vec<Span>; 7],
    /// Sorted, disjoint, inclusive ranges; overlapping declarations are merged.
    holidays: Vec<(Date, Date)>,
    working_days: BTreeMap<Date, Vec<Span>>,
    /// Working time in a week without special dates; validation makes it positive.
    week_nanos: i128,
    week_working_days: i128,
}

/// A working interval in nanoseconds since local midnight, `start < end <= DAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    start: i64,
    end: i64,
}

impl Span {
    fn len(self) -> i128 {
        i128::from(self.end - self.start)
    }
}

impl TryFrom<CalendarDef> for BusinessCalendar {
    type Error = Error;

    fn try_from(def: CalendarDef) -> Result<Self> {
        Self::new(def)
    }
}

impl From<BusinessCalendar> for CalendarDef {
    fn from(calendar: BusinessCalendar) -> Self {
        calendar.def
    }
}

impl BusinessCalendar {
    /// Validates and compiles a declaration, reporting every problem in it.
    pub fn new(def: CalendarDef) -> Result<Self> {
        let mut problems = Problems::default();

        if def.name.trim().is_empty() {
            problems.add("name", "must not be empty");
        } else if def.name.len() > MAX_NAME_LEN {
            problems.add("name", format!("longer than {MAX_NAME_LEN} bytes"));
        }

        let offset = parse_offset(&def.offset);
        if offset.is_none() {
            problems.add(
                "offset",
                format!(
                    "`{}` is not a UTC offset; expected `Z` or ±HH:MM up to 18:00, such as `+08:00`",
                    crate::quote(&def.offset)
                ),
            );
        }

        let week =
            def.week.days().map(|(day, intervals)| parse_spans(intervals, &format!("week.{day}"), &mut problems));
        if week.iter().all(Vec::is_empty) {
            problems.add("week", "no weekday has working hours, so no working-time deadline could ever be reached");
        }
        let normal_hours = most_common(&week);

        if def.holidays.len() > MAX_ENTRIES {
            problems.add("holidays", format!("at most {MAX_ENTRIES} entries"));
        }
        let mut holidays = Vec::new();
        for (i, holiday) in def.holidays.iter().enumerate().take(MAX_ENTRIES) {
            if holiday.name.trim().is_empty() {
                problems.add(format!("holidays[{i}].name"), "must not be empty");
            }
            match parse_date_range(&holiday.dates) {
                Ok(range) => holidays.push((range, i)),
                Err(message) => problems.add(format!("holidays[{i}].dates"), message),
            }
        }

        if def.working_days.len() > MAX_ENTRIES {
            problems.add("working_days", format!("at most {MAX_ENTRIES} entries"));
        }
        let mut working_days = BTreeMap::new();
        let mut first_listed = BTreeMap::new();
        for (i, day) in def.working_days.iter().enumerate().take(MAX_ENTRIES) {
            let path = format!("working_days[{i}]");
            let spans = match &day.hours {
                None => normal_hours.clone(),
                Some(hours) if hours.is_empty() => {
                    problems.add(format!("{path}.hours"), "is empty; leave `hours` out for the normal weekday hours");
                    Vec::new()
                }
                Some(hours) => parse_spans(hours, &format!("{path}.hours"), &mut problems),
            };
            let date = match parse_date(&day.date) {
                Ok(date) => date,
                Err(message) => {
                    problems.add(format!("{path}.date"), message);
                    continue;
                }
            };
            if let Some(first) = first_listed.insert(date, i) {
                problems.add(format!("{path}.date"), format!("{date} is already listed at working_days[{first}]"));
            }
            if let Some(&(_, h)) = holidays.iter().find(|&&((from, to), _)| from <= date && date <= to) {
                problems.add(
                    format!("{path}.date"),
                    format!(
                        "{date} is also a holiday (holidays[{h}], {}); a day is either worked or not",
                        crate::quote(&def.holidays[h].name)
                    ),
                );
            }
            working_days.insert(date, spans);
        }

        let (Some(offset), true) = (offset, problems.0.is_empty()) else {
            return Err(Error::InvalidCalendar { problems: problems.0 });
        };

        let mut ranges: Vec<(Date, Date)> = holidays.into_iter().map(|(range, _)| range).collect();
        ranges.sort_unstable();
        let mut merged: Vec<(Date, Date)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1 || last.1.next_day() == Some(from) => {
                    last.1 = last.1.max(to);
                }
                _ => merged.push((from, to)),
            }
        }

        let week_nanos = week.iter().flatten().map(|s| s.len()).sum();
        let week_working_days = week.iter().filter(|spans| !spans.is_empty()).count() as i128;
        Ok(Self { def, offset, week, holidays: merged, working_days, week_nanos, week_working_days })
    }

    pub fn def(&self) -> &CalendarDef {
        &self.def
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Whether `date` (a date in the calendar's offset) has any working hours.
    pub fn is_working_day(&self, date: Date) -> bool {
        !self.spans(date).is_empty()
    }

    /// Intervals are half-open: 09:00 is working time in `09:00-12:00`, 12:00 is not.
    pub fn is_working_time(&self, at: OffsetDateTime) -> bool {
        self.local(at).is_ok_and(|(date, t)| self.spans(date).iter().any(|span| span.start <= t && t < span.end))
    }

    /// `at` itself when it is working time, else the start of the next working interval.
    pub fn next_working_instant(&self, at: OffsetDateTime) -> Result<OffsetDateTime> {
        let (date, t) = self.local(at)?;
        let next = self.next_working(date, date, t)?;
        if next == (date, t) {
            return Ok(at);
        }
        self.instant(next, at.offset())
    }

    /// The instant by which `duration` of working time has passed since `start`; a negative
    /// duration counts backwards. When the count ends exactly at an interval's edge the
    /// answer is that edge (Friday 18:00, not Monday 09:00; backwards Monday 09:00, not
    /// Friday 18:00), so deadlines fall on the day whose work they measure.
    pub fn add_working_duration(&self, start: OffsetDateTime, duration: Duration) -> Result<OffsetDateTime> {
        self.shift_working(start, 0, duration.whole_nanoseconds())
    }

    /// `start` plus an ISO duration in working time: `D` counts working days (the same time
    /// of day on the n-th working day after the next working instant), then `H`, `M`, `S`
    /// count working time. Years, months and weeks are refused.
    pub fn add_working(&self, start: OffsetDateTime, duration: &IsoDuration) -> Result<OffsetDateTime> {
        duration.check_working_time()?;
        let (_, days, nanos) = duration.scaled(1).ok_or(OUT_OF_RANGE)?;
        self.shift_working(start, days, nanos)
    }

    /// The mirror of [`BusinessCalendar::add_working`], for reminders before a deadline.
    pub fn sub_working(&self, due: OffsetDateTime, duration: &IsoDuration) -> Result<OffsetDateTime> {
        duration.check_working_time()?;
        let (_, days, nanos) = duration.scaled(1).ok_or(OUT_OF_RANGE)?;
        self.shift_working(due, -days, -nanos)
    }

    /// Working time in `[a, b)`; negative when `b` is before `a`. Costs one step per special
    /// date and holiday range between them, so any two representable instants are fine.
    pub fn working_duration_between(&self, a: OffsetDateTime, b: OffsetDateTime) -> Result<Duration> {
        if b < a {
            let forward = self.working_duration_between(b, a)?;
            return forward.checked_neg().ok_or(OUT_OF_RANGE);
        }
        let (from, t_from) = self.local(a)?;
        let (to, t_to) = self.local(b)?;
        let total = if from == to {
            overlap(self.spans(from), t_from, t_to)
        } else {
            let mut total = overlap(self.spans(from), t_from, DAY) + overlap(self.spans(to), 0, t_to);
            let mut date = next_day(from)?;
            while date < to {
                let free = self.next_special(date).unwrap_or(to).min(to);
                let weeks = days_between(date, free) / 7;
                if weeks > 0 {
                    total += i128::from(weeks) * self.week_nanos;
                    date = add_days(date, i128::from(weeks) * 7).ok_or(OUT_OF_RANGE)?;
                } else if let Some((_, end)) = self.holiday_at(date) {
                    date = next_day(end)?;
                } else {
                    total += self.spans(date).iter().map(|s| s.len()).sum::<i128>();
                    date = next_day(date)?;
                }
            }
            total
        };
        duration_from_nanos(total).ok_or(OUT_OF_RANGE)
    }

    /// The n-th working day after `date` (before it when `n` is negative), `date` itself
    /// when `n` is 0, as spreadsheet `WORKDAY` counts; payment terms and SLAs in days use it.
    pub fn add_working_days(&self, date: Date, n: i32) -> Result<Date> {
        if n == 0 {
            return Ok(date);
        }
        self.step_working_days(date, date, i128::from(n))
    }

    /// `at` moved by `days` working days, then by `nanos` of working time; both have the
    /// same sign. The core of every working-time timer and reminder.
    pub(crate) fn shift_working(&self, at: OffsetDateTime, days: i128, nanos: i128) -> Result<OffsetDateTime> {
        let mut at = at;
        if days != 0 {
            let (origin, t) = self.local(at)?;
            let position = if days > 0 {
                let (date, t) = self.next_working(origin, origin, t)?;
                let target = self.step_working_days(origin, date, days)?;
                let spans = self.spans(target);
                // Same time of day, kept inside the target day's working time.
                let t = match spans.iter().find(|s| s.end > t) {
                    Some(span) => span.start.max(t),
                    None => spans.last().map_or(t, |s| s.end),
                };
                (target, t)
            } else {
                let (date, t) = self.prev_working(origin, origin, t)?;
                let target = self.step_working_days(origin, date, days)?;
                let spans = self.spans(target);
                let t = match spans.iter().rev().find(|s| s.start < t) {
                    Some(span) => span.end.min(t),
                    None => spans.first().map_or(t, |s| s.start),
                };
                (target, t)
            };
            at = self.instant(position, at.offset())?;
        }
        match nanos {
            0 => Ok(at),
            n if n > 0 => self.walk_forward(at, n),
            n => self.walk_backward(at, -n),
        }
    }

    fn walk_forward(&self, at: OffsetDateTime, mut left: i128) -> Result<OffsetDateTime> {
        let (origin, t) = self.local(at)?;
        let mut date = origin;
        for span in self.spans(date).iter().filter(|s| s.end > t) {
            let from = span.start.max(t);
            let available = i128::from(span.end - from);
            if left <= available {
                return self.instant((date, from + left as i64), at.offset());
            }
            left -= available;
        }
        loop {
            date = step(origin, date, 1)?;
            if left > self.week_nanos {
                let free = self.next_special(date).map_or(i64::MAX, |special| days_between(date, special));
                let weeks = (free / 7).min(clamp_i64((left - 1) / self.week_nanos));
                if weeks > 0 {
                    left -= i128::from(weeks) * self.week_nanos;
                    date = step(origin, date, weeks * 7)?;
                }
            }
            if let Some((_, end)) = self.holiday_at(date) {
                date = end;
                continue;
            }
            for span in self.spans(date) {
                if left <= span.len() {
                    return self.instant((date, span.start + left as i64), at.offset());
                }
                left -= span.len();
            }
        }
    }

    fn walk_backward(&self, at: OffsetDateTime, mut left: i128) -> Result<OffsetDateTime> {
        let (origin, t) = self.local(at)?;
        let mut date = origin;
        for span in self.spans(date).iter().rev().filter(|s| s.start < t) {
            let to = span.end.min(t);
            let available = i128::from(to - span.start);
            if left <= available {
                return self.instant((date, to - left as i64), at.offset());
            }
            left -= available;
        }
        loop {
            date = step(origin, date, -1)?;
            if left > self.week_nanos {
                let free = self.prev_special(date).map_or(i64::MAX, |special| days_between(special, date));
                let weeks = (free / 7).min(clamp_i64((left - 1) / self.week_nanos));
                if weeks > 0 {
                    left -= i128::from(weeks) * self.week_nanos;
                    date = step(origin, date, -weeks * 7)?;
                }
            }
            if let Some((start, _)) = self.holiday_at(date) {
                date = start;
                continue;
            }
            for span in self.spans(date).iter().rev() {
                if left <= span.len() {
                    return self.instant((date, span.end - left as i64), at.offset());
                }
                left -= span.len();
            }
        }
    }

    /// The earliest working position at or after (`date`, `t`).
    fn next_working(&self, origin: Date, date: Date, t: i64) -> Result<(Date, i64)> {
        if let Some(span) = self.spans(date).iter().find(|s| s.end > t) {
            return Ok((date, span.start.max(t)));
        }
        let mut date = date;
        loop {
            date = step(origin, date, 1)?;
            if let Some((_, end)) = self.holiday_at(date) {
                date = end;
                continue;
            }
            if let Some(span) = self.spans(date).first() {
                return Ok((date, span.start));
            }
        }
    }

    /// The latest position at or before (`date`, `t`) that ends some working time.
    fn prev_working(&self, origin: Date, date: Date, t: i64) -> Result<(Date, i64)> {
        if let Some(span) = self.spans(date).iter().rev().find(|s| s.start < t) {
            return Ok((date, span.end.min(t)));
        }
        let mut date = date;
        loop {
            date = step(origin, date, -1)?;
            if let Some((start, _)) = self.holiday_at(date) {
                date = start;
                continue;
            }
            if let Some(span) = self.spans(date).last() {
                return Ok((date, span.end));
            }
        }
    }

    /// `n` working days from `date` (not counting `date`), skipping plain weeks whole.
    fn step_working_days(&self, origin: Date, date: Date, n: i128) -> Result<Date> {
        let forward = n > 0;
        let direction: i64 = if forward { 1 } else { -1 };
        let mut left = n.abs();
        let mut date = date;
        loop {
            date = step(origin, date, direction)?;
            if left > self.week_working_days {
                let special = if forward { self.next_special(date) } else { self.prev_special(date) };
                let free = special.map_or(i64::MAX, |special| days_between(date, special).abs());
                let weeks = (free / 7).min(clamp_i64((left - 1) / self.week_working_days));
                if weeks > 0 {
                    left -= i128::from(weeks) * self.week_working_days;
                    date = step(origin, date, direction * weeks * 7)?;
                }
            }
            if let Some((start, end)) = self.holiday_at(date) {
                date = if forward { end } else { start };
                continue;
            }
            if self.is_working_day(date) {
                left -= 1;
                if left == 0 {
                    return Ok(date);
                }
            }
        }
    }

    fn spans(&self, date: Date) -> &[Span] {
        if let Some(spans) = self.working_days.get(&date) {
            return spans;
        }
        if self.holiday_at(date).is_some() {
            return &[];
        }
        &self.week[usize::from(date.weekday().number_days_from_monday())]
    }

    fn holiday_at(&self, date: Date) -> Option<(Date, Date)> {
        let i = self.holidays.partition_point(|&(_, end)| end < date);
        self.holidays.get(i).copied().filter(|&(start, _)| start <= date)
    }

    /// The first date at or after `date` that the weekly pattern alone does not describe.
    fn next_special(&self, date: Date) -> Option<Date> {
        let working = self.working_days.range(date..).next().map(|(&d, _)| d);
        let i = self.holidays.partition_point(|&(_, end)| end < date);
        let holiday = self.holidays.get(i).map(|&(start, _)| start.max(date));
        [working, holiday].into_iter().flatten().min()
    }

    /// The last date at or before `date` that the weekly pattern alone does not describe.
    fn prev_special(&self, date: Date) -> Option<Date> {
        let working = self.working_days.range(..=date).next_back().map(|(&d, _)| d);
        let i = self.holidays.partition_point(|&(start, _)| start <= date);
        let holiday = i.checked_sub(1).map(|i| self.holidays[i].1.min(date));
        [working, holiday].into_iter().flatten().max()
    }

    /// The calendar's local date and time of day (nanoseconds) of an instant.
    fn local(&self, at: OffsetDateTime) -> Result<(Date, i64)> {
        let local = at.checked_to_offset(self.offset).ok_or(OUT_OF_RANGE)?;
        let (h, m, s, nanos) = local.time().as_hms_nano();
        let t = ((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * 1_000_000_000 + i64::from(nanos);
        Ok((local.date(), t))
    }

    fn instant(&self, (date, t): (Date, i64), offset: UtcOffset) -> Result<OffsetDateTime> {
        PrimitiveDateTime::new(date, Time::MIDNIGHT)
            .assume_offset(self.offset)
            .checked_add(Duration::nanoseconds(t))
            .and_then(|at| at.checked_to_offset(offset))
            .ok_or(OUT_OF_RANGE)
    }
}

/// `date` moved by `delta` days, refusing to go further than the horizon from `origin`.
fn step(origin: Date, date: Date, delta: i64) -> Result<Date> {
    let julian = i128::from(date.to_julian_day()) + i128::from(delta);
    if (julian - i128::from(origin.to_julian_day())).abs() > i128::from(HORIZON_DAYS) {
        return Err(Error::BeyondHorizon);
    }
    i32::try_from(julian).ok().and_then(|julian| Date::from_julian_day(julian).ok()).ok_or(OUT_OF_RANGE)
}

fn next_day(date: Date) -> Result<Date> {
    date.next_day().ok_or(OUT_OF_RANGE)
}

fn days_between(from: Date, to: Date) -> i64 {
    i64::from(to.to_julian_day()) - i64::from(from.to_julian_day())
}

fn clamp_i64(n: i128) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Working time of `spans` inside `[from, to)`.
fn overlap(spans: &[Span], from: i64, to: i64) -> i128 {
    spans.iter().map(|s| i128::from((s.end.min(to) - s.start.max(from)).max(0))).sum()
}

/// The hours most weekdays share, earliest weekday winning a tie: what "a normal working
/// day" means for adjusted working days declared without hours.
fn most_common(week: &[Vec<Span>; 7]) -> Vec<Span> {
    let mut best: Option<(&Vec<Span>, usize)> = None;
    for spans in week.iter().filter(|spans| !spans.is_empty()) {
        let count = week.iter().filter(|other| *other == spans).count();
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((spans, count));
        }
    }
    best.map(|(spans, _)| spans.clone()).unwrap_or_default()
}

#[derive(Default)]
struct Problems(Vec<CalendarProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(CalendarProblem { path: path.into(), message: message.into() });
    }
}

/// Sorted, checked for overlaps, touching intervals merged.
fn parse_spans(intervals: &[String], path: &str, problems: &mut Problems) -> Vec<Span> {
    if intervals.len() > MAX_INTERVALS_PER_DAY {
        problems.add(path, format!("at most {MAX_INTERVALS_PER_DAY} intervals a day"));
        return Vec::new();
    }
    let mut spans: Vec<(Span, usize)> = Vec::new();
    for (i, text) in intervals.iter().enumerate() {
        match parse_span(text) {
            Ok(span) => spans.push((span, i)),
            Err(message) => problems.add(format!("{path}[{i}]"), message),
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    let mut previous: Option<(Span, usize)> = None;
    for (span, i) in spans {
        if let Some((_, j)) = previous.filter(|(before, _)| span.start < before.end) {
            problems.add(
                format!("{path}[{i}]"),
                format!("`{}` overlaps `{}`", crate::quote(&intervals[i]), crate::quote(&intervals[j])),
            );
        }
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
        // The interval reaching furthest is the one a later interval can overlap.
        if previous.is_none_or(|(before, _)| span.end > before.end) {
            previous = Some((span, i));
        }
    }
    merged
}

fn parse_span(text: &str) -> Result<Span, String> {
    let quoted = crate::quote(text);
    let Some((start, end)) = text.split_once(['-', '–']) else {
        return Err(format!("`{quoted}` is not an interval; expected one such as `09:00-12:00`"));
    };
    let start = time_of_day(start.trim(), false)?;
    let end = time_of_day(end.trim(), true)?;
    if end < start {
        return Err(format!("`{quoted}` ends before it starts"));
    }
    if end == start {
        return Err(format!("`{quoted}` is empty"));
    }
    Ok(Span { start, end })
}

/// `HH:MM` or `HH:MM:SS`; `24:00` only as an end.
fn time_of_day(text: &str, is_end: bool) -> Result<i64, String> {
    let bad = || {
        if !is_end && text.starts_with("24:") {
            "24:00 can only end an interval".to_owned()
        } else {
            format!("`{}` is not a time of day (HH:MM)", crate::quote(text))
        }
    };
    let parts: Vec<&str> = text.splitn(4, ':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let number = |p: &str| p.parse::<i64>().map_err(|_| bad());
    let (h, m) = (number(parts[0])?, number(parts[1])?);
    let s = parts.get(2).map_or(Ok(0), |p| number(p))?;
    let t = ((h * 60 + m) * 60 + s) * 1_000_000_000;
    match (h, m, s) {
        (0..=23, 0..=59, 0..=59) => Ok(t),
        (24, 0, 0) if is_end => Ok(DAY),
        _ => Err(bad()),
    }
}

/// `Z` or `±HH:MM`, up to ±18:00 like `java.time.ZoneOffset`.
fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text == "Z" || text == "z" {
        return Some(UtcOffset::UTC);
    }
    let bytes = text.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign: i8 = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits =
        |a: u8, b: u8| (a.is_ascii_digit() && b.is_ascii_digit()).then(|| ((a - b'0') * 10 + (b - b'0')) as i8);
    let h = digits(bytes[1], bytes[2])?;
    let m = digits(bytes[4], bytes[5])?;
    if m > 59 || h > 18 || (h == 18 && m > 0) {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("`{}` is not a date (YYYY-MM-DD)", crate::quote(text)))
}

fn parse_date_range(text: &str) -> Result<(Date, Date), String> {
    let Some((from, to)) = text.split_once('/') else {
        let date = parse_date(text)?;
        return Ok((date, date));
    };
    let (from, to) = (parse_date(from)?, parse_date(to)?);
    if to < from {
        return Err(format!("`{}` ends before it starts", crate::quote(text)));
    }
    if days_between(from, to) >= MAX_HOLIDAY_DAYS {
        return Err(format!("`{}` is longer than {MAX_HOLIDAY_DAYS} days", crate::quote(text)));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests;
