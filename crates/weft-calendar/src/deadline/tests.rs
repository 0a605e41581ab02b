use time::macros::datetime;

use super::*;
use crate::fixtures::china_2026;

#[test]
fn offsets_read_and_print_as_duration_and_direction() {
    for (input, expected) in [
        ("PT2H before", Ok("PT2H before")),
        ("  P1D   AFTER ", Ok("P1D after")),
        ("pt30m Before", Ok("PT30M before")),
        (
            "PT2H",
            Err("invalid deadline offset `PT2H`: expected a duration and `before` or `after`, e.g. `PT2H before`"),
        ),
        (
            "PT2H before due",
            Err(
                "invalid deadline offset `PT2H before due`: expected a duration and `before` or `after`, e.g. `PT2H before`",
            ),
        ),
        ("PT2H later", Err("invalid deadline offset `PT2H later`: `later` is neither `before` nor `after`")),
        ("P1H before", Err("invalid deadline offset `P1H before`: `H` belongs after `T`, e.g. `PT4H`")),
    ] {
        let actual = DeadlineOffset::parse(input).map(|offset| offset.to_string()).map_err(|error| error.to_string());
        assert_eq!(actual.as_deref(), expected.map_err(str::to_owned).as_deref(), "{input:?}");
    }
    let offset: DeadlineOffset = serde_json::from_str("\"PT2H before\"").unwrap();
    assert_eq!(offset, DeadlineOffset::before(IsoDuration::hours(2)));
    assert_eq!(serde_json::to_string(&offset).unwrap(), "\"PT2H before\"");
    let long = format!("PT{}H before", "1".repeat(300));
    assert!(DeadlineOffset::parse(&long).unwrap_err().to_string().ends_with("longer than 256 bytes"));
}

#[test]
fn reminders_and_escalations_in_clock_time() {
    let due = datetime!(2026-03-09 10:00 +8);
    let offsets = [
        DeadlineOffset::before(IsoDuration::hours(2)),
        DeadlineOffset::before(IsoDuration::days(1)),
        DeadlineOffset::after(IsoDuration::minutes(30)),
    ];
    assert_eq!(
        schedule(due, &offsets, None),
        Ok(vec![datetime!(2026-03-09 08:00 +8), datetime!(2026-03-08 10:00 +8), datetime!(2026-03-09 10:30 +8),])
    );
}

#[test]
fn reminders_and_escalations_in_working_time() {
    let calendar = china_2026();
    // Due Monday 10:00: two working hours before is Friday 17:00; one working day after
    // is Tuesday 10:00.
    let due = datetime!(2026-03-09 10:00 +8);
    let offsets = ["PT2H before".parse::<DeadlineOffset>().unwrap(), "P1D after".parse().unwrap()];
    assert_eq!(
        schedule(due, &offsets, Some(&calendar)),
        Ok(vec![datetime!(2026-03-06 17:00 +8), datetime!(2026-03-10 10:00 +8)])
    );
    // Due the Thursday after National Day: the reminder lands before the holiday.
    let due = datetime!(2026-10-08 10:00 +8);
    assert_eq!(
        schedule(due, &["PT2H before".parse().unwrap()], Some(&calendar)),
        Ok(vec![datetime!(2026-09-30 17:00 +8)])
    );
}

#[test]
fn an_sla_in_working_days_with_reminders_and_escalation() {
    let calendar = china_2026();
    // Opened on the make-up Sunday afternoon, resolve within 2 working days.
    let opened = datetime!(2026-09-27 15:00 +8);
    let due = due_after(opened, &IsoDuration::days(2), Some(&calendar)).unwrap();
    assert_eq!(due, datetime!(2026-09-29 15:00 +8));
    let escalation = DeadlineOffset::after(IsoDuration::days(1)).apply(due, Some(&calendar)).unwrap();
    assert_eq!(escalation, datetime!(2026-09-30 15:00 +8));
    let late = DeadlineOffset::after(IsoDuration::days(2)).apply(due, Some(&calendar)).unwrap();
    assert_eq!(late, datetime!(2026-10-08 15:00 +8));
    assert_eq!(
        DeadlineOffset::before(IsoDuration::weeks(1)).apply(due, Some(&calendar)),
        Err(Error::NotWorkingTimeUnit { unit: "weeks" })
    );
    assert_eq!(due_after(opened, &IsoDuration::weeks(1), None), Ok(datetime!(2026-10-04 15:00 +8)));
}
