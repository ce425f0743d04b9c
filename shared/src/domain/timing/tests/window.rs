//! Data windows from a fixed clock: every frequency, DST, lookback, settlement delay, the catch-up bound, and the
//! ISO-8601 durations that set them.

use super::*;
use chrono::Duration;

fn settings() -> WindowSettings {
    WindowSettings {
        lookback: None,
        settlement_delay: IsoDuration::ZERO,
        max_catchup: DEFAULT_MAX_CATCHUP,
    }
}

fn d(text: &str) -> IsoDuration {
    IsoDuration::parse("f", text).unwrap()
}

fn w(start: &str, end: &str) -> Window {
    Window::new(utc(start), utc(end))
}

#[test]
fn a_first_window_is_one_nominal_interval_for_every_frequency() {
    let created = utc("2026-01-01T00:00:00Z");
    let weekly = TimingSpec {
        day_of_week: Some(DayOfWeek::Wednesday),
        ..spec(Frequency::Weekly, Some("08:00"), "UTC")
    };
    let monthly = TimingSpec {
        day_of_month: Some(DayOfMonth::Day(1)),
        ..spec(Frequency::Monthly, Some("08:00"), "UTC")
    };
    let once = spec(Frequency::Once, Some("2026-01-05T08:00:00Z"), "UTC");
    for (rule, occurrence, expected) in [
        (
            daily("08:00", "UTC"),
            "2026-01-07T08:00:00Z",
            w("2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z"),
        ),
        (
            rule(&weekly),
            "2026-01-07T08:00:00Z",
            w("2025-12-31T08:00:00Z", "2026-01-07T08:00:00Z"),
        ),
        // February's window is January's 31 days.
        (
            rule(&monthly),
            "2026-02-01T08:00:00Z",
            w("2026-01-01T08:00:00Z", "2026-02-01T08:00:00Z"),
        ),
        (
            cron("*/15 * * * *", "UTC"),
            "2026-01-07T08:15:00Z",
            w("2026-01-07T08:00:00Z", "2026-01-07T08:15:00Z"),
        ),
        (
            cron("0 8 * * 1-5", "UTC"),
            "2026-01-05T08:00:00Z",
            w("2026-01-02T08:00:00Z", "2026-01-05T08:00:00Z"),
        ),
        // A one-time schedule looks at everything since it was created.
        (
            rule(&once),
            "2026-01-05T08:00:00Z",
            w("2026-01-01T00:00:00Z", "2026-01-05T08:00:00Z"),
        ),
    ] {
        let got = rule.scheduled_window(&settings(), utc(occurrence), None, created);
        assert_eq!(got.window, expected, "{}", rule.describe());
        assert_eq!(got.missed, None);
    }
}

#[test]
fn scheduled_windows_are_contiguous_from_the_previous_end() {
    let rule = daily("08:00", "UTC");
    let mut previous = None;
    let mut windows = Vec::new();
    for day in [
        "2026-01-06T08:00:00Z",
        "2026-01-07T08:00:00Z",
        "2026-01-08T08:00:00Z",
    ] {
        let got = rule.scheduled_window(&settings(), utc(day), previous, now());
        previous = Some(got.window.end);
        windows.push(got.window);
    }
    assert_eq!(windows[1].start, windows[0].end);
    assert_eq!(windows[2].start, windows[1].end);
    assert_eq!(
        windows[2],
        w("2026-01-07T08:00:00Z", "2026-01-08T08:00:00Z")
    );
}

#[test]
fn a_window_across_the_spring_forward_night_is_23_hours() {
    // Berlin springs forward on 2026-03-29: 08:00 CET on the 28th is 07:00Z, 08:00 CEST on the 29th is 06:00Z.
    let rule = daily("08:00", "Europe/Berlin");
    let got = rule.scheduled_window(&settings(), utc("2026-03-29T06:00:00Z"), None, now());
    assert_eq!(
        got.window,
        w("2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z")
    );
    assert_eq!(got.window.len(), Duration::hours(23));
    // And the fall-back night is 25 hours.
    let got = rule.scheduled_window(&settings(), utc("2026-10-25T07:00:00Z"), None, now());
    assert_eq!(got.window.len(), Duration::hours(25));
}

