use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::fixtures::china_2026;

/// Parses each input and compares the canonical form, or the error message.
fn check(parse: fn(&str) -> Result<String>, cases: &[(&str, &str)]) {
    for &(input, expected) in cases {
        let actual = match parse(input) {
            Ok(shown) => shown,
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected, "input {input:?}");
    }
}

fn duration(input: &str) -> Result<String> {
    IsoDuration::parse(input).map(|d| d.to_string())
}

fn date(input: &str) -> Result<String> {
    TimerSpec::parse_date(input).map(|t| t.to_string())
}

fn cycle(input: &str) -> Result<String> {
    TimerSpec::parse_cycle(input).map(|t| t.to_string())
}

#[test]
fn durations_parse_to_their_canonical_form() {
    check(
        duration,
        &[
            ("P3D", "P3D"),
            ("PT4H30M", "PT4H30M"),
            ("P1DT2H", "P1DT2H"),
            ("P2W", "P2W"),
            ("P1Y2M", "P1Y2M"),
            ("PT90M", "PT90M"),
            ("PT1.5S", "PT1.5S"),
            ("PT0,250S", "PT0.25S"),
            ("PT0.000000001S", "PT0.000000001S"),
            ("p1y2m3w4dt5h6m7.5s", "P1Y2M3W4DT5H6M7.5S"),
            (" \n PT10M \t", "PT10M"),
            ("PT0S", "PT0S"),
            ("P0D", "PT0S"),
            ("PT999999999S", "PT999999999S"),
            ("P100000Y", "P100000Y"),
        ],
    );
}

#[test]
fn malformed_durations_say_what_is_wrong() {
    let too_long = format!("P{}D", "1".repeat(300));
    let cases = [
        ("", "error: invalid timer expression ``: empty"),
        ("P", "error: invalid timer expression `P`: `P` needs at least one component, e.g. `P1D` or `PT1H`"),
        ("PT", "error: invalid timer expression `PT`: `T` must be followed by hours, minutes or seconds, e.g. `PT30M`"),
        (
            "P1DT",
            "error: invalid timer expression `P1DT`: `T` must be followed by hours, minutes or seconds, e.g. `PT30M`",
        ),
        ("P1H", "error: invalid timer expression `P1H`: `H` belongs after `T`, e.g. `PT4H`"),
        ("PT1D", "error: invalid timer expression `PT1D`: `D` belongs before `T`, e.g. `P1DT2H`"),
        ("PT1H2T", "error: invalid timer expression `PT1H2T`: `T` appears twice"),
        ("P1.5D", "error: invalid timer expression `P1.5D`: only seconds may have a fraction, e.g. `PT1.5S`"),
        ("PT1.5M", "error: invalid timer expression `PT1.5M`: only seconds may have a fraction, e.g. `PT1.5S`"),
        ("PT1.S", "error: invalid timer expression `PT1.S`: a decimal fraction needs 1 to 9 digits"),
        (
            "PT1.1234567891S",
            "error: invalid timer expression `PT1.1234567891S`: a decimal fraction needs 1 to 9 digits",
        ),
        ("-PT1H", "error: invalid timer expression `-PT1H`: negative durations are not supported"),
        (
            "P1M1Y",
            "error: invalid timer expression `P1M1Y`: `Y` is repeated or out of order; the order is Y, M, W, D, T, H, M, S",
        ),
        (
            "P1D1D",
            "error: invalid timer expression `P1D1D`: `D` is repeated or out of order; the order is Y, M, W, D, T, H, M, S",
        ),
        (
            "P1234567890D",
            "error: invalid timer expression `P1234567890D`: `1234567890` is too large; at most 9 digits per component",
        ),
        ("P5", "error: invalid timer expression `P5`: `5` has no unit"),
        ("PD", "error: invalid timer expression `PD`: expected a number before `D`"),
        ("PT.5S", "error: invalid timer expression `PT.5S`: expected a number before `S`"),
        ("P1X", "error: invalid timer expression `P1X`: unexpected `X`; the units are Y, M, W, D, T, H, M, S"),
        ("P1D😀", "error: invalid timer expression `P1D😀`: unexpected `😀`; the units are Y, M, W, D, T, H, M, S"),
        ("3D", "error: invalid timer expression `3D`: a duration starts with `P`, e.g. `P3D` or `PT4H30M`"),
        ("R/PT1H", "error: invalid timer expression `R/PT1H`: expected a duration; this looks like a cycle"),
    ];
    check(duration, &cases);
    let message = IsoDuration::parse(&too_long).unwrap_err().to_string();
    assert_eq!(message, format!("invalid timer expression `P{}…`: longer than 256 bytes", "1".repeat(63)));
}

