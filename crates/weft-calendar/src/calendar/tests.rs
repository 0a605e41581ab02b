use proptest::prelude::*;
use time::macros::{date, datetime, offset};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::fixtures::{china_2026, china_2026_def, holiday, working_day};

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

#[test]
fn the_example_calendar_is_stored_as_its_declaration() {
    let json = r#"{
        "name": "China 2026 (example)",
        "offset": "+08:00",
        "week": {
            "monday": ["09:00-12:00", "13:00-18:00"],
            "tuesday": ["09:00-12:00", "13:00-18:00"],
            "wednesday": ["09:00-12:00", "13:00-18:00"],
            "thursday": ["09:00-12:00", "13:00-18:00"],
            "friday": ["09:00-12:00", "13:00-18:00"]
        },
        "holidays": [
            { "name": "New Year's Day", "dates": "2026-01-01" },
            { "name": "National Day", "dates": "2026-10-01/2026-10-07" }
        ],
        "working_days": [
            { "date": "2026-09-27", "name": "National Day make-up day (Sunday)" },
            { "date": "2026-10-10", "name": "National Day make-up day (Saturday)" }
        ]
    }"#;
    let calendar: BusinessCalendar = serde_json::from_str(json).unwrap();
    assert_eq!(calendar, china_2026());
    assert_eq!(calendar.name(), "China 2026 (example)");
    assert_eq!(calendar.offset(), offset!(+8));
    let stored: serde_json::Value = serde_json::to_value(&calendar).unwrap();
    let declared: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(stored, declared);
}

#[test]
fn validation_lists_every_problem() {
    let def = CalendarDef {
        name: " ".to_owned(),
        offset: "+8".to_owned(),
        week: WeekDef {
            monday: vec!["09:00-12:00".to_owned(), "11:00-13:00".to_owned()],
            tuesday: vec!["18:00-09:00".to_owned()],
            wednesday: vec!["9:00-12:00".to_owned()],
            thursday: vec!["10:00-10:00".to_owned()],
            friday: vec!["24:00-25:00".to_owned()],
            saturday: vec!["08:00-18:00".to_owned(), "10:00-11:00".to_owned(), "12:00-13:00".to_owned()],
            sunday: vec!["noon".to_owned()],
        },
        holidays: vec![
            holiday("", "2026-10-07/2026-10-01"),
            holiday("National Day", "2026-10-01/2026-10-07"),
            holiday("Leap", "2026-02-30"),
            holiday("Forever", "2026-01-01/2027-06-01"),
        ],
        working_days: vec![
            working_day("2026-10-03", ""),
            working_day("2026-09-27", ""),
            working_day("2026-09-27", ""),
            WorkingDayDef { date: "2026-09-28".to_owned(), name: String::new(), hours: Some(Vec::new()) },
            working_day("someday", ""),
        ],
    };
    let Err(Error::InvalidCalendar { problems }) = BusinessCalendar::new(def) else {
        panic!("the declaration is invalid");
    };
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "name: must not be empty",
            "offset: `+8` is not a UTC offset; expected `Z` or ±HH:MM up to 18:00, such as `+08:00`",
            "week.monday[1]: `11:00-13:00` overlaps `09:00-12:00`",
            "week.tuesday[0]: `18:00-09:00` ends before it starts",
            "week.wednesday[0]: `9:00` is not a time of day (HH:MM)",
            "week.thursday[0]: `10:00-10:00` is empty",
            "week.friday[0]: 24:00 can only end an interval",
            "week.saturday[1]: `10:00-11:00` overlaps `08:00-18:00`",
            "week.saturday[2]: `12:00-13:00` overlaps `08:00-18:00`",
            "week.sunday[0]: `noon` is not an interval; expected one such as `09:00-12:00`",
            "holidays[0].name: must not be empty",
            "holidays[0].dates: `2026-10-07/2026-10-01` ends before it starts",
            "holidays[2].dates: `2026-02-30` is not a date (YYYY-MM-DD)",
            "holidays[3].dates: `2026-01-01/2027-06-01` is longer than 366 days",
            "working_days[0].date: 2026-10-03 is also a holiday (holidays[1], National Day); a day is either worked or not",
            "working_days[2].date: 2026-09-27 is already listed at working_days[1]",
            "working_days[3].hours: is empty; leave `hours` out for the normal weekday hours",
            "working_days[4].date: `someday` is not a date (YYYY-MM-DD)",
        ]
    );
}

