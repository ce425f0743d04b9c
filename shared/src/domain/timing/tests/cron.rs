//! Cron: the syntax errors and their messages, Vixie semantics, and the croner behaviour we rely on.

use super::*;
use crate::domain::timing::cron::croner_parser;
use chrono::{Datelike, NaiveTime};
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
fn cron_field_error_is_an_input_problem_with_the_field_prefix() {
    let error = TimingRule::parse(&custom_spec("61 * * * *", "UTC"), now()).unwrap_err();
    assert_eq!(error[0].field, "cron_expression");
    assert_eq!(error[0].kind, ProblemKind::Invalid);
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
