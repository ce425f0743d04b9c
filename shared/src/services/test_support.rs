//! Unit-test wiring: the use cases on the in-memory twins with a clock the test moves.

use super::NewSchedule;
use crate::domain::timing::Frequency;
use crate::domain::{Caller, Role};
use chrono::{DateTime, TimeZone, Utc};

pub const QUERY: &str =
    "failed sign-ins in the last 24 hours with more than 5 attempts from the same IP";

pub use crate::adapters::memory::MemoryWorld as World;

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid test instant")
}

pub fn analyst(user: &str) -> Caller {
    Caller {
        user: user.into(),
        role: Role::Analyst,
    }
}

pub fn admin() -> Caller {
    Caller {
        user: "root".into(),
        role: Role::Admin,
    }
}

pub fn daily(name: &str, time: &str) -> NewSchedule {
    NewSchedule {
        name: name.into(),
        description: None,
        user_query: QUERY.into(),
        persona: "soc_analyst".into(),
        frequency: Frequency::Daily,
        scheduled_time: Some(time.into()),
        day_of_week: None,
        day_of_month: None,
        cron_expression: None,
        timezone: Some("UTC".into()),
    }
}