#[test]
fn a_calendar_without_working_hours_is_refused() {
    let def = CalendarDef {
        name: "Never".to_owned(),
        offset: "Z".to_owned(),
        week: WeekDef::default(),
        ..CalendarDef::default()
    };
    assert_eq!(
        BusinessCalendar::new(def).unwrap_err().to_string(),
        "invalid business calendar: week: no weekday has working hours, so no working-time deadline could ever be reached"
    );
}

#[test]
fn offsets_are_fixed_and_bounded() {
    for (text, expected) in [
        ("Z", Some(offset!(UTC))),
        ("+08:00", Some(offset!(+8))),
        ("-05:30", Some(offset!(-5:30))),
        ("+18:00", Some(offset!(+18))),
        ("+18:01", None),
        ("+08:60", None),
        ("08:00", None),
        ("+8:00", None),
        ("Asia/Shanghai", None),
        ("", None),
    ] {
        assert_eq!(parse_offset(text), expected, "{text}");
    }
}

#[test]
fn deserializing_an_invalid_calendar_reports_its_problems() {
    let json = r#"{"name": "x", "offset": "+25:00", "week": {"monday": ["09:00-08:00"]}}"#;
    let error = serde_json::from_str::<BusinessCalendar>(json).unwrap_err().to_string();
    assert!(error.contains("offset: `+25:00` is not a UTC offset"), "{error}");
    assert!(error.contains("week.monday[0]: `09:00-08:00` ends before it starts"), "{error}");
    let unknown = r#"{"name": "x", "offset": "Z", "week": {"mon": ["09:00-17:00"]}}"#;
    assert!(serde_json::from_str::<BusinessCalendar>(unknown).is_err());
}

#[test]
fn working_time_is_half_open_and_follows_holidays_and_make_up_days() {
    let calendar = china_2026();
    let cases = [
        (datetime!(2026-03-09 08:59:59.999 +8), false),
        (datetime!(2026-03-09 09:00 +8), true),
        (datetime!(2026-03-09 11:59:59.999999999 +8), true),
        (datetime!(2026-03-09 12:00 +8), false),
        (datetime!(2026-03-09 12:59 +8), false),
        (datetime!(2026-03-09 13:00 +8), true),
        (datetime!(2026-03-09 18:00 +8), false),
        // 09:30 in Beijing is 01:30 UTC.
        (datetime!(2026-03-09 01:30 UTC), true),
        (datetime!(2026-03-09 09:30 UTC), true),
        (datetime!(2026-03-09 10:30 UTC), false),
        (datetime!(2026-03-07 10:00 +8), false),
        (datetime!(2026-01-01 10:00 +8), false),
        (datetime!(2026-10-05 10:00 +8), false),
        (datetime!(2026-09-27 10:00 +8), true),
        (datetime!(2026-10-10 15:00 +8), true),
        (datetime!(2026-10-11 15:00 +8), false),
    ];
    for (at, expected) in cases {
        assert_eq!(calendar.is_working_time(at), expected, "{at}");
    }
    assert!(calendar.is_working_day(date!(2026 - 09 - 27)));
    assert!(!calendar.is_working_day(date!(2026 - 10 - 01)));
    assert!(!calendar.is_working_day(date!(2026 - 10 - 04)));
}

#[test]
fn the_next_working_instant_skips_breaks_weekends_and_holidays() {
    let calendar = china_2026();
    let cases = [
        (datetime!(2026-03-09 10:00 +8), datetime!(2026-03-09 10:00 +8)),
        (datetime!(2026-03-09 12:00 +8), datetime!(2026-03-09 13:00 +8)),
        (datetime!(2026-03-09 07:00 +8), datetime!(2026-03-09 09:00 +8)),
        (datetime!(2026-03-06 18:00 +8), datetime!(2026-03-09 09:00 +8)),
        (datetime!(2026-09-30 18:00 +8), datetime!(2026-10-08 09:00 +8)),
        (datetime!(2026-09-26 10:00 +8), datetime!(2026-09-27 09:00 +8)),
        (datetime!(2025-12-31 20:00 +8), datetime!(2026-01-02 09:00 +8)),
    ];
    for (at, expected) in cases {
        assert_eq!(calendar.next_working_instant(at), Ok(expected), "{at}");
    }
    let utc = calendar.next_working_instant(datetime!(2026-03-09 04:30 UTC)).unwrap();
    assert_eq!(utc, datetime!(2026-03-09 13:00 +8));
    assert_eq!(utc.offset(), offset!(UTC), "answers keep the caller's offset");
}

