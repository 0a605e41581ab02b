//! Calendars shared by the tests of every module.

use crate::{BusinessCalendar, CalendarDef, HolidayDef, WeekDef, WorkingDayDef};

pub(crate) fn holiday(name: &str, dates: &str) -> HolidayDef {
    HolidayDef { name: name.to_owned(), dates: dates.to_owned() }
}

pub(crate) fn working_day(date: &str, name: &str) -> WorkingDayDef {
    WorkingDayDef { date: date.to_owned(), name: name.to_owned(), hours: None }
}

/// A China-style 2026 calendar: Monday to Friday 09:00-12:00 and 13:00-18:00 (8 hours),
/// National Day Thursday 1 to Wednesday 7 October off, made up by working Sunday
/// 27 September and Saturday 10 October; New Year's Day (a Thursday) off. The data is
/// internally consistent, not a copy of the State Council's notice.
pub(crate) fn china_2026_def() -> CalendarDef {
    CalendarDef {
        name: "China 2026 (example)".to_owned(),
        offset: "+08:00".to_owned(),
        week: WeekDef::weekdays(&["09:00-12:00", "13:00-18:00"]),
        holidays: vec![holiday("New Year's Day", "2026-01-01"), holiday("National Day", "2026-10-01/2026-10-07")],
        working_days: vec![
            working_day("2026-09-27", "National Day make-up day (Sunday)"),
            working_day("2026-10-10", "National Day make-up day (Saturday)"),
        ],
    }
}

pub(crate) fn china_2026() -> BusinessCalendar {
    BusinessCalendar::new(china_2026_def()).expect("the example calendar is valid")
}