#[test]
fn dates_are_rfc_3339_with_an_offset_or_a_plain_date() {
    check(
        date,
        &[
            ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"),
            ("2026-12-01T09:00:00+08:00", "2026-12-01T09:00:00+08:00"),
            ("2026-12-01T09:00:00.5-05:30", "2026-12-01T09:00:00.5-05:30"),
            ("2026-12-01", "2026-12-01T00:00:00Z"),
            (
                "2026-12-01T09:00:00",
                "error: invalid timer expression `2026-12-01T09:00:00`: a date-time needs an offset such as `Z` or `+08:00`",
            ),
            (
                "2026-12-01T09:00",
                "error: invalid timer expression `2026-12-01T09:00`: a date-time needs an offset such as `Z` or `+08:00`",
            ),
            (
                "PT5M",
                "error: invalid timer expression `PT5M`: expected a date-time; this looks like a duration or a cycle",
            ),
            (
                "2026-02-30",
                "error: invalid timer expression `2026-02-30`: expected an RFC 3339 date-time such as `2026-12-01T09:00:00Z` or `2026-12-01T09:00:00+08:00`, or a date such as `2026-12-01`",
            ),
        ],
    );
}

#[test]
fn cycles_have_repetitions_an_optional_start_and_a_period() {
    check(
        cycle,
        &[
            ("R3/PT10M", "R3/PT10M"),
            ("R/P1D", "R/P1D"),
            ("r/pt1h", "R/PT1H"),
            ("R0/PT1M", "R0/PT1M"),
            ("R5/2026-12-01T09:00:00Z/PT1H", "R5/2026-12-01T09:00:00Z/PT1H"),
            ("R/2026-12-01T09:00:00+08:00/P1M", "R/2026-12-01T09:00:00+08:00/P1M"),
            ("R3", "error: invalid timer expression `R3`: expected `/` after the repetitions, e.g. `R3/PT10M`"),
            (
                "R-1/PT1M",
                "error: invalid timer expression `R-1/PT1M`: repetitions `-1` must be a whole number below 10^9, e.g. `R3`; `R/` repeats for ever",
            ),
            (
                "R1234567890/PT1M",
                "error: invalid timer expression `R1234567890/PT1M`: repetitions `1234567890` must be a whole number below 10^9, e.g. `R3`; `R/` repeats for ever",
            ),
            ("R/PT0S", "error: invalid timer expression `R/PT0S`: a cycle's period must be longer than zero"),
            (
                "R3/PT1H/2026-12-01T00:00:00Z",
                "error: invalid timer expression `R3/PT1H/2026-12-01T00:00:00Z`: only `R[n]/<duration>` and `R[n]/<start>/<duration>` are supported; an end date is not",
            ),
            (
                "R/a/b/c",
                "error: invalid timer expression `R/a/b/c`: too many `/`; expected `R[n]/<start>/<duration>` at most",
            ),
            (
                "R3/2026-12-01T09:00:00/PT1H",
                "error: invalid timer expression `R3/2026-12-01T09:00:00/PT1H`: a date-time needs an offset such as `Z` or `+08:00`",
            ),
            (
                "0 0/5 * * * ?",
                "error: invalid timer expression `0 0/5 * * * ?`: cron expressions are not supported; use an ISO 8601 cycle such as `R/PT1H`",
            ),
        ],
    );
}

