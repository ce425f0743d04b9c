//! What the dispatch benchmarks share: reading a setting from the environment and the schedule they seed.

use chrono::{DateTime, Duration, Utc};
use shared::domain::timing::{Frequency, TimingSpec};
use shared::domain::{Schedule, ScheduleId, ScheduleStatus};

/// The environment variable `name` parsed as `T`, or `default` when it is unset or does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `i`-th benchmark schedule: a daily 08:00 investigation, due 30 s before `now` when `due`, else in 12 hours.
pub fn schedule(i: usize, now: DateTime<Utc>, due: bool) -> Schedule {
    Schedule {
        id: ScheduleId::from(format!("sch_bench{i:08}")),
        owner: format!("user{}", i % 50),
        name: format!("Bench {i}"),
        description: String::new(),
        user_query:
            "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP".into(),
        persona: "soc_analyst".into(),
        timing: TimingSpec {
            frequency: Frequency::Daily,
            scheduled_time: Some("08:00".into()),
            day_of_week: None,
            day_of_month: None,
            cron_expression: None,
            timezone: "UTC".into(),
        },
        status: ScheduleStatus::Active,
        next_run_at: Some(if due {
            now - Duration::seconds(30)
        } else {
            now + Duration::hours(12)
        }),
        last_run_at: None,
        last_run_status: None,
        consecutive_failures: 0,
        runs_in_flight: 0,
        created_at: now - Duration::days(1),
        updated_at: now - Duration::days(1),
        version: 1,
    }
}
