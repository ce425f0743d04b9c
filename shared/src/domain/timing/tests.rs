//! Tests for the timing rules, all from fixed instants. DST dates used: America/New_York springs forward on
//! 2026-03-08 (02:00 EST → 03:00 EDT) and falls back on 2026-11-01 (02:00 EDT → 01:00 EST); Europe/Berlin on
//! 2026-03-29 and 2026-10-25; Australia/Lord_Howe shifts by 30 minutes on 2026-10-04 (02:00 → 02:30) and
//! 2026-04-05 (02:00 → 01:30).

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn spec(frequency: Frequency, time: Option<&str>, tz: &str) -> TimingSpec {
    TimingSpec {
        frequency,
        scheduled_time: time.map(str::to_owned),
        day_of_week: None,
        day_of_month: None,
        cron_expression: None,
        timezone: tz.to_owned(),
    }
}

fn custom_spec(expression: &str, tz: &str) -> TimingSpec {
    TimingSpec {
        cron_expression: Some(expression.to_owned()),
        ..spec(Frequency::Custom, None, tz)
    }
}

/// A fixed "now" for parsing; the occurrence tests pass their own `after`.
fn now() -> DateTime<Utc> {
    utc("2026-01-01T00:00:00Z")
}

fn rule(spec: &TimingSpec) -> TimingRule {
    TimingRule::parse(spec, now()).unwrap()
}

fn daily(time: &str, tz: &str) -> TimingRule {
    rule(&spec(Frequency::Daily, Some(time), tz))
}

fn cron(expression: &str, tz: &str) -> TimingRule {
    rule(&custom_spec(expression, tz))
}

fn times(list: &[&str]) -> Vec<DateTime<Utc>> {
    list.iter().map(|t| utc(t)).collect()
}

/// The errors of a spec that must fail, as (field, message).
fn problems(spec: &TimingSpec) -> Vec<(String, String)> {
    TimingRule::parse(spec, now())
        .unwrap_err()
        .into_iter()
        .map(|e| (e.field().to_owned(), e.msg))
        .collect()
}