#[test]
fn parse_tells_the_three_forms_apart_by_their_first_letter() {
    assert!(matches!(TimerSpec::parse("R/PT1H"), Ok(TimerSpec::Cycle { .. })));
    assert!(matches!(TimerSpec::parse("PT1H"), Ok(TimerSpec::Duration(_))));
    assert!(matches!(TimerSpec::parse("2026-12-01"), Ok(TimerSpec::Date(_))));
    assert_eq!(
        TimerSpec::parse("R5/2026-12-01T09:00:00Z/PT1H"),
        Ok(TimerSpec::Cycle {
            repetitions: Some(5),
            start: Some(datetime!(2026-12-01 09:00 UTC)),
            every: IsoDuration::hours(1),
        })
    );
}

#[test]
fn timers_are_stored_as_their_expression() {
    for text in ["R5/2026-12-01T09:00:00Z/PT1H", "P1DT2H", "2026-12-01T09:00:00+08:00", "R/P1D"] {
        let spec: TimerSpec = text.parse().unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<TimerSpec>(&json).unwrap(), spec);
    }
    let duration: IsoDuration = serde_json::from_str("\"P2W\"").unwrap();
    assert_eq!(duration, IsoDuration::weeks(2));
    assert_eq!(serde_json::to_string(&duration).unwrap(), "\"P2W\"");
    let error = serde_json::from_str::<TimerSpec>("\"P1H\"").unwrap_err().to_string();
    assert!(error.contains("`H` belongs after `T`"), "{error}");
}

fn next(spec: &str, now: OffsetDateTime, fired: u32) -> Result<Option<OffsetDateTime>> {
    TimerSpec::parse(spec).unwrap().next_after(now, fired)
}

#[test]
fn a_date_fires_once_even_when_it_is_past() {
    let now = datetime!(2026-12-02 00:00 UTC);
    assert_eq!(next("2026-12-01T09:00:00Z", now, 0), Ok(Some(datetime!(2026-12-01 09:00 UTC))));
    assert_eq!(next("2026-12-01T09:00:00Z", now, 1), Ok(None));
}

#[test]
fn a_duration_fires_once_after_arming() {
    let now = datetime!(2026-03-06 17:00 +8);
    assert_eq!(next("PT4H30M", now, 0), Ok(Some(datetime!(2026-03-06 21:30 +8))));
    assert_eq!(next("P2W", now, 0), Ok(Some(datetime!(2026-03-20 17:00 +8))));
    assert_eq!(next("PT0.5S", now, 0), Ok(Some(datetime!(2026-03-06 17:00:00.5 +8))));
    assert_eq!(next("PT4H30M", now, 1), Ok(None));
}

#[test]
fn months_clamp_to_the_end_of_the_month_in_the_timers_offset() {
    assert_eq!(next("P1M", datetime!(2026-01-31 10:00 +8), 0), Ok(Some(datetime!(2026-02-28 10:00 +8))));
    assert_eq!(next("P1Y", datetime!(2024-02-29 10:00 UTC), 0), Ok(Some(datetime!(2025-02-28 10:00 UTC))));
    // January 31 in New York is already February 1 in UTC; the month is the local one.
    let result = next("P1M", datetime!(2026-01-31 20:00 -5), 0).unwrap().unwrap();
    assert_eq!(result, datetime!(2026-02-28 20:00 -5));
    assert_eq!(result.offset(), time::macros::offset!(-5));
    assert_eq!(IsoDuration::months(1).sub_from(datetime!(2026-03-31 10:00 UTC)), Ok(datetime!(2026-02-28 10:00 UTC)));
}

#[test]
fn a_cycle_without_start_repeats_after_each_firing() {
    let now = datetime!(2026-03-06 17:00 UTC);
    for fired in 0..3 {
        assert_eq!(next("R3/PT10M", now, fired), Ok(Some(datetime!(2026-03-06 17:10 UTC))));
    }
    assert_eq!(next("R3/PT10M", now, 3), Ok(None));
    assert_eq!(next("R0/PT10M", now, 0), Ok(None));
    assert_eq!(next("R/P1D", now, 100_000), Ok(Some(datetime!(2026-03-07 17:00 UTC))));
}