#[test]
fn working_durations_skip_breaks_weekends_and_holidays() {
    let calendar = china_2026();
    let cases = [
        // Friday 17:00 + 16h: 1h Friday, 8h Monday, 7h Tuesday.
        (datetime!(2026-03-06 17:00 +8), hours(16), datetime!(2026-03-10 17:00 +8)),
        // Exactly at the end of an interval the answer is that end, not the next start.
        (datetime!(2026-03-09 09:00 +8), hours(3), datetime!(2026-03-09 12:00 +8)),
        (datetime!(2026-03-09 09:00 +8), hours(8), datetime!(2026-03-09 18:00 +8)),
        (datetime!(2026-03-09 09:00 +8), hours(8) + Duration::minutes(1), datetime!(2026-03-10 09:01 +8)),
        (datetime!(2026-03-09 11:00 +8), hours(1) + Duration::minutes(1), datetime!(2026-03-09 13:01 +8)),
        (datetime!(2026-03-09 12:30 +8), hours(1), datetime!(2026-03-09 14:00 +8)),
        (datetime!(2026-03-07 10:00 +8), hours(1), datetime!(2026-03-09 10:00 +8)),
        (datetime!(2026-03-07 10:00 +8), Duration::ZERO, datetime!(2026-03-07 10:00 +8)),
        // Into National Day: 1h on 30 September, then Thursday 8 October.
        (datetime!(2026-09-30 17:00 +8), hours(2), datetime!(2026-10-08 10:00 +8)),
        // Onto the make-up Sunday and Saturday.
        (datetime!(2026-09-25 17:00 +8), hours(2), datetime!(2026-09-27 10:00 +8)),
        (datetime!(2026-10-09 17:00 +8), hours(4), datetime!(2026-10-10 12:00 +8)),
        (datetime!(2026-10-10 17:00 +8), hours(2), datetime!(2026-10-12 10:00 +8)),
        // Backwards: the answer is the start of the working time counted, not the end of
        // the day before.
        (datetime!(2026-03-09 10:00 +8), hours(-1), datetime!(2026-03-09 09:00 +8)),
        (datetime!(2026-03-09 10:00 +8), hours(-2), datetime!(2026-03-06 17:00 +8)),
        (datetime!(2026-03-09 13:00 +8), hours(-1), datetime!(2026-03-09 11:00 +8)),
        (datetime!(2026-03-09 12:30 +8), Duration::minutes(-30), datetime!(2026-03-09 11:30 +8)),
        (datetime!(2026-10-08 10:00 +8), hours(-2), datetime!(2026-09-30 17:00 +8)),
        (datetime!(2026-09-28 09:30 +8), hours(-1), datetime!(2026-09-27 17:30 +8)),
        // Nanoseconds survive.
        (
            datetime!(2026-03-09 11:59:59.999999999 +8),
            Duration::nanoseconds(2),
            datetime!(2026-03-09 13:00:00.000000001 +8),
        ),
    ];
    for (start, duration, expected) in cases {
        assert_eq!(calendar.add_working_duration(start, duration), Ok(expected), "{start} + {duration}");
        if start != expected && calendar.is_working_time(start) {
            let back = calendar.working_duration_between(start, expected).unwrap();
            assert_eq!(back, duration, "between {start} and {expected}");
        }
    }
}

#[test]
fn working_duration_between_counts_only_working_time() {
    let calendar = china_2026();
    let cases = [
        (datetime!(2026-03-06 17:00 +8), datetime!(2026-03-10 17:00 +8), hours(16)),
        (datetime!(2026-03-10 17:00 +8), datetime!(2026-03-06 17:00 +8), hours(-16)),
        (datetime!(2026-09-30 17:00 +8), datetime!(2026-10-08 10:00 +8), hours(2)),
        (datetime!(2026-03-09 12:15 +8), datetime!(2026-03-09 12:45 +8), Duration::ZERO),
        (datetime!(2026-03-07 00:00 +8), datetime!(2026-03-08 23:59 +8), Duration::ZERO),
        (datetime!(2026-09-26 00:00 +8), datetime!(2026-09-28 00:00 +8), hours(8)),
        // 2026: 261 weekdays, minus New Year's Day and five weekdays of National Day, plus
        // two make-up days: 257 days of 8 hours.
        (datetime!(2026-01-01 00:00 +8), datetime!(2027-01-01 00:00 +8), hours(257 * 8)),
        // A year without special dates: 52 weeks and a day (2027 starts on a Friday).
        (datetime!(2027-01-01 00:00 +8), datetime!(2028-01-01 00:00 +8), hours(261 * 8)),
        (datetime!(2026-03-09 01:00 UTC), datetime!(2026-03-09 02:00 UTC), hours(1)),
    ];
    for (a, b, expected) in cases {
        assert_eq!(calendar.working_duration_between(a, b), Ok(expected), "{a} to {b}");
    }
}