fn cron_error(expression: &str) -> String {
    let errors = problems(&custom_spec(expression, "UTC"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "cron_expression");
    errors[0].1.clone()
}

// ---------------------------------------------------------------- daily, weekly, monthly

#[test]
fn daily_runs_at_the_local_time_in_its_zone_strictly_after() {
    let rule = daily("08:00", "Europe/Berlin");
    // Winter: Berlin is UTC+1.
    assert_eq!(
        rule.next_after(utc("2026-01-10T06:00:00Z")),
        Some(utc("2026-01-10T07:00:00Z"))
    );
    // Exactly at an occurrence: the next one is a day later.
    assert_eq!(
        rule.next_after(utc("2026-01-10T07:00:00Z")),
        Some(utc("2026-01-11T07:00:00Z"))
    );
    // Summer: UTC+2.
    assert_eq!(
        rule.next_after(utc("2026-07-01T00:00:00Z")),
        Some(utc("2026-07-01T06:00:00Z"))
    );
}

#[test]
fn daily_in_the_spring_forward_gap_runs_at_the_end_of_the_gap_the_same_day() {
    let rule = daily("02:30", "America/New_York");
    assert_eq!(
        rule.upcoming(utc("2026-03-07T12:00:00Z"), 3),
        times(&[
            "2026-03-08T07:00:00Z", // 02:30 does not exist: 03:00 EDT
            "2026-03-09T06:30:00Z", // 02:30 EDT
            "2026-03-10T06:30:00Z",
        ])
    );
    let berlin = daily("02:30", "Europe/Berlin");
    assert_eq!(
        berlin.next_after(utc("2026-03-28T12:00:00Z")),
        Some(utc("2026-03-29T01:00:00Z"))
    );
}

#[test]
fn daily_on_the_fall_back_day_runs_once_at_the_first_occurrence() {
    let rule = daily("01:30", "America/New_York");
    assert_eq!(
        rule.upcoming(utc("2026-10-31T12:00:00Z"), 3),
        times(&[
            "2026-11-01T05:30:00Z", // 01:30 EDT; 01:30 EST (06:30Z) is skipped
            "2026-11-02T06:30:00Z",
            "2026-11-03T06:30:00Z",
        ])
    );
    // From between the two passes, the second pass is not an occurrence.
    assert_eq!(
        rule.next_after(utc("2026-11-01T05:45:00Z")),
        Some(utc("2026-11-02T06:30:00Z"))
    );
    let berlin = daily("02:30", "Europe/Berlin");
    assert_eq!(
        berlin.next_after(utc("2026-10-24T12:00:00Z")),
        Some(utc("2026-10-25T00:30:00Z"))
    );
    assert_eq!(
        berlin.next_after(utc("2026-10-25T00:30:00Z")),
        Some(utc("2026-10-26T01:30:00Z"))
    );
}

#[test]
fn lord_howe_half_hour_shifts() {
    let rule = daily("02:15", "Australia/Lord_Howe");
    // 02:00 +10:30 jumps to 02:30 +11:00 = 15:30Z.
    assert_eq!(
        rule.next_after(utc("2026-10-03T00:00:00Z")),
        Some(utc("2026-10-03T15:30:00Z"))
    );
    let rule = daily("01:45", "Australia/Lord_Howe");
    // 01:45 happens at +11:00 (14:45Z) and again at +10:30 (15:15Z); the first one counts.
    assert_eq!(
        rule.upcoming(utc("2026-04-04T00:00:00Z"), 2),
        times(&["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"])
    );
}

#[test]
fn weekly_defaults_to_monday_and_runs_on_the_given_weekday() {
    let rule = rule(&spec(Frequency::Weekly, Some("09:30"), "UTC"));
    assert_eq!(rule.spec().day_of_week, Some(DayOfWeek::Monday));
    // 2026-01-01 is a Thursday.
    assert_eq!(
        rule.upcoming(utc("2026-01-01T00:00:00Z"), 2),
        times(&["2026-01-05T09:30:00Z", "2026-01-12T09:30:00Z"])
    );
    assert_eq!(rule.describe(), "Every Monday at 09:30 (UTC)");

    let friday = TimingRule::parse(
        &TimingSpec {
            day_of_week: Some(DayOfWeek::Friday),
            ..spec(Frequency::Weekly, Some("18:00"), "Europe/Berlin")
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        friday.next_after(utc("2026-01-02T17:00:00Z")),
        Some(utc("2026-01-09T17:00:00Z"))
    );
    assert_eq!(friday.describe(), "Every Friday at 18:00 (Europe/Berlin)");
}

fn monthly(day: Option<DayOfMonth>, time: &str) -> TimingRule {
    rule(&TimingSpec {
        day_of_month: day,
        ..spec(Frequency::Monthly, Some(time), "UTC")
    })
}

#[test]
fn monthly_defaults_to_the_first() {
    let rule = monthly(None, "06:00");
    assert_eq!(rule.spec().day_of_month, Some(DayOfMonth::Day(1)));
    assert_eq!(
        rule.upcoming(utc("2026-01-01T06:00:00Z"), 2),
        times(&["2026-02-01T06:00:00Z", "2026-03-01T06:00:00Z"])
    );
}

#[test]
fn monthly_day_31_runs_on_the_last_day_of_shorter_months() {
    let rule = monthly(Some(DayOfMonth::Day(31)), "02:00");
    assert_eq!(
        rule.upcoming(utc("2026-01-01T00:00:00Z"), 5),
        times(&[
            "2026-01-31T02:00:00Z",
            "2026-02-28T02:00:00Z",
            "2026-03-31T02:00:00Z",
            "2026-04-30T02:00:00Z",
            "2026-05-31T02:00:00Z",
        ])
    );
    assert_eq!(rule.describe(), "Monthly on day 31 at 02:00 (UTC)");
}

#[test]
fn monthly_last_and_february_29_in_a_leap_year() {
    let last = monthly(Some(DayOfMonth::Last), "02:00");
    assert_eq!(
        last.upcoming(utc("2028-01-31T03:00:00Z"), 3),
        times(&[
            "2028-02-29T02:00:00Z",
            "2028-03-31T02:00:00Z",
            "2028-04-30T02:00:00Z"
        ])
    );
    assert_eq!(last.describe(), "Monthly on the last day at 02:00 (UTC)");

    let day_30 = monthly(Some(DayOfMonth::Day(30)), "02:00");
    assert_eq!(
        day_30.next_after(utc("2028-02-01T00:00:00Z")),
        Some(utc("2028-02-29T02:00:00Z"))
    );
    assert_eq!(
        day_30.next_after(utc("2027-02-01T00:00:00Z")),
        Some(utc("2027-02-28T02:00:00Z"))
    );

    let day_29 = monthly(Some(DayOfMonth::Day(29)), "02:00");
    assert_eq!(
        day_29.next_after(utc("2028-02-01T00:00:00Z")),
        Some(utc("2028-02-29T02:00:00Z"))
    );
}

// ---------------------------------------------------------------- once

#[test]
fn once_hh_mm_is_the_next_such_local_time_strictly_after_now() {
    let now = utc("2026-05-01T10:00:00Z");
    let parse =
        |time: &str| TimingRule::parse(&spec(Frequency::Once, Some(time), "UTC"), now).unwrap();
    assert_eq!(
        parse("09:00").next_after(now),
        Some(utc("2026-05-02T09:00:00Z"))
    );
    assert_eq!(
        parse("10:00").next_after(now),
        Some(utc("2026-05-02T10:00:00Z"))
    );
    assert_eq!(
        parse("10:01").next_after(now),
        Some(utc("2026-05-01T10:01:00Z"))
    );
    assert_eq!(
        parse("10:01").spec().scheduled_time.as_deref(),
        Some("2026-05-01T10:01:00+00:00")
    );

    // In the schedule's zone: 08:00 Berlin (CEST) after 10:00Z is tomorrow 06:00Z.
    let berlin =
        TimingRule::parse(&spec(Frequency::Once, Some("08:00"), "Europe/Berlin"), now).unwrap();
    assert_eq!(berlin.next_after(now), Some(utc("2026-05-02T06:00:00Z")));
    assert_eq!(
        berlin.spec().scheduled_time.as_deref(),
        Some("2026-05-02T08:00:00+02:00")
    );
}

#[test]
fn once_date_time_without_offset_is_local_to_the_schedule_zone() {
    let rule = rule(&spec(
        Frequency::Once,
        Some("2026-11-25T02:00"),
        "Europe/Paris",
    ));
    let at = utc("2026-11-25T01:00:00Z");
    assert_eq!(rule.next_after(now()), Some(at));
    assert_eq!(rule.next_after(at), None);
    assert_eq!(rule.upcoming(now(), 5), vec![at]);
    assert_eq!(
        rule.spec().scheduled_time.as_deref(),
        Some("2026-11-25T02:00:00+01:00")
    );
    assert_eq!(rule.describe(), "Once at 2026-11-25 02:00 (Europe/Paris)");
}

#[test]
fn once_accepts_the_usual_iso_8601_spellings() {
    let cases = [
        ("2026-11-25T02:00:00+01:00", "2026-11-25T01:00:00Z"),
        ("2026-11-25T02:00+01:00", "2026-11-25T01:00:00Z"),
        ("2026-11-25T01:00:00Z", "2026-11-25T01:00:00Z"),
        ("2026-11-25T01:00Z", "2026-11-25T01:00:00Z"),
        ("2026-11-25 02:00", "2026-11-25T01:00:00Z"),
        ("2026-11-25T02:00:00", "2026-11-25T01:00:00Z"),
        // Fractions are dropped so the stored form re-reads to the same instant.
        ("2026-11-25T02:00:00.750+01:00", "2026-11-25T01:00:00Z"),
        // An offset other than the zone's is converted; the stored form uses the zone's offset.
        ("2026-11-25T10:00:00+09:00", "2026-11-25T01:00:00Z"),
    ];
    for (written, expected) in cases {
        let rule = rule(&spec(Frequency::Once, Some(written), "Europe/Paris"));
        assert_eq!(rule.next_after(now()), Some(utc(expected)), "{written}");
        assert_eq!(
            rule.spec().scheduled_time.as_deref(),
            Some("2026-11-25T02:00:00+01:00"),
            "{written}"
        );
    }
}

#[test]
fn once_local_time_in_a_dst_gap_or_overlap() {
    let gap = rule(&spec(
        Frequency::Once,
        Some("2026-03-08T02:30"),
        "America/New_York",
    ));
    assert_eq!(gap.next_after(now()), Some(utc("2026-03-08T07:00:00Z")));
    let overlap = rule(&spec(
        Frequency::Once,
        Some("2026-11-01T01:30"),
        "America/New_York",
    ));
    assert_eq!(overlap.next_after(now()), Some(utc("2026-11-01T05:30:00Z")));
    // The stored offset keeps the first pass when read back.
    assert_eq!(
        overlap.spec().scheduled_time.as_deref(),
        Some("2026-11-01T01:30:00-04:00")
    );
}

#[test]
fn once_in_the_past_is_rejected_for_a_new_definition() {
    for past in [
        "2025-12-31T23:59",
        "2026-01-01T00:00:00Z",
        "2020-01-01T00:00:00+00:00",
    ] {
        let errors = problems(&spec(Frequency::Once, Some(past), "UTC"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "scheduled_time");
        assert!(errors[0].1.contains("not in the future"), "{}", errors[0].1);
    }
}

#[test]
fn a_stored_once_spec_reads_back_to_the_same_instant_even_when_past() {
    let original = rule(&spec(
        Frequency::Once,
        Some("2026-03-01T09:15"),
        "Europe/Berlin",
    ));
    let json = serde_json::to_string(original.spec()).unwrap();
    let stored: TimingSpec = serde_json::from_str(&json).unwrap();
    let reread = TimingRule::parse_stored(&stored).unwrap();
    let at = utc("2026-03-01T08:15:00Z");
    assert_eq!(reread.next_after(now()), Some(at));
    assert_eq!(reread.spec(), original.spec());
    // Long after it ran, the stored spec still parses and nothing is left.
    assert_eq!(reread.next_after(utc("2026-06-01T00:00:00Z")), None);
    // `parse` (a new definition) would refuse the same spec once its time has passed.
    assert!(TimingRule::parse(&stored, utc("2026-06-01T00:00:00Z")).is_err());
    // A bare "HH:MM" cannot be a stored once time.
    let errors =
        TimingRule::parse_stored(&spec(Frequency::Once, Some("08:00"), "UTC")).unwrap_err();
    assert_eq!(errors[0].field(), "scheduled_time");
}

// ---------------------------------------------------------------- validation and normalization

#[test]
fn unknown_time_zone_is_reported_on_timezone() {
    let errors = problems(&spec(Frequency::Daily, Some("08:00"), "Mars/Olympus"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "timezone");
    assert!(errors[0].1.contains("Mars/Olympus"), "{}", errors[0].1);
    let errors = problems(&spec(Frequency::Daily, Some("08:00"), " "));
    assert_eq!(errors[0].0, "timezone");
}

#[test]
fn time_zone_spelling_is_canonicalized() {
    let rule = daily("08:00", "europe/berlin");
    assert_eq!(rule.timezone(), Tz::Europe__Berlin);
    assert_eq!(rule.spec().timezone, "Europe/Berlin");
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = problems(&spec(Frequency::Daily, Some("25:00"), "Nowhere/City"));
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["timezone", "scheduled_time"]);
}

#[test]
fn scheduled_time_must_be_hh_mm_for_repeating_frequencies() {
    for frequency in [Frequency::Daily, Frequency::Weekly, Frequency::Monthly] {
        let missing = problems(&spec(frequency, None, "UTC"));
        assert_eq!(missing[0].0, "scheduled_time");
        assert!(missing[0].1.contains("required"), "{}", missing[0].1);
        for bad in [
            "24:00",
            "08:60",
            "8:5",
            "08:00:00",
            "0800",
            "noon",
            "2026-01-01T08:00",
        ] {
            let errors = problems(&spec(frequency, Some(bad), "UTC"));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].0, "scheduled_time", "{bad}");
        }
    }
    // A one-digit hour is accepted and normalized.
    assert_eq!(
        daily("8:05", "UTC").spec().scheduled_time.as_deref(),
        Some("08:05")
    );
    assert_eq!(
        daily("23:59", "UTC").spec().scheduled_time.as_deref(),
        Some("23:59")
    );
    assert_eq!(
        daily("00:00", "UTC").spec().scheduled_time.as_deref(),
        Some("00:00")
    );
}

#[test]
fn once_with_an_unreadable_time_names_scheduled_time() {
    for bad in ["tomorrow", "2026-13-01T00:00", "2026-11-25", ""] {
        let errors = problems(&spec(Frequency::Once, Some(bad), "UTC"));
        assert_eq!(errors.len(), 1, "{bad}");
        assert_eq!(errors[0].0, "scheduled_time", "{bad}");
    }
}

#[test]
fn fields_the_frequency_does_not_use_are_dropped() {
    let everything = TimingSpec {
        frequency: Frequency::Daily,
        scheduled_time: Some("08:00".into()),
        day_of_week: Some(DayOfWeek::Friday),
        day_of_month: Some(DayOfMonth::Last),
        // Ignored for daily: not even validated.
        cron_expression: Some("not a cron".into()),
        timezone: "UTC".into(),
    };
    let daily = rule(&everything);
    assert_eq!(daily.spec(), &spec(Frequency::Daily, Some("08:00"), "UTC"));

    let weekly = rule(&TimingSpec {
        frequency: Frequency::Weekly,
        ..everything.clone()
    });
    assert_eq!(weekly.spec().day_of_week, Some(DayOfWeek::Friday));
    assert_eq!(weekly.spec().day_of_month, None);
    assert_eq!(weekly.spec().cron_expression, None);

    let monthly = rule(&TimingSpec {
        frequency: Frequency::Monthly,
        ..everything.clone()
    });
    assert_eq!(monthly.spec().day_of_month, Some(DayOfMonth::Last));
    assert_eq!(monthly.spec().day_of_week, None);

    let custom = rule(&TimingSpec {
        frequency: Frequency::Custom,
        cron_expression: Some("  0  8 * *   1-5 ".into()),
        ..everything
    });
    assert_eq!(custom.spec(), &custom_spec("0 8 * * 1-5", "UTC"));
}

#[test]
fn custom_requires_a_cron_expression() {
    for missing in [None, Some("   ")] {
        let errors = problems(&TimingSpec {
            cron_expression: missing.map(str::to_owned),
            ..spec(Frequency::Custom, Some("08:00"), "UTC")
        });
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "cron_expression");
        assert!(errors[0].1.contains("required"), "{}", errors[0].1);
    }
}