#[test]
fn settlement_delay_shifts_the_window_and_lookback_fixes_its_length() {
    let rule = daily("08:00", "UTC");
    let delayed = WindowSettings {
        settlement_delay: d("PT15M"),
        ..settings()
    };
    let got = rule.scheduled_window(
        &delayed,
        utc("2026-01-07T08:00:00Z"),
        Some(utc("2026-01-06T07:45:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-01-06T07:45:00Z", "2026-01-07T07:45:00Z")
    );

    // A weekly hunt that only looks at the last 24 hours: fixed length, and the rest of the week is missed.
    let sliding = WindowSettings {
        lookback: Some(d("PT24H")),
        ..settings()
    };
    let weekly = cron("0 8 * * 3", "UTC");
    let got = weekly.scheduled_window(
        &sliding,
        utc("2026-01-14T08:00:00Z"),
        Some(utc("2026-01-07T08:00:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-01-13T08:00:00Z", "2026-01-14T08:00:00Z")
    );
    assert_eq!(
        got.missed,
        Some(w("2026-01-07T08:00:00Z", "2026-01-13T08:00:00Z"))
    );
    // A lookback longer than the interval overlaps the previous window and misses nothing.
    let long = WindowSettings {
        lookback: Some(d("P2D")),
        ..settings()
    };
    let got = rule.scheduled_window(
        &long,
        utc("2026-01-07T08:00:00Z"),
        Some(utc("2026-01-06T08:00:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-01-05T08:00:00Z", "2026-01-07T08:00:00Z")
    );
    assert_eq!(got.missed, None);
}

#[test]
fn catch_up_spans_the_outage_up_to_max_catchup() {
    let rule = cron("* * * * *", "UTC");
    // Six hours down: one window over all of it.
    let got = rule.scheduled_window(
        &settings(),
        utc("2026-01-07T14:00:00Z"),
        Some(utc("2026-01-07T08:00:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-01-07T08:00:00Z", "2026-01-07T14:00:00Z")
    );
    assert_eq!(got.missed, None);
    // Ten days down with max_catchup P7D: seven days covered, the three before are missed.
    let got = rule.scheduled_window(
        &settings(),
        utc("2026-01-17T08:00:00Z"),
        Some(utc("2026-01-07T08:00:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-01-10T08:00:00Z", "2026-01-17T08:00:00Z")
    );
    assert_eq!(
        got.missed,
        Some(w("2026-01-07T08:00:00Z", "2026-01-10T08:00:00Z"))
    );
    // The bound never cuts a normal window: a monthly schedule still looks at its whole month.
    let monthly = rule_of(Frequency::Monthly);
    let got = monthly.scheduled_window(
        &settings(),
        utc("2026-03-01T08:00:00Z"),
        Some(utc("2026-02-01T08:00:00Z")),
        now(),
    );
    assert_eq!(
        got.window,
        w("2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z")
    );
    assert_eq!(got.missed, None);
}

fn rule_of(frequency: Frequency) -> TimingRule {
    rule(&spec(frequency, Some("08:00"), "UTC"))
}

#[test]
fn a_manual_window_ends_now_and_has_the_nominal_length() {
    let rule = daily("08:00", "UTC");
    let now_ = utc("2026-01-07T10:30:00Z");
    assert_eq!(
        rule.manual_window(&settings(), now_, now()),
        w("2026-01-06T10:30:00Z", "2026-01-07T10:30:00Z")
    );
    let custom = WindowSettings {
        lookback: Some(d("PT1H")),
        settlement_delay: d("PT5M"),
        ..settings()
    };
    assert_eq!(
        rule.manual_window(&custom, now_, now()),
        w("2026-01-07T09:25:00Z", "2026-01-07T10:25:00Z")
    );
}

#[test]
fn iso_durations_parse_strictly_and_print_canonically() {
    for (text, seconds, canonical) in [
        ("PT24H", 86_400, "P1D"),
        ("P7D", 7 * 86_400, "P7D"),
        ("p1w", 7 * 86_400, "P7D"),
        ("PT0S", 0, "PT0S"),
        ("P1DT12H30M", 131_400, "P1DT12H30M"),
        ("PT90S", 90, "PT1M30S"),
    ] {
        let parsed = d(text);
        assert_eq!(parsed.duration().num_seconds(), seconds, "{text}");
        assert_eq!(parsed.to_string(), canonical);
        assert_eq!(d(canonical), parsed);
    }
    for (text, problem) in [
        ("24h", "must start with P"),
        ("P1M", "years and months"),
        ("P1Y", "years and months"),
        ("PT", "nothing follows T"),
        ("P", "no parts"),
        ("PT1H30", "no unit"),
        ("PTH", "no number"),
        ("PT1M1H", "unexpected 'H'"),
        ("P1.5D", "unexpected '.'"),
        ("P999999999999D", "100 years"),
    ] {
        let err = IsoDuration::parse("lookback", text).unwrap_err();
        assert_eq!(err.field, "lookback");
        assert!(err.message.contains(problem), "{text}: {}", err.message);
        assert!(
            err.message.starts_with(&format!("lookback '{text}'")),
            "{}",
            err.message
        );
    }
}