#[test]
fn a_cycle_with_start_is_a_fixed_schedule() {
    let spec = "R5/2026-12-01T09:00:00Z/PT1H";
    let cases = [
        // (now, fired so far, expected)
        (datetime!(2026-11-30 00:00 UTC), 0, Some(datetime!(2026-12-01 09:00 UTC))),
        (datetime!(2026-12-01 09:00 UTC), 0, Some(datetime!(2026-12-01 09:00 UTC))),
        (datetime!(2026-12-01 09:00 UTC), 1, Some(datetime!(2026-12-01 10:00 UTC))),
        (datetime!(2026-12-01 09:05 UTC), 1, Some(datetime!(2026-12-01 10:00 UTC))),
        // Down from 09:30 to 11:30: 10:00 and 11:00 are skipped, not fired in a burst.
        (datetime!(2026-12-01 11:30 UTC), 1, Some(datetime!(2026-12-01 12:00 UTC))),
        (datetime!(2026-12-01 12:30 UTC), 4, Some(datetime!(2026-12-01 13:00 UTC))),
        (datetime!(2026-12-01 13:00 UTC), 5, None),
        // Skipped occurrences count: 13:00 is the fifth and last.
        (datetime!(2026-12-01 13:30 UTC), 1, None),
        (datetime!(2026-12-01 10:30 UTC), 0, Some(datetime!(2026-12-01 11:00 UTC))),
    ];
    for (now, fired, expected) in cases {
        assert_eq!(next(spec, now, fired), Ok(expected), "now {now}, fired {fired}");
    }
}

#[test]
fn a_monthly_schedule_does_not_drift() {
    let spec = "R/2026-01-31T10:00:00Z/P1M";
    assert_eq!(next(spec, datetime!(2026-02-01 00:00 UTC), 1), Ok(Some(datetime!(2026-02-28 10:00 UTC))));
    assert_eq!(next(spec, datetime!(2026-03-01 00:00 UTC), 2), Ok(Some(datetime!(2026-03-31 10:00 UTC))));
}

#[test]
fn a_schedule_started_long_ago_is_found_without_iterating() {
    let spec = "R/2026-01-01T00:00:00Z/PT1S";
    assert_eq!(next(spec, datetime!(2090-06-15 12:34:56.5 UTC), 1), Ok(Some(datetime!(2090-06-15 12:34:57 UTC))));
}

#[test]
fn absurd_timers_are_errors_not_panics() {
    let now = datetime!(2026-03-06 17:00 UTC);
    let out_of_range = Err(Error::OutOfRange { what: "the timer's instant" });
    assert_eq!(next("P100000Y", now, 0), out_of_range);
    assert_eq!(next("PT999999999S", now, 0).map(|t| t.is_some()), Ok(true));
    assert_eq!(next("R/2026-01-01T00:00:00Z/P1000Y", datetime!(9500-01-01 00:00 UTC), 1), out_of_range);
    assert_eq!(next("P999999999D", datetime!(9999-12-31 23:59 UTC), 0), out_of_range);
    assert_eq!(next("P1M", datetime!(9999-12-31 23:59 UTC), 0), out_of_range);
    let calendar = china_2026();
    let spec = TimerSpec::parse("P100000Y").unwrap();
    assert_eq!(spec.next_after_in(&calendar, now, 0), Err(Error::NotWorkingTimeUnit { unit: "years" }));
    let spec = TimerSpec::parse("PT999999999H").unwrap();
    assert_eq!(spec.next_after_in(&calendar, now, 0), Err(Error::BeyondHorizon));
}

