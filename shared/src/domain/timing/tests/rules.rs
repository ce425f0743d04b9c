//! The rules: occurrences of each frequency across DST, cron in local time, coalescing, descriptions and the
//! strictness of `next_after`.

use super::*;
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

#[test]
fn the_backward_scan_finds_exactly_the_occurrences_the_forward_scan_finds() {
    // Coalescing walks dates backwards, `next_after` forwards; across gaps and repeated hours they must agree.
    let rules = [
        daily("02:30", "America/New_York"),
        cron("30 1 * * *", "America/New_York"),
        cron("*/20 1-2 * * *", "America/New_York"),
        cron("0,30 2 * * *", "Australia/Lord_Howe"),
        cron("0 0 29 2 *", "UTC"),
    ];
    let starts = [
        "2026-03-06T00:00:00Z",
        "2026-10-30T00:00:00Z",
        "2026-04-03T00:00:00Z",
        "2026-10-02T00:00:00Z",
    ];
    for rule in &rules {
        for start in starts {
            let runs = rule.upcoming(utc(start), 12);
            assert!(runs.len() >= 2, "{}", rule.describe());
            for pair in runs.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let just_before_b = b - chrono::Duration::seconds(1);
                assert_eq!(
                    rule.coalesce(a, just_before_b),
                    (a, Some(b)),
                    "{}",
                    rule.describe()
                );
                assert_eq!(rule.coalesce(a, b).0, b, "{}", rule.describe());
            }
        }
    }
}
