//! The policies a schedule lives by: when repeated failures disable it, why a schedule was disabled, and how many
//! runs its history keeps by default (the retention rule itself is [`crate::domain::run::RunRetention`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// After this many failed runs in a row a schedule is disabled (`FAILED`).
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// Runs kept per schedule unless configured otherwise.
pub const DEFAULT_RUN_HISTORY: u32 = 50;

/// Why a schedule was disabled (`FAILED`). Shown with the schedule and in its `schedule-disabled` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DisabledReason {
    /// Its last [`MAX_CONSECUTIVE_FAILURES`] runs failed.
    RepeatedFailures { failures: u32 },
    /// Its stored definition no longer parses (say its time zone left the tz database), so it can never run.
    InvalidDefinition { problem: String },
}

impl DisabledReason {
    /// A short phrase for subjects: "after 5 failed runs in a row".
    pub fn headline(&self) -> String {
        match self {
            Self::RepeatedFailures { failures } => format!("after {failures} failed runs in a row"),
            Self::InvalidDefinition { .. } => "because its definition is no longer valid".into(),
        }
    }

    /// What to do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            Self::RepeatedFailures { .. } => {
                "Fix the cause (engine, Sentinel connectivity, the query), then resume the schedule."
            }
            Self::InvalidDefinition { .. } => "Edit the schedule's timing, then resume it.",
        }
    }
}

impl fmt::Display for DisabledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RepeatedFailures { failures } => {
                write!(f, "disabled after {failures} failed runs in a row")
            }
            Self::InvalidDefinition { problem } => {
                write!(
                    f,
                    "disabled because its stored definition is no longer valid: {problem}"
                )
            }
        }
    }
}