#[test]
fn timers_count_working_time_on_a_calendar() {
    let calendar = china_2026();
    let cases = [
        // Friday 17:00: one hour on Friday, eight on Monday, seven on Tuesday.
        ("PT16H", datetime!(2026-03-06 17:00 +8), 0, Some(datetime!(2026-03-10 17:00 +8))),
        // The day before National Day: the next working day is Thursday 8 October.
        ("P1D", datetime!(2026-09-30 10:00 +8), 0, Some(datetime!(2026-10-08 10:00 +8))),
        // Friday before the make-up Sunday 27 September.
        ("PT2H", datetime!(2026-09-25 17:00 +8), 0, Some(datetime!(2026-09-27 10:00 +8))),
        // A cycle into the make-up Saturday 10 October.
        ("R3/PT4H", datetime!(2026-10-09 16:00 +8), 1, Some(datetime!(2026-10-10 11:00 +8))),
        ("R3/PT4H", datetime!(2026-10-09 16:00 +8), 3, None),
        // A daily schedule starting inside the holiday waits for working time.
        ("R/2026-10-05T09:00:00+08:00/P1D", datetime!(2026-10-01 00:00 +8), 0, Some(datetime!(2026-10-08 09:00 +8))),
        ("R/2026-10-05T09:00:00+08:00/P1D", datetime!(2026-10-08 09:00 +8), 1, Some(datetime!(2026-10-09 09:00 +8))),
        ("R/2026-10-05T09:00:00+08:00/P1D", datetime!(2026-10-09 09:30 +8), 2, Some(datetime!(2026-10-10 09:00 +8))),
        // A date is an appointment; the calendar does not move it.
        ("2026-10-03T10:00:00+08:00", datetime!(2026-10-01 00:00 +8), 0, Some(datetime!(2026-10-03 10:00 +8))),
    ];
    for (spec, now, fired, expected) in cases {
        let actual = TimerSpec::parse(spec).unwrap().next_after_in(&calendar, now, fired);
        assert_eq!(actual, Ok(expected), "{spec} from {now}, fired {fired}");
    }
}

#[test]
fn weeks_and_months_are_refused_in_working_time() {
    let calendar = china_2026();
    let now = datetime!(2026-03-06 17:00 +8);
    for (spec, unit) in [("P1W", "weeks"), ("R/P1M", "months"), ("P1Y", "years")] {
        let spec = TimerSpec::parse(spec).unwrap();
        assert_eq!(spec.check_working_time(), Err(Error::NotWorkingTimeUnit { unit }));
        assert_eq!(spec.next_after_in(&calendar, now, 0), Err(Error::NotWorkingTimeUnit { unit }));
    }
    assert_eq!(
        Error::NotWorkingTimeUnit { unit: "weeks" }.to_string(),
        "weeks cannot be counted in working time; use working days (`P5D`) or hours (`PT40H`)"
    );
}

#[test]
fn first_index_finds_the_boundary_with_few_probes() {
    use std::cell::Cell;
    let probes = Cell::new(0);
    let found = first_index(0, None, |k| {
        probes.set(probes.get() + 1);
        k >= 123_456_789_012
    });
    assert_eq!(found, Some(123_456_789_012));
    assert!(probes.get() <= 128, "{} probes", probes.get());
    assert_eq!(first_index(3, Some(3), |_| true), None);
    assert_eq!(first_index(0, Some(5), |k| k >= 5), None);
    assert_eq!(first_index(0, Some(5), |k| k >= 4), Some(4));
    assert_eq!(first_index(7, None, |_| true), Some(7));
    assert_eq!(first_index(0, None, |_| false), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics_and_round_trips(input in "[PRTYMWDHSprt0-9.,/:+Zz -]{0,40}") {
        if let Ok(spec) = TimerSpec::parse(&input) {
            let shown = spec.to_string();
            prop_assert_eq!(TimerSpec::parse(&shown), Ok(spec));
            let now = datetime!(2026-03-06 17:00 +8);
            for fired in [0, 1, 7] {
                let _ = spec.next_after(now, fired);
                let _ = spec.next_after_in(&china_2026(), now, fired);
            }
        }
    }

    #[test]
    fn generated_durations_round_trip(
        parts in proptest::collection::vec(0u32..1_000_000_000, 8),
        nanos in 0u32..1_000_000_000,
    ) {
        let text = format!(
            "P{}Y{}M{}W{}DT{}H{}M{}.{:09}S",
            parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], nanos
        );
        let parsed = IsoDuration::parse(&text).unwrap();
        prop_assert_eq!(IsoDuration::parse(&parsed.to_string()), Ok(parsed));
        let _ = parsed.add_to(datetime!(2026-03-06 17:00 +8));
        let _ = parsed.sub_from(datetime!(2026-03-06 17:00 +8));
    }
}
