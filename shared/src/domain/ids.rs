//! Identifiers. Schedule and manual-run ids are ULIDs (time-ordered, opaque); a scheduled run's id is derived
//! from its schedule and occurrence so that two claims of the same occurrence collide.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

string_id!(
    /// `sch_<ULID>`.
    ScheduleId
);
string_id!(
    /// `run_<schedule ulid>_<occurrence>` for scheduled runs, `run_<ULID>` for manual ones.
    RunId
);
string_id!(
    /// `ntf_<run id>_<event>`: one notification per run and event, so a replayed outbox entry overwrites itself.
    NotificationId
);

impl ScheduleId {
    pub fn generate(now: DateTime<Utc>) -> Self {
        Self(format!("sch_{}", ulid_at(now)))
    }
}

impl RunId {
    /// The id of the run for one scheduled occurrence: the same inputs always give the same id.
    pub fn scheduled(schedule: &ScheduleId, occurrence: DateTime<Utc>) -> Self {
        let tail = schedule
            .as_str()
            .strip_prefix("sch_")
            .unwrap_or(schedule.as_str());
        Self(format!("run_{tail}_{}", occurrence.format("%Y%m%dT%H%MZ")))
    }

    pub fn manual(now: DateTime<Utc>) -> Self {
        Self(format!("run_{}", ulid_at(now)))
    }
}

fn ulid_at(now: DateTime<Utc>) -> ulid::Ulid {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    ulid::Ulid::from_parts(millis, rand_bits())
}

fn rand_bits() -> u128 {
    // ULID's own generator is seeded from the OS; we only need its random part.
    ulid::Ulid::new().random()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn scheduled_run_ids_are_deterministic_and_distinct_per_occurrence() {
        let s = ScheduleId::from("sch_01ABC");
        let t1 = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
        let t2 = Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).unwrap();
        assert_eq!(RunId::scheduled(&s, t1), RunId::scheduled(&s, t1));
        assert_ne!(RunId::scheduled(&s, t1), RunId::scheduled(&s, t2));
        assert_eq!(
            RunId::scheduled(&s, t1).as_str(),
            "run_01ABC_20260101T0800Z"
        );
    }

    #[test]
    fn generated_ids_are_time_ordered() {
        let a = ScheduleId::generate(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let b = ScheduleId::generate(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 1).unwrap());
        assert!(a < b, "{a} < {b}");
        assert!(a.as_str().starts_with("sch_"));
    }
}