#[test]
fn stored_specs_of_every_frequency_round_trip() {
    let specs = [
        spec(Frequency::Daily, Some("08:00"), "Europe/Berlin"),
        spec(Frequency::Weekly, Some("09:30"), "UTC"),
        spec(Frequency::Monthly, Some("02:00"), "America/New_York"),
        spec(Frequency::Once, Some("07:45"), "Asia/Tokyo"),
        custom_spec("*/15 9-17 * * MON-FRI", "Europe/London"),
    ];
    for original in specs {
        let parsed = rule(&original);
        let stored: TimingSpec =
            serde_json::from_value(serde_json::to_value(parsed.spec()).unwrap()).unwrap();
        let reread = TimingRule::parse_stored(&stored).unwrap();
        assert_eq!(reread.spec(), parsed.spec());
        assert_eq!(reread.upcoming(now(), 5), parsed.upcoming(now(), 5));
    }
}

// ---------------------------------------------------------------- cron syntax

#[test]
fn cron_out_of_range_values_name_the_field() {
    assert_eq!(
        cron_error("61 * * * *"),
        "minute field '61' is out of range 0-59"
    );
    assert_eq!(
        cron_error("0 24 * * *"),
        "hour field '24' is out of range 0-23"
    );
    assert_eq!(
        cron_error("0 0 0 * *"),
        "day-of-month field '0' is out of range 1-31"
    );
    assert_eq!(
        cron_error("0 0 32 * *"),
        "day-of-month field '32' is out of range 1-31"
    );
    assert_eq!(
        cron_error("0 0 * 13 *"),
        "month field '13' is out of range 1-12"
    );
    assert_eq!(
        cron_error("0 0 * * 8"),
        "day-of-week field '8' is out of range 0-7"
    );
    assert_eq!(
        cron_error("0,61 * * * *"),
        "minute field '0,61': 61 is out of range 0-59"
    );
    assert_eq!(
        cron_error("0 9-25 * * *"),
        "hour field '9-25': 25 is out of range 0-23"
    );
    assert_eq!(
        cron_error("0 0 * * 99999999999"),
        "day-of-week field '99999999999' is out of range 0-7"
    );
}