#[test]
fn working_days_count_like_workday() {
    let calendar = china_2026();
    let cases = [
        (date!(2026 - 09 - 30), 1, date!(2026 - 10 - 08)),
        (date!(2026 - 09 - 25), 1, date!(2026 - 09 - 27)),
        (date!(2026 - 09 - 26), 1, date!(2026 - 09 - 27)),
        (date!(2026 - 10 - 09), 1, date!(2026 - 10 - 10)),
        (date!(2026 - 10 - 10), 1, date!(2026 - 10 - 12)),
        (date!(2026 - 10 - 08), -1, date!(2026 - 09 - 30)),
        (date!(2026 - 09 - 28), -1, date!(2026 - 09 - 27)),
        (date!(2026 - 01 - 02), -1, date!(2025 - 12 - 31)),
        (date!(2026 - 10 - 04), 0, date!(2026 - 10 - 04)),
        (date!(2026 - 03 - 06), 10, date!(2026 - 03 - 20)),
        (date!(2025 - 12 - 31), 257, date!(2026 - 12 - 31)),
        (date!(2026 - 12 - 31), -257, date!(2025 - 12 - 31)),
    ];
    for (start, n, expected) in cases {
        assert_eq!(calendar.add_working_days(start, n), Ok(expected), "{start} + {n}");
    }
}

#[test]
fn iso_durations_in_working_time_count_working_days_then_hours() {
    let mut def = china_2026_def();
    def.working_days.push(WorkingDayDef {
        date: "2026-12-31".to_owned(),
        name: "New Year's Eve, short day".to_owned(),
        hours: Some(vec!["09:00-15:00".to_owned()]),
    });
    let calendar = BusinessCalendar::new(def).unwrap();
    let duration = |text: &str| IsoDuration::parse(text).unwrap();
    let forward = [
        (datetime!(2026-09-30 10:00 +8), "P1D", datetime!(2026-10-08 10:00 +8)),
        // After hours on Friday: from Monday 09:00, one working day on.
        (datetime!(2026-03-06 19:00 +8), "P1D", datetime!(2026-03-10 09:00 +8)),
        (datetime!(2026-03-06 10:00 +8), "P1DT2H", datetime!(2026-03-09 12:00 +8)),
        (datetime!(2026-09-25 15:00 +8), "P2D", datetime!(2026-09-28 15:00 +8)),
        // The short day ends at 15:00, so that is the deadline on it.
        (datetime!(2026-12-30 17:00 +8), "P1D", datetime!(2026-12-31 15:00 +8)),
        (datetime!(2026-12-30 17:00 +8), "PT2H", datetime!(2026-12-31 10:00 +8)),
        (datetime!(2026-03-06 10:00 +8), "PT0S", datetime!(2026-03-06 10:00 +8)),
    ];
    for (start, text, expected) in forward {
        assert_eq!(calendar.add_working(start, &duration(text)), Ok(expected), "{start} + {text}");
    }
    let backward = [
        (datetime!(2026-10-08 10:00 +8), "P1D", datetime!(2026-09-30 10:00 +8)),
        // From inside the holiday: the last working instant is 30 September 18:00.
        (datetime!(2026-10-03 10:00 +8), "P1D", datetime!(2026-09-29 18:00 +8)),
        (datetime!(2026-03-09 10:00 +8), "PT2H", datetime!(2026-03-06 17:00 +8)),
        (datetime!(2026-03-09 10:00 +8), "P1DT1H", datetime!(2026-03-06 09:00 +8)),
    ];
    for (due, text, expected) in backward {
        assert_eq!(calendar.sub_working(due, &duration(text)), Ok(expected), "{due} - {text}");
    }
    assert_eq!(
        calendar.add_working(datetime!(2026-03-06 10:00 +8), &duration("P1W")),
        Err(Error::NotWorkingTimeUnit { unit: "weeks" })
    );
}

