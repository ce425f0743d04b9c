//! Reading a spec: `once` times, time zones, `HH:MM`, fields the frequency does not use, and stored specs.

use super::*;
use chrono_tz::Tz;
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
    assert_eq!(errors[0].field, "scheduled_time");
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