#[test]
fn cron_syntax_errors_name_the_field() {
    let cases = [
        ("* * * *", "expected 5 fields"),
        ("0 * * * * *", "expected 5 fields"),
        ("0 0 1 1 * 2030", "expected 5 fields"),
        ("5-1 * * * *", "minute field '5-1' is a backward range"),
        (
            "0 0 * * FRI-MON",
            "day-of-week field 'FRI-MON' is a backward range",
        ),
        ("*/0 * * * *", "minute field '*/0' has a step of 0"),
        (
            "*/x * * * *",
            "minute field '*/x' has a step that is not a positive number",
        ),
        ("1-2-3 * * * *", "minute field '1-2-3' is not a valid range"),
        ("1- * * * *", "minute field '1-' is not a valid range"),
        ("*-5 * * * *", "minute field '*-5' is not a valid range"),
        ("1,,2 * * * *", "minute field '1,,2' has an empty list item"),
        ("a * * * *", "minute field 'a' is not a number"),
        ("0 0 * MON *", "month field 'MON' is not a month name"),
        (
            "0 0 * * JAN",
            "day-of-week field 'JAN' is not a weekday name",
        ),
        (
            "0 0 * * MONDAY",
            "day-of-week field 'MONDAY' is not a weekday name",
        ),
        ("0 0 JAN * *", "day-of-month field 'JAN' is not a number"),
        ("1.5 * * * *", "minute field '1.5' is not a number"),
        // Found by croner; we only say which field.
        (
            "5/15 * * * *",
            "minute field '5/15' is not valid: Invalid step syntax",
        ),
        ("@reboot", "unknown alias '@reboot'"),
        ("@daily 5", "unknown alias '@daily 5'"),
    ];
    for (expression, expected) in cases {
        let message = cron_error(expression);
        assert!(message.starts_with(expected), "{expression}: {message}");
    }
}