#[test]
fn make_up_days_default_to_the_hours_most_weekdays_share() {
    let mut week = WeekDef::weekdays(&["09:00-17:00"]);
    week.friday = vec!["09:00-13:00".to_owned()];
    let def = CalendarDef {
        name: "Short Fridays".to_owned(),
        offset: "Z".to_owned(),
        week,
        holidays: Vec::new(),
        working_days: vec![working_day("2026-03-07", "Saturday make-up")],
    };
    let calendar = BusinessCalendar::new(def).unwrap();
    assert!(calendar.is_working_time(datetime!(2026-03-07 16:30 UTC)));
    // One hour on the short Friday, eight on the make-up Saturday.
    assert_eq!(
        calendar.add_working_duration(datetime!(2026-03-06 12:00 UTC), hours(9)),
        Ok(datetime!(2026-03-07 17:00 UTC))
    );
    assert_eq!(
        calendar.add_working_duration(datetime!(2026-03-06 12:00 UTC), hours(10)),
        Ok(datetime!(2026-03-09 10:00 UTC))
    );
}

/// A night shift in a fixed offset west of UTC: working time runs through midnight.
fn night_shift() -> BusinessCalendar {
    BusinessCalendar::new(CalendarDef {
        name: "Night shift".to_owned(),
        offset: "-05:30".to_owned(),
        week: WeekDef::weekdays(&["22:00-24:00", "00:00-06:00"]),
        holidays: Vec::new(),
        working_days: Vec::new(),
    })
    .unwrap()
}

#[test]
fn working_time_continues_across_midnight() {
    let calendar = night_shift();
    let monday_late = datetime!(2026-03-09 23:00 -5:30);
    assert_eq!(monday_late, datetime!(2026-03-10 04:30 UTC));
    assert!(calendar.is_working_time(datetime!(2026-03-10 00:00 -5:30)));
    assert_eq!(calendar.add_working_duration(monday_late, hours(2)), Ok(datetime!(2026-03-10 01:00 -5:30)));
    assert_eq!(calendar.working_duration_between(monday_late, datetime!(2026-03-10 01:00 -5:30)), Ok(hours(2)));
    // Friday night, then nothing until Monday 00:00.
    assert_eq!(
        calendar.add_working_duration(datetime!(2026-03-13 23:00 -5:30), hours(2)),
        Ok(datetime!(2026-03-16 01:00 -5:30))
    );
    assert_eq!(
        calendar.add_working_duration(datetime!(2026-03-16 01:00 -5:30), hours(-2)),
        Ok(datetime!(2026-03-13 23:00 -5:30))
    );
    // Ending exactly at midnight gives 24:00, i.e. the next day's 00:00.
    assert_eq!(
        calendar.add_working_duration(datetime!(2026-03-09 22:00 -5:30), hours(2)),
        Ok(datetime!(2026-03-10 00:00 -5:30))
    );
}

#[test]
fn long_durations_jump_by_weeks_and_stop_at_the_horizon() {
    let calendar = china_2026();
    let start = datetime!(2026-03-06 17:00 +8);
    // About a hundred years of working time: answered by skipping whole weeks.
    let long = hours(8 * 261 * 100);
    let end = calendar.add_working_duration(start, long).unwrap();
    assert_eq!(end.year(), 2126);
    assert_eq!(calendar.working_duration_between(start, end), Ok(long));
    assert_eq!(calendar.add_working_duration(end, -long), Ok(start));
    assert_eq!(calendar.add_working_duration(start, hours(8 * 261 * 300)), Err(Error::BeyondHorizon));
    assert_eq!(calendar.add_working_duration(start, Duration::MAX), Err(Error::BeyondHorizon));
    assert_eq!(calendar.add_working_duration(start, Duration::MIN), Err(Error::BeyondHorizon));
    assert_eq!(calendar.add_working_days(date!(2026 - 03 - 06), 20_000).map(|d| d.year()), Ok(2102));
    assert_eq!(calendar.add_working_days(date!(2026 - 03 - 06), i32::MAX), Err(Error::BeyondHorizon));
    assert_eq!(calendar.add_working_days(date!(2026 - 03 - 06), i32::MIN), Err(Error::BeyondHorizon));
    assert_eq!(
        calendar.add_working_duration(datetime!(9999-12-31 17:00 +8), hours(2)),
        Err(Error::OutOfRange { what: "the working-time result" })
    );
    let whole_range =
        calendar.working_duration_between(datetime!(-9999-01-01 00:00 UTC), datetime!(9999-12-31 00:00 UTC)).unwrap();
    assert!(whole_range > hours(8 * 250 * 19_000));
}

