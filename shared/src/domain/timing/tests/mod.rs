//! Tests for the timing rules, all from fixed instants, one file per module under test; the helpers below build
//! specs and rules. DST dates used: America/New_York springs forward on 2026-03-08 (02:00 EST → 03:00 EDT) and
//! falls back on 2026-11-01 (02:00 EDT → 01:00 EST); Europe/Berlin on 2026-03-29 and 2026-10-25;
//! Australia/Lord_Howe shifts by 30 minutes on 2026-10-04 (02:00 → 02:30) and 2026-04-05 (02:00 → 01:30).

mod cron;
mod input;
mod rules;
mod window;

use super::*;
use chrono::{DateTime, Utc};

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
        .map(|e| (e.field.to_owned(), e.message))
        .collect()
}

fn cron_error(expression: &str) -> String {
    let errors = problems(&custom_spec(expression, "UTC"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "cron_expression");
    errors[0].1.clone()
}