#[test]
fn cron_extensions_of_croner_are_rejected_as_non_standard() {
    let cases = [
        ("0 0 L * *", "day-of-month field 'L' uses 'L'"),
        ("0 0 LW * *", "day-of-month field 'LW' uses 'W'"),
        ("0 0 15W * *", "day-of-month field '15W' uses 'W'"),
        ("0 0 * * 5L", "day-of-week field '5L' uses 'L'"),
        ("0 0 * * FRI#2", "day-of-week field 'FRI#2' uses '#'"),
        ("0 0 ? * MON", "day-of-month field '?' uses '?'"),
        ("0 0 * * +MON", "day-of-week field '+MON' is not a number"),
    ];
    for (expression, expected) in cases {
        let message = cron_error(expression);
        assert!(message.starts_with(expected), "{expression}: {message}");
        if expected.contains("uses") {
            assert!(message.contains("non-standard cron extension"), "{message}");
        }
    }
}

#[test]
fn cron_that_can_never_fire_is_rejected() {
    for expression in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 2 *"] {
        let message = cron_error(expression);
        assert!(message.contains("can never run"), "{expression}: {message}");
    }
    // February 29 does fire, every four years.
    let leap = cron("0 12 29 2 *", "UTC");
    assert_eq!(
        leap.upcoming(utc("2026-01-01T00:00:00Z"), 2),
        times(&["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"])
    );
    // Across a skipped leap year (2100) too.
    assert_eq!(
        leap.next_after(utc("2096-03-01T00:00:00Z")),
        Some(utc("2104-02-29T12:00:00Z"))
    );
}

#[test]
fn cron_field_error_is_a_field_error_with_the_field_prefix() {
    let error = TimingRule::parse(&custom_spec("61 * * * *", "UTC"), now()).unwrap_err();
    assert_eq!(error[0].loc, ["body", "cron_expression"]);
    assert_eq!(error[0].kind, "value_error");
    assert_eq!(
        error[0].to_string(),
        "cron_expression: minute field '61' is out of range 0-59"
    );
}

// ---------------------------------------------------------------- cron semantics (Vixie)

#[test]
fn cron_steps_ranges_and_lists() {
    assert_eq!(
        cron("0 */6 * * *", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 4),
        times(&[
            "2026-01-01T06:00:00Z",
            "2026-01-01T12:00:00Z",
            "2026-01-01T18:00:00Z",
            "2026-01-02T00:00:00Z"
        ])
    );
    assert_eq!(
        cron("1-10/3 0 * * *", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 5),
        times(&[
            "2026-01-01T00:01:00Z",
            "2026-01-01T00:04:00Z",
            "2026-01-01T00:07:00Z",
            "2026-01-01T00:10:00Z",
            "2026-01-02T00:01:00Z",
        ])
    );
    assert_eq!(
        cron("15,45 9 * * *", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 3),
        times(&[
            "2026-01-01T09:15:00Z",
            "2026-01-01T09:45:00Z",
            "2026-01-02T09:15:00Z"
        ])
    );
}

#[test]
fn cron_weekday_and_month_names_in_any_case() {
    // 2026-01-02 is a Friday.
    let weekdays = cron("0 8 * * mon-fri", "UTC");
    assert_eq!(
        weekdays.next_after(utc("2026-01-02T08:00:00Z")),
        Some(utc("2026-01-05T08:00:00Z"))
    );
    assert_eq!(
        weekdays.spec().cron_expression.as_deref(),
        Some("0 8 * * mon-fri")
    );
    assert_eq!(
        cron("0 0 1 JAN,Jul *", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 2),
        times(&["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"])
    );
    assert_eq!(
        cron("0 0 * * FRI-SUN", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 4),
        times(&[
            "2026-01-02T00:00:00Z",
            "2026-01-03T00:00:00Z",
            "2026-01-04T00:00:00Z",
            "2026-01-09T00:00:00Z"
        ])
    );
}

