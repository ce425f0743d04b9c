//! What the dispatch benchmarks share: reading a setting from the environment and the schedule they seed.

use chrono::{DateTime, Duration, Utc};
use shared::domain::Schedule;

/// The environment variable `name` parsed as `T`, or `default` when it is unset or does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `i`-th benchmark schedule: the store contract's daily 08:00 fixture, due 30 s before `now` when `due`, else
/// in 12 hours.
pub fn schedule(i: usize, now: DateTime<Utc>, due: bool) -> Schedule {
    let mut s = tests::store_contract::schedule(
        &format!("sch_bench{i:08}"),
        &format!("user{}", i % 50),
        now - Duration::days(1),
    );
    s.next_run_at = Some(if due {
        now - Duration::seconds(30)
    } else {
        now + Duration::hours(12)
    });
    s
}