/// Minute by minute, the obviously correct and hopelessly slow way.
fn oracle_between(calendar: &BusinessCalendar, a: OffsetDateTime, b: OffsetDateTime) -> i64 {
    let mut minutes = 0;
    let mut t = a;
    while t < b {
        if calendar.is_working_time(t) {
            minutes += 1;
        }
        t += Duration::MINUTE;
    }
    minutes
}

fn oracle_add(calendar: &BusinessCalendar, start: OffsetDateTime, minutes: i64) -> OffsetDateTime {
    let mut counted = 0;
    let mut t = start;
    if minutes > 0 {
        loop {
            if calendar.is_working_time(t) {
                counted += 1;
            }
            t += Duration::MINUTE;
            if counted == minutes {
                return t;
            }
        }
    }
    while counted < -minutes {
        t -= Duration::MINUTE;
        if calendar.is_working_time(t) {
            counted += 1;
        }
    }
    t
}

fn around_national_day() -> impl Strategy<Value = OffsetDateTime> {
    // 2026-09-20 to 2026-10-20, whole minutes, in Beijing time.
    (0i64..30 * 24 * 60).prop_map(|m| datetime!(2026-09-20 00:00 +8) + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn adding_agrees_with_counting_minutes(
        start in around_national_day(),
        minutes in -3000i64..3000,
        night in any::<bool>(),
    ) {
        let calendar = if night { night_shift() } else { china_2026() };
        let expected = oracle_add(&calendar, start, minutes);
        let actual = calendar.add_working_duration(start, Duration::minutes(minutes));
        prop_assert_eq!(actual, Ok(expected));
    }

    #[test]
    fn between_agrees_with_counting_minutes(
        a in around_national_day(),
        b in around_national_day(),
    ) {
        let calendar = china_2026();
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let minutes = oracle_between(&calendar, from, to);
        prop_assert_eq!(
            calendar.working_duration_between(a, b),
            Ok(Duration::minutes(if a <= b { minutes } else { -minutes }))
        );
    }

    #[test]
    fn working_days_step_back_to_where_they_started(
        start in around_national_day(),
        n in 1i32..40,
    ) {
        let calendar = china_2026();
        let date = start.date();
        let later = calendar.add_working_days(date, n).unwrap();
        prop_assert!(calendar.is_working_day(later));
        let mut counted = 0;
        let mut d = date;
        while d < later {
            d = d.next_day().unwrap();
            if calendar.is_working_day(d) {
                counted += 1;
            }
        }
        prop_assert_eq!(counted, n);
        if calendar.is_working_day(date) {
            prop_assert_eq!(calendar.add_working_days(later, -n), Ok(date));
        }
    }
}

fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
    let min = datetime!(-9999-01-01 00:00 UTC).unix_timestamp();
    let max = datetime!(9999-12-31 23:59:59 UTC).unix_timestamp();
    (min..=max, -18i8..=18).prop_map(|(seconds, hours)| {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap().to_offset(time::UtcOffset::from_hms(hours, 0, 0).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Anything representable goes in; an answer or an error comes out, quickly.
    #[test]
    fn extreme_inputs_are_answered_or_refused(
        at in any_instant(),
        other in any_instant(),
        nanos in any::<i64>(),
        days in any::<i32>(),
    ) {
        for calendar in [china_2026(), night_shift()] {
            let _ = calendar.is_working_time(at);
            let _ = calendar.next_working_instant(at);
            let _ = calendar.add_working_duration(at, Duration::nanoseconds(nanos));
            let _ = calendar.add_working_duration(at, Duration::seconds(nanos));
            let _ = calendar.working_duration_between(at, other);
            let _ = calendar.add_working_days(at.date(), days);
            let hours = IsoDuration::hours(days.unsigned_abs());
            let _ = calendar.add_working(at, &hours);
            let _ = calendar.sub_working(at, &IsoDuration::days(days.unsigned_abs()));
        }
    }
}