#[test]
fn cron_sunday_is_0_or_7() {
    let expected = times(&["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]);
    for expression in [
        "0 0 * * 0",
        "0 0 * * 7",
        "0 0 * * SUN",
        "0 0 * * 6-7",
        "0 0 * * 0,6",
    ] {
        let upcoming = cron(expression, "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 4);
        let sundays: Vec<_> = upcoming
            .into_iter()
            .filter(|t| t.weekday() == Weekday::Sun)
            .collect();
        assert_eq!(sundays[..2], expected[..], "{expression}");
    }
}

#[test]
fn cron_day_fields_are_ored_when_both_are_restricted() {
    // The 1st of the month, and every Monday.
    assert_eq!(
        cron("0 0 1 * MON", "UTC").upcoming(utc("2026-01-25T00:00:00Z"), 3),
        times(&[
            "2026-01-26T00:00:00Z", // Monday
            "2026-02-01T00:00:00Z", // the 1st, a Sunday
            "2026-02-02T00:00:00Z", // Monday
        ])
    );
    // As in Vixie cron, a day field beginning with `*` counts as unrestricted, so the fields are AND-ed: odd days
    // that are Mondays.
    assert_eq!(
        cron("0 0 */2 * MON", "UTC").upcoming(utc("2026-01-01T00:00:00Z"), 3),
        times(&[
            "2026-01-05T00:00:00Z",
            "2026-01-19T00:00:00Z",
            "2026-02-09T00:00:00Z"
        ])
    );
}

#[test]
fn cron_aliases() {
    let after = utc("2026-01-01T00:30:00Z"); // a Thursday
    let cases = [
        ("@hourly", "2026-01-01T01:00:00Z"),
        ("@daily", "2026-01-02T00:00:00Z"),
        ("@weekly", "2026-01-04T00:00:00Z"),
        ("@monthly", "2026-02-01T00:00:00Z"),
        ("@yearly", "2027-01-01T00:00:00Z"),
        ("@ANNUALLY", "2027-01-01T00:00:00Z"),
    ];
    for (alias, expected) in cases {
        let rule = cron(alias, "UTC");
        assert_eq!(rule.next_after(after), Some(utc(expected)), "{alias}");
        assert_eq!(rule.spec().cron_expression.as_deref(), Some(alias));
    }
}

// ---------------------------------------------------------------- cron and DST

#[test]
fn fixed_cron_times_in_the_spring_gap_run_at_the_end_of_the_gap() {
    let after = utc("2026-03-08T05:00:00Z"); // 00:00 EST
    let ny = "America/New_York";
    assert_eq!(
        cron("30 2 * * *", ny).next_after(after),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    // Multi-valued fixed times: croner alone would skip these; both land on 03:00 EDT and run once.
    assert_eq!(
        cron("0,30 2 * * *", ny).upcoming(after, 3),
        times(&[
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:00:00Z",
            "2026-03-09T06:30:00Z"
        ])
    );
    assert_eq!(
        cron("30 1,2 * * *", ny).upcoming(after, 3),
        times(&[
            "2026-03-08T06:30:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-09T05:30:00Z"
        ])
    );
    // A fixed hour range is fixed too: 02:00 joins 03:00 at the gap's end.
    assert_eq!(
        cron("0 1-3 * * *", ny).upcoming(after, 3),
        times(&[
            "2026-03-08T06:00:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-09T05:00:00Z"
        ])
    );
}

#[test]
fn fixed_cron_times_on_the_fall_back_day_run_once() {
    let after = utc("2026-11-01T04:00:00Z"); // 00:00 EDT
    let ny = "America/New_York";
    assert_eq!(
        cron("30 1 * * *", ny).upcoming(after, 2),
        times(&["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
    );
    assert_eq!(
        cron("30 1,2 * * *", ny).upcoming(after, 3),
        times(&[
            "2026-11-01T05:30:00Z",
            "2026-11-01T07:30:00Z",
            "2026-11-02T06:30:00Z"
        ])
    );
    assert_eq!(
        cron("0,30 1 * * *", ny).upcoming(after, 3),
        times(&[
            "2026-11-01T05:00:00Z",
            "2026-11-01T05:30:00Z",
            "2026-11-02T06:00:00Z"
        ])
    );
}

#[test]
fn wall_clock_cron_has_no_runs_in_the_spring_gap() {
    let ny = "America/New_York";
    assert_eq!(
        cron("*/15 * * * *", ny).upcoming(utc("2026-03-08T06:30:00Z"), 3),
        times(&[
            "2026-03-08T06:45:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:15:00Z"
        ])
    );
    assert_eq!(
        cron("30 */2 * * *", ny).upcoming(utc("2026-03-08T05:00:00Z"), 2),
        times(&["2026-03-08T05:30:00Z", "2026-03-08T08:30:00Z"]) // 00:30 EST, then 04:30 EDT: no 02:30
    );
    assert_eq!(
        cron("0 * * * *", ny).upcoming(utc("2026-03-08T05:30:00Z"), 2),
        times(&["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"]) // 01:00 EST, 03:00 EDT
    );
    // Lord Howe skips 02:00-02:30: 01:40 (+10:30), then 02:40 (+11:00).
    assert_eq!(
        cron("*/20 * * * *", "Australia/Lord_Howe").upcoming(utc("2026-10-03T15:00:00Z"), 2),
        times(&["2026-10-03T15:10:00Z", "2026-10-03T15:40:00Z"])
    );
}

#[test]
fn wall_clock_cron_runs_in_both_passes_of_the_repeated_hour() {
    let ny = "America/New_York";
    assert_eq!(
        cron("30 * * * *", ny).upcoming(utc("2026-11-01T04:00:00Z"), 4),
        times(&[
            "2026-11-01T04:30:00Z", // 00:30 EDT
            "2026-11-01T05:30:00Z", // 01:30 EDT
            "2026-11-01T06:30:00Z", // 01:30 EST
            "2026-11-01T07:30:00Z", // 02:30 EST
        ])
    );
    assert_eq!(
        cron("@hourly", ny).upcoming(utc("2026-11-01T04:30:00Z"), 3),
        times(&[
            "2026-11-01T05:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T07:00:00Z"
        ])
    );
    // Starting inside the second pass still finds its remaining runs.
    assert_eq!(
        cron("*/20 * * * *", ny).upcoming(utc("2026-11-01T06:10:00Z"), 3),
        times(&[
            "2026-11-01T06:20:00Z",
            "2026-11-01T06:40:00Z",
            "2026-11-01T07:00:00Z"
        ])
    );
    // Lord Howe repeats 01:30-02:00 local.
    assert_eq!(
        cron("45 1 * * *", "Australia/Lord_Howe").upcoming(utc("2026-04-04T14:00:00Z"), 1),
        times(&["2026-04-04T14:45:00Z"]),
        "fixed: first pass only"
    );
    assert_eq!(
        cron("45 * * * *", "Australia/Lord_Howe").upcoming(utc("2026-04-04T14:00:00Z"), 2),
        times(&["2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z"]),
        "wall clock: both passes"
    );
}

#[test]
fn cron_in_berlin_follows_local_time() {
    let rule = cron("0 8 * * 1-5", "Europe/Berlin");
    assert_eq!(
        rule.next_after(utc("2026-01-05T00:00:00Z")),
        Some(utc("2026-01-05T07:00:00Z"))
    );
    assert_eq!(
        rule.next_after(utc("2026-07-06T00:00:00Z")),
        Some(utc("2026-07-06T06:00:00Z"))
    );
}

// ---------------------------------------------------------------- croner itself

/// The behaviour of croner we rely on (or deliberately override), checked so a croner upgrade cannot change our
/// semantics unnoticed.
#[test]
fn croner_matches_vixie_rules_where_we_use_it() {
    let parser = croner_parser();
    let at = |text: &str| utc(text);
    let matches = |expression: &str, t: &str| {
        parser
            .parse(expression)
            .unwrap()
            .is_time_matching(&at(t))
            .unwrap()
    };
    // OR of restricted day fields: the 1st (a Thursday) and Mondays.
    assert!(matches("0 0 1 * MON", "2026-01-01T00:00:00Z"));
    assert!(matches("0 0 1 * MON", "2026-01-05T00:00:00Z"));
    assert!(!matches("0 0 1 * MON", "2026-01-06T00:00:00Z"));
    // 7 and 0 are Sunday; names work; ranges ending in SUN include Sunday.
    assert!(matches("0 0 * * 7", "2026-01-04T00:00:00Z"));
    assert!(matches("0 0 * * 0", "2026-01-04T00:00:00Z"));
    assert!(matches("0 0 * * FRI-SUN", "2026-01-04T00:00:00Z"));
    assert!(matches("0 0 * FEB *", "2026-02-10T00:00:00Z"));
    // Steps.
    let hours = parser.parse("0 */6 * * *").unwrap().pattern.hours.values();
    assert_eq!(hours, [0, 6, 12, 18]);
    let minutes = parser
        .parse("1-10/3 * * * *")
        .unwrap()
        .pattern
        .minutes
        .values();
    assert_eq!(minutes, [1, 4, 7, 10]);
    // Five fields only.
    assert!(parser.parse("0 0 0 * * *").is_err());

    // Where croner differs and our wrapper decides instead:
    // - it ORs `*/2` with a weekday (Vixie ANDs: the field begins with `*`); 2026-01-12 is an even Monday.
    assert!(matches("0 0 */2 * MON", "2026-01-12T00:00:00Z"));
    assert_eq!(
        cron("0 0 */2 * MON", "UTC").next_after(at("2026-01-11T00:00:00Z")),
        Some(at("2026-01-19T00:00:00Z"))
    );
    // - it reads names anywhere (MON in the month field is January) and accepts L/W/#/?.
    assert!(matches("0 0 * MON *", "2026-01-10T00:00:00Z"));
    for extension in ["0 0 L * *", "0 0 15W * *", "0 0 * * 5#2", "0 0 ? * 1"] {
        assert!(parser.parse(extension).is_ok(), "{extension}");
        assert!(CronExpression::parse(extension).is_err(), "{extension}");
    }
    // - it does not reject an expression that can never fire.
    assert!(parser.parse("0 0 30 2 *").is_ok());
}

#[test]
fn cron_expression_reports_its_kind() {
    assert!(
        CronExpression::parse("0,30 2 * * *")
            .unwrap()
            .is_fixed_time()
    );
    assert!(
        CronExpression::parse("0 9-17 * * *")
            .unwrap()
            .is_fixed_time()
    );
    assert!(CronExpression::parse("@daily").unwrap().is_fixed_time());
    assert!(
        !CronExpression::parse("*/15 * * * *")
            .unwrap()
            .is_fixed_time()
    );
    assert!(
        !CronExpression::parse("30 */2 * * *")
            .unwrap()
            .is_fixed_time()
    );
    assert!(!CronExpression::parse("@hourly").unwrap().is_fixed_time());
    let expression = CronExpression::parse("15,45 9 * * *").unwrap();
    assert_eq!(
        expression.times_of_day(),
        [
            NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
            NaiveTime::from_hms_opt(9, 45, 0).unwrap()
        ]
    );
}

// ---------------------------------------------------------------- coalescing

#[test]
fn coalesce_a_week_of_missed_minutes_into_one_run() {
    let rule = cron("* * * * *", "UTC");
    let (run, next) = rule.coalesce(utc("2026-01-01T00:00:00Z"), utc("2026-01-08T00:00:30Z"));
    assert_eq!(run, utc("2026-01-08T00:00:00Z"));
    assert_eq!(next, Some(utc("2026-01-08T00:01:00Z")));

    // A year of downtime costs no more.
    let (run, next) = rule.coalesce(utc("2025-01-01T00:00:00Z"), utc("2026-01-01T12:34:56Z"));
    assert_eq!(run, utc("2026-01-01T12:34:00Z"));
    assert_eq!(next, Some(utc("2026-01-01T12:35:00Z")));
}

#[test]
fn coalesce_daily_and_monthly() {
    let rule = daily("08:00", "Europe/Berlin");
    let first_due = utc("2026-01-01T07:00:00Z");
    // Now is past today's run: run today's, next is tomorrow.
    assert_eq!(
        rule.coalesce(first_due, utc("2026-01-10T12:00:00Z")),
        (
            utc("2026-01-10T07:00:00Z"),
            Some(utc("2026-01-11T07:00:00Z"))
        )
    );
    // Now is before today's run: run yesterday's, next is today's.
    assert_eq!(
        rule.coalesce(first_due, utc("2026-01-10T06:00:00Z")),
        (
            utc("2026-01-09T07:00:00Z"),
            Some(utc("2026-01-10T07:00:00Z"))
        )
    );
    // Nothing missed beyond the first: it is the run.
    assert_eq!(
        rule.coalesce(first_due, first_due),
        (first_due, Some(utc("2026-01-02T07:00:00Z")))
    );
    let monthly = monthly(Some(DayOfMonth::Day(31)), "02:00");
    assert_eq!(
        monthly.coalesce(utc("2026-01-31T02:00:00Z"), utc("2029-03-15T00:00:00Z")),
        (
            utc("2029-02-28T02:00:00Z"),
            Some(utc("2029-03-31T02:00:00Z"))
        )
    );
}

#[test]
fn coalesce_once_and_a_first_due_that_is_not_an_occurrence() {
    let once = rule(&spec(Frequency::Once, Some("2026-02-01T10:00:00Z"), "UTC"));
    let at = utc("2026-02-01T10:00:00Z");
    assert_eq!(once.coalesce(at, utc("2026-03-01T00:00:00Z")), (at, None));

    // The schedule was edited to a later time of day than the one that was due: the due one still runs.
    let rule = daily("23:00", "UTC");
    let due = utc("2026-01-01T08:00:00Z");
    assert_eq!(
        rule.coalesce(due, utc("2026-01-01T09:00:00Z")),
        (due, Some(utc("2026-01-01T23:00:00Z")))
    );
}

#[test]
fn coalesce_wall_clock_cron_across_the_repeated_hour() {
    let rule = cron("*/30 * * * *", "America/New_York");
    // Now is in the second pass of 01:xx (01:40 EST): the latest run is 01:30 EST.
    assert_eq!(
        rule.coalesce(utc("2026-11-01T04:00:00Z"), utc("2026-11-01T06:40:00Z")),
        (
            utc("2026-11-01T06:30:00Z"),
            Some(utc("2026-11-01T07:00:00Z"))
        )
    );
}

// ---------------------------------------------------------------- description

#[test]
fn describe_every_frequency() {
    assert_eq!(
        daily("08:00", "Europe/Berlin").describe(),
        "Daily at 08:00 (Europe/Berlin)"
    );
    let cases = [
        ("0 8 * * 1-5", "Weekdays at 08:00 (UTC)"),
        ("0 8 * * MON-FRI", "Weekdays at 08:00 (UTC)"),
        ("30 10 * * 0,6", "Weekends at 10:30 (UTC)"),
        ("0 9 * * 3", "Every Wednesday at 09:00 (UTC)"),
        ("@weekly", "Every Sunday at 00:00 (UTC)"),
        ("@daily", "Daily at 00:00 (UTC)"),
        ("15 6 * * *", "Daily at 06:15 (UTC)"),
        ("0 9 15 * *", "Monthly on day 15 at 09:00 (UTC)"),
        ("@yearly", "Yearly on January 1 at 00:00 (UTC)"),
        ("@hourly", "Hourly at minute 0 (UTC)"),
        ("*/15 * * * *", "Every 15 minutes (UTC)"),
        ("* * * * *", "Every minute (UTC)"),
        ("*/7 * * * *", "Cron `*/7 * * * *` (UTC)"),
        ("5 4 * * 0,3", "Cron `5 4 * * 0,3` (UTC)"),
        ("0 0 1 * MON", "Cron `0 0 1 * MON` (UTC)"),
        ("0 9-17 * * *", "Cron `0 9-17 * * *` (UTC)"),
    ];
    for (expression, expected) in cases {
        assert_eq!(cron(expression, "UTC").describe(), expected, "{expression}");
    }
}

// ---------------------------------------------------------------- strictness

#[test]
fn next_after_is_strict_and_upcoming_is_increasing() {
    for rule in [
        daily("00:00", "Pacific/Apia"),
        cron("*/15 * * * *", "America/New_York"),
        cron("0,30 1-3 * * *", "America/New_York"),
        cron("*/20 * * * *", "Australia/Lord_Howe"),
        monthly(Some(DayOfMonth::Last), "23:59"),
    ] {
        for start in [
            "2026-03-07T00:00:00Z",
            "2026-10-31T00:00:00Z",
            "2026-04-04T00:00:00Z",
        ] {
            let upcoming = rule.upcoming(utc(start), 200);
            assert_eq!(upcoming.len(), 200);
            assert!(upcoming[0] > utc(start));
            assert!(
                upcoming.windows(2).all(|w| w[0] < w[1]),
                "{}",
                rule.describe()
            );
        }
    }
}
