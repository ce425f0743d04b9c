//! Unit-test wiring: the use cases on the in-memory twins with a clock the test moves.

use crate::domain::{Caller, Role};
use chrono::{DateTime, TimeZone, Utc};

pub use crate::adapters::memory::{MemoryWorld as World, analyst, daily_schedule as daily};

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid test instant")
}

pub fn admin() -> Caller {
    Caller {
        user: "root".into(),
        role: Role::Admin,
    }
}
